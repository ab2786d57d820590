"""`mlc demo`: build a demo store, run live traffic through it, and open the console on it
(or, `--headless`, run for a while and print a summary).

The demo process owns the store and serves its socket, so `mlc --store DIR …` in another
shell works beside it. Everything it sets up is ordinary, audited engine use (`app.demo`).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer

from app.cli import demo_summary
from app.cli.output import err_console, state
from core.jsonable import to_jsonable

if TYPE_CHECKING:
    from app.demo import DemoScenario, TrafficSimulator
    from app.owner import OwnedStore
    from core.engine import Engine

ALERT_EVAL_S = "5"
"""The demo's alert evaluation period (MLC_ALERT_EVAL_S, unless already set): short enough
that the drift alert fires within about half a minute of the episode."""
STATUS_EVERY_S = 15.0


class _Closing(Exception):
    """The console closed while the demo was still being built: stop building."""


class _Interrupted(KeyboardInterrupt):
    """Ctrl+C or SIGTERM in a headless demo.

    A subclass, not KeyboardInterrupt itself: when a KeyboardInterrupt of that exact type
    passes through code a native library runs with PyRun_String (pyo3 and pybind11 do), even
    if it is caught, CPython marks it unhandled and a `python -m app` process then ends by
    SIGINT instead of with the exit code the demo returns (seen in CI as -2, not 130)."""


def demo(
    ctx: typer.Context,
    store: Annotated[
        Path | None,
        typer.Option(
            "--store",
            file_okay=False,
            help="Build the demo in this store directory (default: a new temporary directory).",
        ),
    ] = None,
    headless: Annotated[
        bool, typer.Option("--headless", help="No console: run the traffic, print a summary.")
    ] = False,
    duration: Annotated[
        float | None,
        typer.Option(
            min=1,
            help="With --headless: seconds of traffic before the summary (default: until Ctrl+C).",
        ),
    ] = None,
    rate: Annotated[
        float, typer.Option(min=1, max=5000, help="Predictions per second, all models together.")
    ] = 200.0,
    drift_after: Annotated[
        float,
        typer.Option(
            "--drift-after", min=0, help="Seconds of traffic before the drift episode starts."
        ),
    ] = 120.0,
    drift_duration: Annotated[
        float,
        typer.Option("--drift-duration", min=1, help="Seconds the drift episode lasts."),
    ] = 90.0,
    json_output: Annotated[
        bool,
        typer.Option("--json", help="With --headless: print the summary as one JSON document."),
    ] = False,
) -> None:
    """Build a demo fleet and run live traffic through it, then open the console.

    Trains credit-default (three versions) and delivery-time from sample_data/, deploys them, starts an A/B test of credit-default v2 against v1 and creates alert rules.

    Traffic: predictions with labels arriving seconds later; after --drift-after seconds a drift episode fires an alert.

    The demo owns the store: in another shell, mlc --store DIR … talks to it.
    """
    cli = state(ctx)
    as_json = json_output or cli.json
    if cli.server:
        err_console.print(
            "error: the demo runs its own store; it cannot use --server", markup=False
        )
        raise typer.Exit(2)
    home = _demo_home(ctx, store)
    # Before the owner starts its loops, which read it once.
    os.environ.setdefault("MLC_ALERT_EVAL_S", ALERT_EVAL_S)
    options = {"rate": rate, "drift_after_s": drift_after, "drift_duration_s": drift_duration}
    if headless:
        # Imported here: FastAPI, uvicorn and the engine only for commands that serve.
        from app.owner import OwnedStore

        say = _stderr_progress()
        say(f"demo store {home}; in another shell: mlc --store {home} models list")
        owned = OwnedStore(home)
        try:
            code = _headless(owned.engine, home, say, duration, as_json, options)
        finally:
            owned.close()
    else:
        code = _console(home, options)
        sys.stdout.write(f"the demo store is kept at {home}: mlc --store {home} …\n")
    if code:
        raise typer.Exit(code)


def _demo_home(ctx: typer.Context, store: Path | None) -> Path:
    """`demo --store`, else the root `--store` if given on the command line (not MLC_HOME:
    the demo never fills the user's default store unasked), else a new temporary directory."""
    if store is not None:
        return store.expanduser().resolve()
    source = ctx.find_root().get_parameter_source("store")
    # By name: Typer ships its own copy of Click, with its own ParameterSource enum.
    if source is not None and source.name == "COMMANDLINE":
        return state(ctx).home.expanduser().resolve()
    return Path(tempfile.mkdtemp(prefix="mlc-demo-"))


def _stderr_progress() -> Callable[[str], None]:
    started = time.monotonic()

    def say(text: str) -> None:
        sys.stderr.write(f"[{time.monotonic() - started:6.1f}s] {text}\n")
        sys.stderr.flush()

    return say


# --- with the console ---------------------------------------------------------------------


def _console(home: Path, options: dict[str, Any]) -> int:
    from app.tui.launch import create_console  # Textual: only when a console is opened

    closing = threading.Event()
    lock = threading.Lock()
    running: list[TrafficSimulator] = []
    owned: list[OwnedStore] = []

    def open_engine() -> Engine:
        # In the console's worker: the first frame shows before the store and the engine's
        # imports are ready.
        from app.owner import OwnedStore

        owned.append(OwnedStore(home))
        return owned[0].engine

    def startup(progress: Callable[[str], None]) -> None:
        from app.demo import TrafficSimulator, build_demo

        engine = owned[0].engine  # opened just before, in the same worker

        def guarded(text: str) -> None:
            if closing.is_set():
                raise _Closing
            progress(text)

        progress(f"demo store {home}; in another shell: mlc --store {home} models list")
        try:
            scenario = build_demo(engine, guarded)
        except _Closing:
            return
        simulator = TrafficSimulator(engine, scenario.sources, **options)
        with lock:
            if closing.is_set():
                return
            simulator.start()
            running.append(simulator)
        progress(
            f"demo running: {options['rate']:g} predictions/s; drift episode in"
            f" {options['drift_after_s']:g} s"
        )

    console = create_console(open_engine, startup=startup, title="mlc demo")
    try:
        console.run()
    finally:
        with lock:
            closing.set()
            for simulator in running:
                simulator.stop()
        if owned:
            owned[0].close()
    return console.return_code or 0


# --- headless -----------------------------------------------------------------------------


def _headless(
    engine: Engine,
    home: Path,
    say: Callable[[str], None],
    duration: float | None,
    as_json: bool,
    options: dict[str, Any],
) -> int:
    from app.demo import TrafficSimulator, build_demo

    scenario: DemoScenario | None = None
    simulator: TrafficSimulator | None = None
    interrupted = threading.Event()
    with _interrupts(interrupted):
        try:
            scenario = build_demo(engine, say)
            simulator = TrafficSimulator(engine, scenario.sources, **options)
            simulator.start()
            say(
                f"traffic at {options['rate']:g}/s; drift episode after"
                f" {options['drift_after_s']:g} s for {options['drift_duration_s']:g} s;"
                + (f" summary after {duration:g} s" if duration else " Ctrl+C for the summary")
            )
            _run_for(simulator, duration, say)
        except BaseException:
            # An interrupt inside a DuckDB call surfaces as the store's error, and inside a
            # Polars call as pyo3's PanicException (a BaseException), not as
            # KeyboardInterrupt: after Ctrl+C, any failure is the interrupt's.
            if not interrupted.is_set():
                raise
        finally:
            if simulator is not None:
                simulator.stop()
    if scenario is None or simulator is None:
        say("interrupted before the demo was built")
        return 130
    summary = demo_summary.summary(engine, home, scenario, simulator.stats(), interrupted.is_set())
    if as_json:
        sys.stdout.write(json.dumps(to_jsonable(summary), indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(demo_summary.human(summary))
    sys.stdout.flush()
    return 0


@contextlib.contextmanager
def _interrupts(flag: threading.Event) -> Iterator[None]:
    """Ctrl+C and SIGTERM end a headless demo: note it in `flag`, raise KeyboardInterrupt
    (stop the traffic, print the summary)."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        flag.set()
        raise _Interrupted

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _run_for(
    simulator: TrafficSimulator, duration: float | None, say: Callable[[str], None]
) -> None:
    started = time.monotonic()
    next_status = started + STATUS_EVERY_S
    drifting = False
    while duration is None or time.monotonic() - started < duration:
        time.sleep(0.2)
        stats = simulator.stats()
        if stats.drift_active != drifting:
            drifting = stats.drift_active
            say("drift episode started" if drifting else "drift episode ended: traffic is healthy")
        if time.monotonic() >= next_status:
            next_status += STATUS_EVERY_S
            say(
                f"{stats.requests:,} predictions, {stats.labels_sent:,} labels,"
                f" {stats.errors:,} errors" + (" (drifting)" if stats.drift_active else "")
            )
