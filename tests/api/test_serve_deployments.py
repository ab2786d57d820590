"""With `mlc serve` running, another shell deploys, rolls out, predicts and rolls back through
the socket, with the same output and exit codes as the embedded mode."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.api.test_serve import Served, _same_times, mlc, start_server

_LATENCY = re.compile(r'(\d+\.\d+ ms|"latency_ms": [0-9.]+)')
_ROLLOUT_ID = re.compile(r"ro-\d{8}-\d{6}-[0-9a-f]{4}")


def _mask(text: str) -> str:
    return _ROLLOUT_ID.sub("<rollout>", _LATENCY.sub("<latency>", _same_times(text)))


@pytest.fixture
def served(tmp_path: Path) -> Served:
    server = start_server(tmp_path / "served")
    yield server
    server.stop()


def test_deploy_rollout_predict_rollback_through_the_socket(
    served: Served, tmp_path: Path, artifact_file: Path
) -> None:
    features = '{"age": 41, "region": "north"}'
    setup = [["models", "create", "credit-default", "--task", "classification",
              "--features", "age:numeric,region:categorical"]]  # fmt: skip
    for v in ("v1", "v2", "v3"):
        setup += [
            ["versions", "register", "credit-default", str(artifact_file), "--algorithm", "lr"],
            ["versions", "transition", "credit-default", v, "validated"],
        ]
    script = [
        *setup,
        ["deploy", "credit-default", "v1", "--reason", "first"],
        ["--json", "deploy", "credit-default", "v2", "--env", "staging"],
        ["predict", "credit-default", "--features", features, "--request-id", "r-1"],
        ["--json", "predict", "credit-default", "--features", features, "--request-id", "r-2"],
        ["predict", "credit-default", "--features", '{"age": "x"}'],
        ["rollout", "start", "credit-default", "v2", "--steps", "10,100", "--interval", "1h",
         "--guardrail", "error_rate<0.05"],
        ["--json", "rollout", "status", "credit-default"],
        ["rollout", "abort", "credit-default", "--yes", "--reason", "not today"],
        ["traffic", "credit-default", "v1=80", "v3=20", "--yes", "--reason", "canary by hand"],
        ["deploy", "credit-default", "v3", "--reason", "all in"],
        ["rollback", "credit-default", "--reason", "v3 misbehaves", "--dry-run"],
        ["--json", "rollback", "credit-default", "--reason", "v3 misbehaves", "--yes"],
        ["rollback", "credit-default", "--reason", "again"],
        ["history", "credit-default"],
        ["--json", "history", "credit-default"],
        ["--json", "audit", "verify"],
    ]  # fmt: skip
    embedded = tmp_path / "embedded"
    codes = []
    for args in script:
        remote = mlc("--store", str(served.home), *args)
        local = mlc("--store", str(embedded), *args)
        assert served.proc.poll() is None, "the server must hold the store throughout"
        assert remote[0] == local[0], (args, remote, local)
        assert _mask(remote[1]) == _mask(local[1]), args
        assert _mask(remote[2]) == _mask(local[2]), args
        codes.append(remote[0])
    assert codes[len(setup) :] == [0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0]
    # The rollback through the socket was audited under the local user.
    code, out, _ = mlc(
        "--store", str(served.home), "--json", "audit", "list", "--action", "deployment.rollback"
    )
    assert code == 0 and '"actor": "local:' in out
