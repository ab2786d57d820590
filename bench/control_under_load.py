"""Control commands while the data plane is overloaded, next to an idle baseline.

Starts `mlc serve` on a temporary store (a logistic-regression model, v1 in production, v2
validated, a draft A/B test), then:
  - idle: each control command (`status`, `deploy`, `rollback --dry-run`, `audit verify`,
    `ab list`) a few times through the socket, nothing else running;
  - under load: `wrk` holds `--connections` connections on the data plane for `--seconds`
    (three quarters posting lone predictions, a quarter batches of 100 log-only events,
    all as an operator's bearer token) while the same commands run in a loop.
Commands run in this process through the CLI (`app.cli.main`, as `mlc --store …`), so their
time is the control path's: finding the owner, the socket, the server; not Python's start-up.
With `--process` each command is also timed as its own `mlc` process once per round.
Prints per command the median and the maximum, idle and under load, and failures; the data
plane's answers by status (503s without Retry-After counted apart), its latency, and the
owner's RSS before and at its peak.

    uv run python bench/control_under_load.py [--seconds 40] [--connections 200] [--process]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e import load  # noqa: E402
from tests.e2e.server import Server  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--idle-rounds", type=int, default=3)
    parser.add_argument("--process", action="store_true", help="also time `mlc` processes")
    parser.add_argument("serve_args", nargs="*", help="extra `mlc serve` options, after --")
    args = parser.parse_args()
    if load.wrk_path() is None:
        sys.exit("wrk is not installed (Debian: apt-get install -y wrk)")

    from typer.testing import CliRunner

    from app.cli.main import app

    with tempfile.TemporaryDirectory(prefix="mlc-overload-") as tmp:
        work = Path(tmp)
        home = work / "store"
        token = load.prepare_store(home)
        server = Server(home, None, *args.serve_args, insecure=False).start(timeout=120)
        assert server.proc is not None
        pid = server.proc.pid
        runner = CliRunner()

        def in_process(argv: list[str]) -> tuple[int, str]:
            res = runner.invoke(app, ["--store", str(home), *argv], catch_exceptions=True)
            return res.exit_code, res.stdout + res.stderr

        def as_process(argv: list[str]) -> tuple[int, str]:
            proc = server.mlc(*argv)
            return proc.returncode, proc.stdout + proc.stderr

        try:
            idle = load.ControlLoop(in_process).rounds(args.idle_rounds)
            idle_proc = load.ControlLoop(as_process).rounds(1) if args.process else []
            rss_before = load.rss_bytes(pid)
            peak = load.RssPeak(pid)
            predict_c = max(1, args.connections * 3 // 4)
            events_c = max(1, args.connections - predict_c)
            wrks = [
                load.Wrk(f"{server.url}/v1/models/{load.MODEL}/predict", load.PREDICT_SCRIPT,
                         connections=predict_c, seconds=args.seconds, workdir=work,
                         name="predict", token=token),
                load.Wrk(f"{server.url}/v1/models/{load.MODEL}/events", load.EVENTS_SCRIPT,
                         connections=events_c, seconds=args.seconds, workdir=work,
                         name="events", token=token),
            ]  # fmt: skip
            time.sleep(min(3.0, args.seconds / 4))  # let the load build up first
            busy = load.ControlLoop(in_process)
            busy.start()
            busy_proc: list[load.Timed] = []
            if args.process:
                # Read-only: the in-process loop's deploys alternate the versions.
                reads = [c for c in load.control_script() if "deploy" not in c]
                proc_loop = load.ControlLoop(as_process, commands=reads, pause_s=1.0)
                proc_loop.start()
            results = [w.result() for w in wrks]
            under = busy.stop()
            if args.process:
                busy_proc = proc_loop.stop()
            rss_peak = peak.stop()
        finally:
            for w in locals().get("wrks", []):
                w.stop()
            server.stop()

    _report(idle, under, idle_proc, busy_proc)
    print()
    for name, r in zip(("predict", "events"), results, strict=True):
        print(
            f"data plane {name:8} {r.requests:>8,} answers in {r.seconds:.0f} s:"
            f" {r.ok:,} 2xx, {r.shed:,} 503 ({r.shed_without_retry} without Retry-After),"
            f" other {r.other() or 'none'}, socket errors {r.errors};"
            f" latency p50 {r.p50_ms:.0f} ms, p99 {r.p99_ms:.0f} ms, max {r.max_ms:.0f} ms"
        )
    grew = rss_peak - rss_before
    print(
        f"owner RSS: {rss_before / 2**20:.0f} MB before the load,"
        f" {rss_peak / 2**20:.0f} MB at its peak (+{grew / 2**20:.0f} MB)"
    )


def _report(
    idle: list[load.Timed],
    under: list[load.Timed],
    idle_proc: list[load.Timed],
    under_proc: list[load.Timed],
) -> None:
    idle_by, under_by = load.by_command(idle), load.by_command(under)
    proc_idle_by, proc_under_by = load.by_command(idle_proc), load.by_command(under_proc)
    print(f"{'control command':22} {'idle median/max':>18} {'under load median/max':>24}"
          f" {'runs':>5} {'failed':>6}" + (f" {'mlc process idle/under load':>30}"
                                            if under_proc else ""))  # fmt: skip
    for key, runs in under_by.items():
        base = [t.seconds for t in idle_by.get(key, [])]
        busy = [t.seconds for t in runs]
        failed = [t for t in runs if t.code != 0]
        line = f"{key:22} {_pair(base):>18} {_pair(busy):>24} {len(runs):>5} {len(failed):>6}"
        if under_proc:
            p_idle = [t.seconds for t in proc_idle_by.get(key, [])]
            p_busy = [t.seconds for t in proc_under_by.get(key, [])]
            line += f" {_pair(p_idle):>14} / {_pair(p_busy):<14}"
        print(line)
        for t in failed[:3]:
            print(f"    exit {t.code} after {t.seconds:.1f} s: {t.output.strip()[:300]}")
    over = [t for t in under if t.seconds > 2.0]
    print(f"commands over 2 s under load: {len(over)} of {len(under)}")
    if under_proc:
        bad = [t for t in under_proc if t.code != 0]
        print(f"mlc processes under load: {len(under_proc)}, failed {len(bad)}")
        for t in bad[:3]:
            print(f"    exit {t.code}: {t.output.strip()[:300]}")


def _pair(times: list[float]) -> str:
    s = load.summary(times)
    if not s["n"]:
        return "-"
    return f"{s['median_s']:.2f}/{s['max_s']:.2f} s"


if __name__ == "__main__":
    main()
