"""One owner per store: a second process gets a clear message, never a raw lock error."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from storage.errors import StoreUnavailable
from storage.owner import (
    clear_owner,
    current_owner,
    is_alive,
    lock_held,
    process_start,
    read_owner,
    write_owner,
)
from storage.store import Store

ROOT = Path(__file__).resolve().parents[2]
HOLDER = """
import sys, time
from storage.store import Store
store = Store.open(__import__('pathlib').Path(sys.argv[1]))
print('ready', flush=True)
time.sleep(float(sys.argv[2]))
store.close()
"""


def _hold(home: Path, seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(home), str(seconds)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


@pytest.fixture
def held(home: Path) -> Iterator[subprocess.Popen[str]]:
    proc = _hold(home, 60)
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


def test_second_process_is_told_who_holds_the_store(
    home: Path, held: subprocess.Popen[str]
) -> None:
    with pytest.raises(StoreUnavailable) as info:
        Store.open(home, wait_s=0.2)
    message = str(info.value)
    assert f"pid {held.pid}" in message
    assert "python" in message  # the holder's command line
    assert "kill" in message and "\n" not in message
    assert "Could not set lock" not in message  # never the raw DuckDB error


def test_cli_against_a_held_store_exits_1_with_one_line(
    home: Path, held: subprocess.Popen[str]
) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "app", "--store", str(home), "models", "list"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: store ")
    assert f"pid {held.pid}" in lines[0]


def test_an_opener_waits_briefly_for_a_short_lived_holder(home: Path) -> None:
    proc = _hold(home, 0.5)
    t0 = time.monotonic()
    try:
        with Store.open(home, wait_s=10) as store, store.read() as conn:
            assert conn.scalar("SELECT 1") == 1
    finally:
        proc.wait()
    assert time.monotonic() - t0 < 10


def test_the_owner_lock_is_held_while_the_store_is_open_and_freed_by_sigkill(home: Path) -> None:
    assert not lock_held(home) and current_owner(home) is None
    proc = _hold(home, 60)
    try:
        assert lock_held(home)
        owner = current_owner(home)
        assert owner is not None and owner.pid == proc.pid
        assert owner.process_start == process_start(proc.pid)
    finally:
        proc.kill()
        proc.wait()
    # However it died, the kernel let go of its lock: nobody holds the store now, even though
    # its owner file is still there.
    assert read_owner(home) is not None
    assert not lock_held(home) and current_owner(home) is None
    with Store.open(home, wait_s=0.2):
        assert lock_held(home)
        owner = current_owner(home)
        assert owner is not None and owner.pid == os.getpid()
    assert not lock_held(home) and read_owner(home) is None


def test_probing_the_lock_from_the_owners_own_process_keeps_the_store_locked(home: Path) -> None:
    """A probe must never unlock the store it looks at: DuckDB's POSIX lock is lost when the
    holding process closes any descriptor of the database, so the probe uses its own lock."""
    with Store.open(home, wait_s=0.2):
        for _ in range(3):
            assert lock_held(home)
        out = subprocess.run(
            [sys.executable, "-c", HOLDER.replace("Store.open(", "Store.open(wait_s=0.2, home="),
             str(home), "0"],
            cwd=ROOT, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert out.returncode != 0 and f"pid {os.getpid()}" in out.stderr


def test_a_reused_pid_is_not_the_owner(home: Path) -> None:
    home.mkdir(parents=True)
    info = write_owner(home)
    try:
        assert is_alive(info)
        assert not is_alive(replace(info, process_start=(info.process_start or 0) + 1))
    finally:
        clear_owner(home)
    assert not lock_held(home)


def test_the_lock_is_held_until_the_last_open_of_the_store_in_this_process_closes(
    home: Path,
) -> None:
    first = Store.open(home, wait_s=0.2)
    try:
        with Store.open(home, wait_s=0.2):  # DuckDB lets one process open a database twice
            assert lock_held(home)
        assert lock_held(home) and read_owner(home) is not None, "the first is still open"
    finally:
        first.close()
    assert not lock_held(home) and read_owner(home) is None
