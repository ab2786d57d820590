"""The fault test of a corrupted canary, end to end: real `mlc` processes, a real `mlc serve`
on loopback, a real store.

v1 serves 100%. A rollout to a v2 whose artifact was corrupted after registration is refused
before any revision is written. When the corruption appears while v2 serves 20% (the serving
process meets it when it loads v2), only that 20% fails; the failures show in `mlc status`
and `mlc metrics` as errors of v2, and the rollout aborts and restores v1 at its next
analysis, naming the errors.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from core.engine import LocalEngine
from core.names import features_spec
from tests.e2e.server import Server
from tests.serving.conftest import MODEL, features
from tests.serving.test_failures import fitted

ROLLOUT = [
    "--steps", "20,100", "--interval", "25s", "--guardrail", "error_rate<0.05", "--min-samples", "30",
]  # fmt: skip


def _json(result: object) -> dict:
    assert result.returncode in (0, 1, 3, 4), result.stderr  # type: ignore[attr-defined]
    return json.loads(result.stdout)  # type: ignore[attr-defined]


def _flip(path: Path, good: bytes) -> None:
    data = bytearray(good)
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_a_corrupted_canary_is_refused_then_fails_only_its_share_and_is_rolled_back(
    tmp_path: Path,
) -> None:
    home = tmp_path / "store"
    engine = LocalEngine.open(home, actor="test:setup")
    engine.create_model(
        MODEL, "classification", target="default",
        features=features_spec("age:numeric,region:categorical"),
    )  # fmt: skip
    engine.register_version(MODEL, fitted(), algorithm="logistic_regression")
    v2 = engine.register_version(MODEL, fitted(C=0.1), algorithm="logistic_regression")
    for v in ("v1", "v2"):
        engine.transition_version(MODEL, v, "validated")
    engine.deploy(MODEL, "v1", reason="stable")
    artifact = engine.artifacts.path_for(v2.artifact_sha256)
    good = artifact.read_bytes()
    engine.close()
    server = Server(home).start()
    try:
        # 1. Corrupted after registration: refused before any revision is written.
        _flip(artifact, good)
        refused = server.mlc("--json", "rollout", "start", MODEL, "v2", *ROLLOUT)
        assert refused.returncode == 4, refused.stdout + refused.stderr
        error = _json(refused)["error"]["message"]
        assert "credit-default:v2 failed its pre-flight check" in error
        assert "IntegrityError" in error
        history = _json(server.mlc("--json", "history", MODEL))["revisions"]
        assert [r["traffic"] for r in history] == [{"v1": 1.0}]
        assert server.mlc("--json", "rollout", "status", MODEL).returncode == 3  # no rollout
        deploy = server.mlc("--json", "deploy", MODEL, "v2")
        assert deploy.returncode == 4 and "pre-flight" in deploy.stdout

        # 2. Sound, v2 starts its rollout at 20%...
        artifact.write_bytes(good)
        started = _json(server.mlc("--json", "rollout", "start", MODEL, "v2", *ROLLOUT))
        assert started["status"] == "running"
        # ...then the corruption appears, and a serving process meets it when it loads v2:
        # here the owner restarts (a deploy of the host, a crash); a replica would too.
        _flip(artifact, good)
        server.stop()
        server.start()
        outcomes = _traffic_until_the_rollout_ends(server)
    finally:
        server.stop()
    # Only the canary's share failed, every one of its requests; v1 answered the rest.
    assert set(outcomes["v1"]) == {200} and set(outcomes["v2"]) == {500}
    while_canary = len(outcomes["v2"]) / (len(outcomes["v2"]) + len(outcomes["v1:during"]))
    assert 0.1 < while_canary < 0.3, outcomes

    server.start()  # read what was stored, through a fresh owner
    try:
        status = _json(server.mlc("--json", "status", "--window", "10m"))["models"][0]
        assert 0.05 < status["error_rate"] < 0.3
        buckets = _json(server.mlc("--json", "metrics", MODEL, "--since", "10m"))["buckets"]
        by_version: dict[str, set[float]] = {}
        for b in buckets:
            by_version.setdefault(b["version"], set()).add(b["error_rate"])
        assert by_version["v2"] == {1.0} and by_version["v1"] == {0.0}
        # 3. The analysis after the step's interval aborted the rollout and restored v1,
        # naming the errors.
        rollout = _json(server.mlc("--json", "rollout", "status", MODEL))
        assert rollout["status"] == "aborted", (rollout["reason"], rollout["analyses"])
        assert "error_rate" in rollout["reason"] and "IntegrityError" in rollout["reason"]
        history = _json(server.mlc("--json", "history", MODEL))["revisions"]
        assert history[-1]["kind"] == "abort" and history[-1]["traffic"] == {"v1": 1.0}
    finally:
        server.stop()


def _traffic_until_the_rollout_ends(server: Server) -> dict[str, list[int]]:
    """Lone predictions and batches, each user sticky, until the rollout is no longer
    running (or a minute passed), then a few more: status codes by the version named."""
    outcomes: dict[str, list[int]] = {"v1": [], "v1:during": [], "v2": []}
    deadline = time.monotonic() + 90
    i = 0
    ended = False
    with httpx.Client(base_url=server.url, timeout=30) as http:
        while time.monotonic() < deadline:
            r = http.post(
                f"/v1/models/{MODEL}/predict",
                json={"unit_id": f"user-{i % 400}", "features": features(i)},
            )
            body = r.json()
            if r.status_code == 200:
                outcomes[body["version"]].append(200)
                if not ended:
                    outcomes["v1:during"].append(200)
            else:
                assert r.status_code == 500 and "credit-default:v2 failed" in body["detail"]
                assert "IntegrityError" in body["detail"]
                outcomes["v2"].append(r.status_code)
            i += 1
            # A batch every 10 requests: the step's 25 s holds the 30 canary samples the
            # analysis needs even when lone requests are slow (a loaded machine), so the
            # rollout is judged rather than paused for too few samples.
            if i % 10 == 0:
                batch = http.post(
                    f"/v1/models/{MODEL}/predict",
                    json=[{"unit_id": f"batch-{j}", "features": features(j)} for j in range(100)],
                )
                assert batch.status_code == 200
                for a in batch.json():
                    assert (a["version"], "error" in a) in (("v1", False), ("v2", True))
                    assert ("error" in a) == (a["prediction"] is None)
                if ended:
                    break
                rollout = http.get(f"/api/v1/models/{MODEL}/rollouts/production").json()
                ended = rollout["status"] != "running"
    assert ended, "the rollout was never analysed"
    return outcomes
