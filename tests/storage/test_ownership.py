"""One owner per store: a second process gets a clear message, never a raw lock error."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.errors import StoreUnavailable
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
