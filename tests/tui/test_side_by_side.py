"""The console owns the store and serves its socket: `mlc` in another shell goes through it,
and the console shows what that shell changed."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from app.owner import OwnedStore
from app.tui.launch import create_console
from tests.conftest import env_without_terminal
from tests.tui.conftest import MODEL, drive, populate_fleet, screen_text, wait_for


def mlc(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "--store", str(home), *args],
        capture_output=True, text=True, timeout=120, env=env_without_terminal(),
    )  # fmt: skip


def test_cli_rollback_beside_the_console_shows_within_two_seconds(
    home: Path, artifact_bytes: bytes
) -> None:
    with OwnedStore(home, background=False) as owned:
        populate_fleet(owned.engine, artifact_bytes)
        owned.engine.deploy(MODEL, "v2", reason="v2 to everyone")
        app = create_console(owned.engine)

        async def script(pilot: Pilot[Any]) -> None:
            await wait_for(pilot, lambda: "v2 100%" in screen_text(app))
            done = await asyncio.to_thread(
                mlc, home, "--json", "rollback", MODEL, "--reason", "v2 is slow", "--yes"
            )
            assert done.returncode == 0, done.stderr
            seen = time.monotonic()
            await wait_for(pilot, lambda: "v1 100%" in screen_text(app), timeout_s=2)
            assert time.monotonic() - seen <= 2

        drive(app, script)
        record = owned.engine.list_audit(limit=1)[0]
        assert record.action == "deployment.rollback"
        assert record.reason.endswith("v2 is slow")
