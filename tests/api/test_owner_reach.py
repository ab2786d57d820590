"""A client decides whether the store's owner is alive from its lock and process, never from a
health timeout: a busy or starting owner is waited for with one line saying so; a dead one is
noticed at once and the store opened."""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from storage.paths import SOCKET_FILE
from tests.api.test_serve import ROOT, _env, start_server

# A process that takes the store as `mlc serve` does, and then never listens on its socket.
STARTING = """
import sys, time
from pathlib import Path
from storage.owner import will_serve
from storage.store import Store
home = Path(sys.argv[1])
will_serve(home, str(home / "mlc.sock"))
store = Store.open(home)
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
store.close()
"""


def _mlc(home: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "app", "--store", str(home), *args],
        cwd=ROOT, env={**_env(), **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL, text=True,
    )  # fmt: skip


def _line(stream: object, timeout_s: float = 120) -> str:
    ready, _, _ = select.select([stream], [], [], timeout_s)
    assert ready, "no line in time"
    return stream.readline()  # type: ignore[attr-defined]


def test_a_busy_owner_is_waited_for_and_a_dead_one_is_not(tmp_path: Path) -> None:
    server = start_server(tmp_path / "store")
    home = server.home
    try:
        created = _mlc(home, "models", "create", "m", "--task", "regression")
        assert created.wait(timeout=120) == 0, created.stderr.read() if created.stderr else ""
        # Stopped: alive, its lock held, its socket accepting into the backlog, answering nothing.
        server.proc.send_signal(signal.SIGSTOP)
        try:
            client = _mlc(home, "--json", "models", "list")
            line = _line(client.stderr)
            assert line == f"waiting for the store's owner (pid {server.proc.pid}, busy) …\n"
            assert client.poll() is None, "a busy owner must not be taken for a dead one"
        finally:
            server.proc.send_signal(signal.SIGCONT)
        out, err = client.communicate(timeout=120)
        assert client.returncode == 0, err
        assert [m["id"] for m in json.loads(out)["models"]] == ["m"]
        assert err == "", "one line, said once"

        server.proc.kill()  # dies holding the store: lock freed by the kernel, files left
        server.proc.wait(timeout=30)
        assert (home / SOCKET_FILE).exists()
        client = _mlc(home, "--json", "models", "list")
        out, err = client.communicate(timeout=120)
        assert client.returncode == 0, err
        assert err == "", "a dead owner is not waited for"
        assert [m["id"] for m in json.loads(out)["models"]] == ["m"]
    finally:
        if server.proc.poll() is None:
            server.proc.send_signal(signal.SIGCONT)
            server.stop()


@contextlib.contextmanager
def _starting_owner(home: Path) -> Iterator[subprocess.Popen[str]]:
    """A process (`STARTING`) that holds `home`, announces its socket and never listens."""
    holder = subprocess.Popen(
        [sys.executable, "-c", STARTING, str(home), "600"],
        cwd=ROOT, env=_env(), stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert _line(holder.stdout) == "holding\n"
        yield holder
    finally:
        holder.kill()
        holder.wait()


def test_a_starting_owner_is_waited_for_until_it_is_gone(tmp_path: Path) -> None:
    home = tmp_path / "store"
    with _starting_owner(home) as holder:
        client = _mlc(home, "--json", "models", "list")
        assert (
            _line(client.stderr)
            == f"waiting for the store's owner (pid {holder.pid}, starting) …\n"
        )
        assert client.poll() is None
        os.kill(holder.pid, signal.SIGKILL)
        out, err = client.communicate(timeout=120)
        assert client.returncode == 0, err
        assert err == "the store's owner is gone; opening the store\n"
        assert json.loads(out) == {"models": []}


def test_waiting_for_an_owner_that_never_answers_ends_naming_it(tmp_path: Path) -> None:
    home = tmp_path / "store"
    with _starting_owner(home) as holder:
        client = _mlc(home, "models", "list", env={"MLC_OWNER_WAIT_S": "2"})
        out, err = client.communicate(timeout=120)
        assert client.returncode == 1 and out == ""
        lines = err.splitlines()
        assert lines[0] == f"waiting for the store's owner (pid {holder.pid}, starting) …"
        assert lines[1].startswith(f"error: store {home} is held by pid {holder.pid}")
        assert f"serves it on {home / SOCKET_FILE} but is not listening for 2 s" in lines[1]
