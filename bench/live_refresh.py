"""What the live view costs per refresh (every second): fetch, draw, and the whole console.

    uv run python bench/live_refresh.py [--events 2000000] [--rate 300] [--seconds 20]

Stores `--events` prediction events of one model ending now (`--rate` per second, v1 90% and
v2 10%, 20% labelled, 1% errors); a feeder thread keeps logging `--rate` events per second
(and labels for a fifth of them, 2 s later) while the console runs. Then, for each window
(5m, 1h, 24h):
- fetch: the CPU of the view's `fetch()` (metrics query, chart series, the summary's
  `health_by_version` over the last 60 s, deployment), reading the whole window (every
  15 s) or only its last bucket (other polls);
- draw: the CPU of rendering the four plotext charts once (4 x the median render);
- console: the process CPU of a headless console showing the live view for `--seconds`
  (Textual, the poll thread, plotext; everything but the terminal's own drawing) minus the
  feeder thread's own CPU, as a percentage of one core, beside the same console idling on
  the fleet view.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import skops.io as sio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.tui.launch import create_console  # noqa: E402
from app.tui.screens import live  # noqa: E402
from app.tui.widgets.metric_chart import MetricChart  # noqa: E402
from core.engine import LocalEngine  # noqa: E402
from core.names import features_spec  # noqa: E402
from core.training.catalogue import build_pipeline  # noqa: E402
from storage.repos import events as repo  # noqa: E402

MODEL = "credit-default"
RENDERS: list[float] = []


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def artifact() -> bytes:
    rng = np.random.default_rng(0)
    frame = pl.DataFrame({"age": rng.normal(40, 10, 300), "region": rng.choice(["n", "s"], 300)})
    pipe = build_pipeline("classification", "logistic_regression", ["age"], ["region"])
    pipe.fit(frame, (frame["age"] > 40).to_numpy().astype(int))
    return sio.dumps(pipe)


def build(engine: LocalEngine, n: int, rate: float) -> None:
    engine.create_model(MODEL, "classification", target="default",
                        features=features_spec("age:numeric,region:categorical"))  # fmt: skip
    blob = artifact()
    for v in ("v1", "v2"):
        engine.register_version(MODEL, blob, algorithm="logistic_regression")
        engine.transition_version(MODEL, v, "validated")
    engine.deploy(MODEL, "v1")
    engine.set_traffic(MODEL, {"v1": 0.9, "v2": 0.1})
    end = datetime.now(UTC).replace(tzinfo=None)
    chunk = 200_000
    for lo in range(0, n, chunk):
        i = pl.int_range(lo, min(n, lo + chunk), eager=True).alias("i")
        back = (n - 1 - pl.col("i")).cast(pl.Float64) / rate  # oldest first
        frame = pl.DataFrame(i).select(
            pl.lit(MODEL).alias("model_id"),
            ("b" + pl.col("i").cast(pl.String)).alias("request_id"),
            (pl.lit(end).cast(pl.Datetime("us"))
             - pl.duration(microseconds=(back * 1e6).cast(pl.Int64))).alias("ts"),
            pl.when(pl.col("i") % 10 == 0).then(2).otherwise(1).alias("version"),
            pl.lit("production").alias("environment"),
            pl.lit(None, pl.String).alias("unit_id"),
            pl.lit(None, pl.String).alias("arm"),
            pl.lit('{"age": 40, "region": "n"}').alias("features"),
            (pl.col("i") % 3 == 0).cast(pl.Int8).cast(pl.String).alias("label"),
            pl.lit(None, pl.Float64).alias("value"),
            ((pl.col("i") % 100).cast(pl.Float64) / 100).alias("score"),
            (2.0 + (pl.col("i") * 7919 % 200).cast(pl.Float64) / 10).alias("latency_ms"),
            pl.when(pl.col("i") % 100 == 0).then(pl.lit("err")).alias("error"),
            pl.lit("bench").alias("source"),
        )  # fmt: skip
        frame = frame.select([pl.col(c).cast(t) for c, t in repo.EVENT_COLUMNS.items()])
        labelled = frame.filter(pl.int_range(pl.len()) % 5 == 0).select(
            "model_id", "request_id", pl.col("ts") + pl.duration(seconds=1),
            pl.lit("0").alias("label"), pl.lit(None, pl.Float64).alias("value"),
        )  # fmt: skip
        with engine.store.write() as conn:
            repo.insert_frame(conn, "prediction_events", frame, dedup=False)
            repo.insert_frame(conn, "actuals", labelled, dedup=False)
    engine.store.checkpoint()


class Feeder(threading.Thread):
    """Live traffic: `rate` events per second at the current time, labels 2 s later."""

    def __init__(self, engine: LocalEngine, rate: float) -> None:
        super().__init__(daemon=True)
        self.engine, self.rate = engine, rate
        self.stop = threading.Event()
        self.cpu_s = 0.0
        self.sent = 0

    def run(self) -> None:
        pending: list[str] = []
        while not self.stop.wait(1.0):
            c0 = time.thread_time()
            now = datetime.now(UTC).isoformat()
            batch = [
                {"request_id": f"f{self.sent + k}", "ts": now,
                 "version": "v2" if k % 10 == 0 else "v1", "prediction": k % 2, "score": 0.4,
                 "latency_ms": 2.0 + (k * 7919 % 200) / 10,
                 "error": "err" if k % 100 == 0 else None}
                for k in range(int(self.rate))
            ]  # fmt: skip
            self.engine.log_events(MODEL, batch)
            if pending:
                self.engine.record_actuals(MODEL, [{"request_id": r, "actual": 1} for r in pending])
            pending = [e["request_id"] for e in batch[::5]]
            self.sent += len(batch)
            self.cpu_s += time.thread_time() - c0


class TimedChart:
    """Wraps MetricChart.render to time each plotext build."""

    original = MetricChart.render

    @staticmethod
    def render(self: MetricChart) -> Any:
        t0 = time.thread_time()  # the event loop's thread: CPU, not waiting
        out = TimedChart.original(self)
        RENDERS.append(time.thread_time() - t0)
        return out


def measure_fetch(engine: LocalEngine, window_index: int, runs: int = 20) -> tuple[float, float]:
    """CPU of the view's fetch: (reading the whole window, a poll reading only its tail)."""

    class Bench(live.LiveScreen):
        @property
        def engine(self) -> Any:  # no app: hand the engine over directly
            return engine

    screen = Bench(MODEL)
    screen.window_index = window_index
    whole, tails = [], []
    for i in range(runs):
        if i % 5 == 0:
            screen._whole_at = 0.0  # force a whole read
        c0 = time.process_time()
        screen.fetch()
        (whole if i % 5 == 0 else tails).append(time.process_time() - c0)
        time.sleep(0.05)
    return statistics.median(whole), statistics.median(tails)


