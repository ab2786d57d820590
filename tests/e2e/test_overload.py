"""Overload: 200 connections on the data plane for 40 s while an operator works the control
plane through the socket.

Every control command (`status`, `deploy`, `rollback --dry-run`, `audit verify`, `ab list`)
must succeed within 2 s: the bound issue #19 sets, the one wall-clock assertion this suite
allows itself. A command runs in this process through the CLI (`mlc --store …` as Typer
invokes it), so what is timed is finding the owner, the socket and the server's answer, not
an interpreter's start-up. Every data-plane answer must be 2xx or 503 with Retry-After, and
the owner's RSS may grow by less than 512 MB. `bench/control_under_load.py` prints the same
figures next to an idle baseline.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli.main import app
from tests.e2e import load
from tests.e2e.server import Server

SECONDS = 40
CONNECTIONS = 200
BOUND_S = 2.0
MAX_RSS_GROWTH = 512 * 2**20

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        load.wrk_path() is None,
        reason="wrk is not installed (apt-get install -y wrk; .ci/run installs it)",
    ),
]


def test_the_control_plane_works_while_the_data_plane_is_overloaded(tmp_path: Path) -> None:
    home = tmp_path / "store"
    token = load.prepare_store(home)
    server = Server(home, None, insecure=False).start(timeout=120)
    assert server.proc is not None
    runner = CliRunner()

    def mlc(argv: list[str]) -> tuple[int, str]:
        res = runner.invoke(app, ["--store", str(home), *argv], catch_exceptions=False)
        return res.exit_code, res.stdout + res.stderr

    wrks: list[load.Wrk] = []
    try:
        rss_before = load.rss_bytes(server.proc.pid)
        peak = load.RssPeak(server.proc.pid)
        url = f"{server.url}/v1/models/{load.MODEL}"
        wrks = [
            load.Wrk(f"{url}/predict", load.PREDICT_SCRIPT, connections=CONNECTIONS * 3 // 4,
                     seconds=SECONDS, workdir=tmp_path, name="predict", token=token),
            load.Wrk(f"{url}/events", load.EVENTS_SCRIPT, connections=CONNECTIONS // 4,
                     seconds=SECONDS, workdir=tmp_path, name="events", token=token),
        ]  # fmt: skip
        control = load.ControlLoop(mlc)
        control.start()
        results = [w.result(timeout=SECONDS + 120) for w in wrks]
        timed = control.stop()
        rss_peak = peak.stop()
        assert server.proc.poll() is None, "the owner survived"
    finally:
        for w in wrks:
            w.stop()
        server.stop()

    failed = [(t.args, t.code, t.output[-500:]) for t in timed if t.code != 0]
    assert not failed
    ran = load.by_command(timed)
    assert set(ran) == {"status", "deploy", "rollback --dry-run", "audit verify", "ab list"}
    slow = [(t.args, round(t.seconds, 2)) for t in timed if t.seconds > BOUND_S]
    assert not slow, f"{len(slow)} of {len(timed)} control commands took over {BOUND_S} s"

    for result in results:
        assert result.other() == {}, "every answer is 2xx or 503"
        assert result.shed_without_retry == 0, "every 503 carries Retry-After"
        assert result.errors == {"connect": 0, "read": 0, "write": 0, "timeout": 0}
        assert result.ok > 0, "the data plane kept serving"
    assert rss_peak - rss_before < MAX_RSS_GROWTH, (rss_before, rss_peak)
