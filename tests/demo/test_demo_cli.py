"""`mlc demo --headless` as a real process: it builds the demo, serves its socket to other
`mlc` processes while the traffic runs, fires the drift alert during the episode (not before)
and prints its summary; Ctrl+C stops it cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT_S = 300


class Demo:
    """`mlc --store HOME demo --headless …` in a subprocess, its stderr read line by line."""

    def __init__(self, home: Path, *args: str) -> None:
        env = {**os.environ, "MLC_ALERT_EVAL_S": "1"}
        env.pop("MLC_SERVER", None)
        self.home = home
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app", "--store", str(home), "demo", "--headless", *args],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.lines: list[str] = []
        self.out: list[str] = []
        self._seen: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._readers = [
            threading.Thread(target=self._read, daemon=True),
            threading.Thread(target=self._read_out, daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read_out(self) -> None:
        assert self.proc.stdout is not None
        self.out.extend(self.proc.stdout)

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._lock:
                self.lines.append(line)
                for text, seen in self._seen.items():
                    if text in line:
                        seen.set()

    def wait_for(self, text: str, timeout: float = BUILD_TIMEOUT_S) -> None:
        with self._lock:
            seen = self._seen.setdefault(text, threading.Event())
            if any(text in line for line in self.lines):
                seen.set()
        if not seen.wait(timeout):
            self.kill()
            raise AssertionError(f"no {text!r} on stderr: {''.join(self.lines)}")

    def finish(self, timeout: float = 120) -> tuple[int, str]:
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        for reader in self._readers:
            reader.join(timeout=10)
        return self.proc.returncode, "".join(self.out)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def mlc(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Another `mlc` process on the same store."""
        env = {k: v for k, v in os.environ.items() if k != "MLC_SERVER"}
        return subprocess.run(
            [sys.executable, "-m", "app", "--store", str(self.home), "--json", *args],
            cwd=ROOT, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
            timeout=60,
        )  # fmt: skip


@pytest.mark.slow
def test_headless_demo_fires_the_drift_alert_and_serves_the_socket(tmp_path: Path) -> None:
    demo = Demo(tmp_path / "store", "--duration", "35", "--drift-after", "4",
                "--drift-duration", "120", "--rate", "200", "--json")  # fmt: skip
    try:
        demo.wait_for("traffic at")
        listed = demo.mlc("models", "list")
        assert listed.returncode == 0, listed.stderr
        assert {m["id"] for m in json.loads(listed.stdout)["models"]} == {
            "credit-default",
            "delivery-time",
        }
        code, out = demo.finish()
    finally:
        demo.kill()
    assert code == 0, "".join(demo.lines)
    summary = json.loads(out)
    assert summary["store"] == str((tmp_path / "store").resolve())
    assert not summary["interrupted"] and not summary["resumed"]
    traffic = summary["traffic"]
    assert traffic["requests"] > 0 and traffic["errors"] == 0, traffic["last_error"]
    assert traffic["labels_sent"] > 0
    assert set(traffic["by_version"]["credit-default"]) == {"v1", "v2"}
    assert sum(n for v in traffic["by_version"].values() for n in v.values()) == traffic["requests"]
    assert traffic["drift_started_at"] is not None
    assert summary["ab_test"]["status"] == "running"
    assert summary["ab_test"]["primary"]["metric"] == "accuracy"

    fired = [a for a in summary["alerts"] if a["condition"].startswith("drift.credit_utilization")]
    assert fired, f"the drift alert did not fire: {summary['alerts']}"
    # Pending from the first evaluation that sees drifted traffic, firing 10 s (its
    # for-duration) later: never before the episode.
    assert fired[0]["fired_after_drift_s"] >= 10
    assert fired[0]["severity"] == "critical"
    # The owner is gone and the socket with it: the store opens directly again.
    after = demo.mlc("alerts", "list")
    assert after.returncode == 0, after.stderr
    assert any(a["id"] == fired[0]["id"] for a in json.loads(after.stdout)["alerts"])


@pytest.mark.slow
def test_ctrl_c_while_building_stops_cleanly(tmp_path: Path) -> None:
    demo = Demo(tmp_path / "store", "--duration", "60")
    try:
        demo.wait_for("training credit-default v1")
        demo.proc.send_signal(signal.SIGINT)
        code, _ = demo.finish(timeout=60)
    finally:
        demo.kill()
    assert code == 130, "".join(demo.lines)
    assert "Traceback" not in "".join(demo.lines)
    assert "interrupted before the demo was built" in "".join(demo.lines)
    # The store was closed: another process opens it and sees what was created so far.
    listed = demo.mlc("models", "list")
    assert listed.returncode == 0, listed.stderr
    assert "credit-default" in {m["id"] for m in json.loads(listed.stdout)["models"]}


def test_the_headless_path_does_not_import_the_console() -> None:
    probe = (
        "import sys, app.cli.main, app.cli.demo_cmd;"
        "print(sorted(m for m in sys.modules if m.startswith(('app.tui', 'textual'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_demo_refuses_a_remote_server(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "app", "--server", "http://127.0.0.1:9", "demo", "--headless"],
        cwd=ROOT, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60,
    )  # fmt: skip
    assert out.returncode == 2
    assert "--server" in out.stderr
