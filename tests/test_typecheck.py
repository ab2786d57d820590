"""The type checker holds both engines to the `Engine` protocol.

`.ci/run` runs basedpyright over the whole project; this test shows that a signature drifting
from the protocol is an error it reports, for `LocalEngine` and for `RemoteEngine`, and that
the same probe with the protocol's own signatures is clean (so the errors come from the drift,
not from the probe)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECKER = Path(sys.executable).parent / "basedpyright"

PROBE = """\
from typing import Any

from app.client import RemoteEngine
from core.domain import Ingested, ModelVersion
from core.engine import Engine, LocalEngine


class LocalProbe(LocalEngine):
    def get_version(self, model: str, ref: {name}) -> ModelVersion:
        raise NotImplementedError


class RemoteProbe(RemoteEngine):
    def log_events(self, model: str, events: {events}) -> Ingested:
        raise NotImplementedError


def local(engine: LocalProbe) -> Engine:
    return engine


def remote(engine: RemoteProbe) -> Engine:
    return engine
"""


def check(tmp_path: Path, *, name: str, events: str) -> list[tuple[int, str]]:
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE.format(name=name, events=events))
    done = subprocess.run(
        [str(CHECKER), "--project", str(ROOT / "pyproject.toml"), "--outputjson", str(probe)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    found = json.loads(done.stdout)
    return [
        (d["range"]["start"]["line"] + 1, d.get("rule", ""))
        for d in found["generalDiagnostics"]
        if d["severity"] == "error"
    ]


@pytest.mark.skipif(not CHECKER.exists(), reason="basedpyright is a dev dependency")
def test_a_signature_that_drifts_from_the_protocol_fails_the_check(tmp_path: Path) -> None:
    lines = PROBE.splitlines()
    local_def = (
        lines.index("    def get_version(self, model: str, ref: {name}) -> ModelVersion:") + 1
    )
    remote_return = lines.index("def remote(engine: RemoteProbe) -> Engine:") + 2

    drifted = check(tmp_path, name="int", events="bytes")
    # LocalEngine inherits each operation from its capability's protocol, so a drifted
    # implementation is an incompatible override; RemoteEngine matches `Engine` structurally.
    assert (local_def, "reportIncompatibleMethodOverride") in drifted, drifted
    assert (remote_return, "reportReturnType") in drifted, drifted

    faithful = check(tmp_path, name="str", events="list[dict[str, Any]] | bytes")
    assert faithful == [], faithful
