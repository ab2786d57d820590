"""The console's start-up time and the CPU it burns while idle on the live view.

Runs `mlc console` in a pseudo-terminal (100×30) over a store with a deployed model and a
day of traffic, as a person would, and prints:
- time to first frame (the breadcrumbs drawn) and to the fleet's data (the model's row),
  against `mlc --help` (the CLI's own start-up) as the baseline, medians of several runs;
- CPU used over 30 s by the console sitting on the live view (1 s refresh, no typing), as a
  share of one core, against the same store's owner with no console (`mlc serve`).

    uv run python bench/console_start.py [--runs 5] [--idle 30]
"""

from __future__ import annotations

import argparse
import os
import pty
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from datetime import UTC, datetime, timedelta
from fcntl import ioctl
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MODEL = "credit-default"


def build_store(home: Path) -> None:
    import polars as pl

    from core.engine import LocalEngine

    engine = LocalEngine.open(home)
    try:
        engine.create_model(MODEL, "classification", target="default")
        job = engine.trigger_training(ROOT / "sample_data" / "credit" / "demo_v1.toml")
        while engine.get_training_status(job.id).status.value not in ("succeeded", "failed"):
            time.sleep(0.2)
        engine.deploy(MODEL, "v1", reason="bench")
        rows = pl.read_parquet(ROOT / "sample_data" / "credit" / "credit.parquet").head(5000)
        feats = rows.drop("default", "application_id", "applied_at").to_dicts()
        now = datetime.now(UTC).replace(tzinfo=None)
        events = [
            {
                "request_id": f"r{i}",
                "version": "v1",
                "features": f,
                "prediction": i % 2,
                "score": 0.3,
                "latency_ms": 5 + i % 9,
                "ts": (now - timedelta(seconds=86400 * i / len(feats))).isoformat(),
            }
            for i, f in enumerate(feats)
        ]
        engine.log_events(MODEL, events)
    finally:
        engine.close()


class Terminal:
    """A process in a pseudo-terminal of a given size, with its output accumulated."""

    def __init__(self, argv: list[str], size: tuple[int, int] = (100, 30)) -> None:
        self.started = time.perf_counter()
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.environ["TERM"] = "xterm-256color"
            os.environ.pop("CI", None)
            os.execvp(argv[0], argv)
        ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
        self.output = b""

    def wait_for(self, text: bytes, timeout_s: float = 60) -> float:
        """Seconds from start until `text` has appeared in the output."""
        deadline = time.perf_counter() + timeout_s
        while text not in self.output:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{text!r} did not appear within {timeout_s} s")
            ready, _, _ = select.select([self.fd], [], [], 0.05)
            if ready:
                try:
                    self.output += os.read(self.fd, 65536)
                except OSError:
                    break
        return time.perf_counter() - self.started

    def drain(self, seconds: float) -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if ready:
                try:
                    os.read(self.fd, 65536)
                except OSError:
                    return

    def send(self, data: bytes) -> None:
        os.write(self.fd, data)

    def stop(self) -> None:
        try:
            os.kill(self.pid, signal.SIGTERM)
            self.drain(1)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(self.fd)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def mlc(home: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "app", "--store", str(home), *args]


def idle_cpu(pid: int, seconds: float, drain: Terminal | None = None) -> float:
    before, start = cpu_seconds(pid), time.perf_counter()
    if drain is not None:
        drain.drain(seconds)
    else:
        time.sleep(seconds)
    return (cpu_seconds(pid) - before) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--idle", type=float, default=30.0)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="mlc-bench-console-")) / "store"
    build_store(home)

    help_s = []
    for _ in range(args.runs):
        t = time.perf_counter()
        subprocess.run(mlc(home, "--help"), capture_output=True, check=True)
        help_s.append(time.perf_counter() - t)

    first_frame, data = [], []
    for _ in range(args.runs):
        term = Terminal(mlc(home, "console"))
        try:
            first_frame.append(term.wait_for(b"fleet"))
            data.append(term.wait_for(MODEL.encode()))
        finally:
            term.stop()

    term = Terminal(mlc(home, "console"))
    try:
        term.wait_for(MODEL.encode())
        term.send(f":live {MODEL}\r".encode())
        term.wait_for(b"live")
        term.drain(3)
        console_cpu = idle_cpu(term.pid, args.idle, drain=term)
    finally:
        term.stop()

    server = subprocess.Popen(mlc(home, "serve", "--port", "0"), stdout=subprocess.PIPE)
    try:
        assert server.stdout is not None
        server.stdout.readline()  # the "serving" line: it is up
        time.sleep(3)
        serve_cpu = idle_cpu(server.pid, args.idle)
        client_frame, client_data = [], []
        for _ in range(args.runs):  # the console as a client of the running owner
            term = Terminal(mlc(home, "console"))
            try:
                client_frame.append(term.wait_for(b"fleet"))
                client_data.append(term.wait_for(MODEL.encode()))
            finally:
                term.stop()
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)

    med = statistics.median
    print(f"runs: {args.runs}, idle window: {args.idle:g} s, cores: {os.cpu_count()}")
    print(f"mlc --help (baseline)      median {med(help_s):.2f} s")
    print(
        f"console first frame        median {med(first_frame):.2f} s"
        f"  ({med(first_frame) / med(help_s):.2f}x baseline; goal <= 1.5 s)"
    )
    print(f"console fleet data shown   median {med(data):.2f} s  (owner: opens the store)")
    print(
        f"as a client of mlc serve   first frame {med(client_frame):.2f} s,"
        f" fleet data {med(client_data):.2f} s"
    )
    print(f"idle CPU, mlc serve        {serve_cpu * 100:.1f}% of one core (baseline)")
    print(
        f"idle CPU, console on live  {console_cpu * 100:.1f}% of one core"
        f"  (+{(console_cpu - serve_cpu) * 100:.1f} points over serve; goal <= 10%)"
    )


if __name__ == "__main__":
    main()