def measure_console(
    engine: LocalEngine, window_key: str | None, seconds: float, rate: float
) -> float:
    """Process CPU as % of one core while the console shows live (or the fleet if None),
    without the feeder's."""
    app = create_console(engine)
    result: dict[str, float] = {}
    feeder = Feeder(engine, rate)
    feeder.start()

    async def main() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause(1.0)
            if window_key is not None:
                await pilot.press("colon", *f"live {MODEL}", "enter")
                await pilot.pause(0.5)
                await pilot.press(window_key)
            await pilot.pause(2.0)  # warm: first polls, caches
            RENDERS.clear()
            c0, f0, t0 = cpu_s(), feeder.cpu_s, time.perf_counter()
            await pilot.pause(seconds)
            used = cpu_s() - c0 - (feeder.cpu_s - f0)
            result["cpu"] = used / (time.perf_counter() - t0)

    try:
        asyncio.run(main())
    finally:
        feeder.stop.set()
        feeder.join()
    return result["cpu"] * 100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--rate", type=float, default=300.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    MetricChart.render = TimedChart.render  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory() as tmp:
        engine = LocalEngine.open(Path(tmp) / "store", actor="bench")
        try:
            t0 = time.perf_counter()
            build(engine, args.events, args.rate)
            span_h = args.events / args.rate / 3600
            print(f"stored {args.events:,} events over the last {span_h:.1f} h "
                  f"({args.rate:g}/s) in {time.perf_counter() - t0:.1f} s")  # fmt: skip
            print("CPU per refresh: fetch (whole window / tail only), draw (4 plotext charts);")
            print("console: process CPU in % of one core with the view open, feeder excluded")
            print(f"{'window':<8}{'fetch whole':>12}{'fetch tail':>12}{'draw':>10}"
                  f"{'console':>10}")  # fmt: skip
            fleet = measure_console(engine, None, args.seconds, args.rate)
            for index, (name, _) in enumerate(live.WINDOWS):
                whole, tail = measure_fetch(engine, index)
                console = measure_console(engine, str(index + 1), args.seconds, args.rate)
                draw = statistics.median(RENDERS) * 4 if RENDERS else float("nan")
                print(f"{name:<8}{whole * 1000:>9.1f} ms{tail * 1000:>9.1f} ms"
                      f"{draw * 1000:>7.1f} ms{console:>9.1f}%")  # fmt: skip
            print(
                f"{'fleet':<8}{'':>12}{'':>12}{'':>10}{fleet:>9.1f}%  (the fleet view, for scale)"
            )
            print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        finally:
            engine.close()


if __name__ == "__main__":
    main()
