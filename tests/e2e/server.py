"""Run a real `mlc serve` in a subprocess for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(
        self, home: Path, port: int | None = None, *extra: str, insecure: bool = True
    ) -> None:
        self.home = home
        self.insecure = insecure
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.extra = extra
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> Server:
        env = {
            **os.environ,
            "MLC_CONTROLLER_TICK_S": os.environ.get("MLC_CONTROLLER_TICK_S", "0.2"),
        }
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "app",
                "--store",
                str(self.home),
                "serve",
                "--port",
                str(self.port),
                *(["--insecure"] if self.insecure else []),
                *self.extra,
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"mlc serve exited: {self.proc.stderr.read().decode() if self.proc.stderr else ''}"
                )
            try:
                # Ready, not just up: serving versions loaded and smoke-tested.
                if httpx.get(f"{self.url}/readyz", timeout=0.5).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("mlc serve did not become ready")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def mlc(self, *args: str) -> subprocess.CompletedProcess[str]:
        """A CLI command in another process: it finds the server's socket by itself."""
        return subprocess.run(
            [sys.executable, "-m", "app", "--store", str(self.home), *args],
            cwd=ROOT, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60,
        )  # fmt: skip
