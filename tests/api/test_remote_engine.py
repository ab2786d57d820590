"""`RemoteEngine` against the real app: the same objects and the same errors as `LocalEngine`."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
import skops.io as sio
from fastapi.testclient import TestClient

from app.client import RemoteEngine
from core.domain import ApiToken, TrainingStatus
from core.engine import LocalEngine
from core.errors import MlcError, Overloaded, StoreUnavailable
from tests.api.conftest import FEATURES
from tests.conftest import small_frame
from tests.training.conftest import FAST_CONFIG, HGB_SPACE
from tests.untrusted_estimator import SneakyEstimator

Pair = tuple[LocalEngine, RemoteEngine]


@pytest.fixture
def pair(open_app: tuple[LocalEngine, TestClient]) -> Iterator[Pair]:
    local, client = open_app
    remote = RemoteEngine(http=client)
    yield local, remote


@pytest.fixture
def model(pair: Pair, artifact_bytes: bytes) -> str:
    local, _ = pair
    local.create_model("churn", "classification", target="default", features=FEATURES)
    for _ in range(2):
        v = local.register_version("churn", artifact_bytes, algorithm="logistic_regression")
        local.transition_version("churn", v.version, "validated")
    return "churn"


def test_registry_round_trips(pair: Pair, artifact_bytes: bytes) -> None:
    local, remote = pair
    created = remote.create_model(
        "credit", "classification", target="default", features=FEATURES, description="d"
    )
    assert created == local.get_model("credit")
    version = remote.register_version(
        "credit", artifact_bytes, algorithm="lr", parameters={"C": 1.0, "n": 3},
        metrics={"auc": 0.8}, description="first", training_data_hash="abc", tags={"t": "1"},
    )  # fmt: skip
    assert version == local.get_version("credit", "v1")
    assert version.parameters == {"C": 1.0, "n": 3} and isinstance(version.parameters["n"], int)
    assert remote.tag_version("credit", "v1", "team", "risk") == local.get_version("credit", "v1")
    assert remote.set_alias("credit", "v1", "champion", reason="r") == local.get_version(
        "credit", "champion"
    )
    moved = remote.transition_version("credit", "v1", "validated", reason="ok")
    assert moved == local.get_version("credit", "v1")
    assert remote.list_models() == local.list_models()
    assert remote.get_model("credit") == local.get_model("credit")
    assert remote.list_versions("credit") == local.list_versions("credit")
    assert remote.get_version("credit", "champion") == local.get_version("credit", "v1")
    assert remote.actor == local.actor == "local:tester"


def test_audit_round_trips(pair: Pair, model: str) -> None:
    local, remote = pair
    assert remote.list_audit() == local.list_audit()
    since = local.list_audit()[2].at
    assert remote.list_audit(model=model, action="version", since=since, limit=2) == (
        local.list_audit(model=model, action="version", since=since, limit=2)
    )
    assert remote.verify_audit() == local.verify_audit()


def test_training_round_trips(
    pair: Pair, model: str, credit_small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local, remote = pair
    local.create_model("credit-default", "classification", target="default")
    config = tmp_path / "train.toml"
    config.write_text(FAST_CONFIG.format(data=credit_small, algorithm="hist_gradient_boosting",
                                         params="{ max_iter = 20 }", trials=1, space=HGB_SPACE))  # fmt: skip
    monkeypatch.chdir(tmp_path)  # a relative path that exists here is sent absolute
    job = remote.trigger_training("train.toml", model="credit-default")
    assert job.config_path == str(config)
    cancelled = remote.cancel_training(job.id)
    assert cancelled.status is TrainingStatus.CANCELLED
    assert cancelled == local.get_training_status(job.id)
    assert remote.get_training_status(job.id) == local.get_training_status(job.id)
    assert remote.list_jobs(model="credit-default", limit=5) == local.list_jobs(
        model="credit-default", limit=5
    )
    details = remote.job_details(job.id)
    assert details == local.job_details(job.id)
    assert remote.job_details(job.id, after_log=1) == local.job_details(job.id, after_log=1)


def test_validation_round_trips(pair: Pair, model: str, tmp_path: Path) -> None:
    local, remote = pair
    data = _labelled(tmp_path)
    assert remote.validate_model(model, "v1", data) == local.validate_model(model, "v1", data)


def _labelled(tmp_path: Path) -> Path:
    X, y = small_frame(120, seed=3)
    path = tmp_path / "labelled.parquet"
    X.with_columns(default=pl.Series(np.asarray(y))).write_parquet(path)
    return path


def test_deployments_round_trip(pair: Pair, model: str) -> None:
    local, remote = pair
    assert remote.get_deployment(model) is None
    first = remote.deploy(model, "v1", reason="stable")
    assert first == local.get_deployment(model)
    split = remote.set_traffic(model, {"v1": 0.75, "v2": 0.25}, reason="canary",
                               expected_revision=first.revision)  # fmt: skip
    assert split == local.get_deployment(model)
    preview = remote.rollback(model, reason="bad canary", dry_run=True)
    assert remote.get_deployment(model) == split, "a dry run changes nothing"
    done = remote.rollback(model, reason="bad canary")
    assert done.traffic == preview.traffic == {"v1": 1.0}
    assert remote.deployment_history(model) == local.deployment_history(model)
    staging = remote.deployment_history(model, environment="staging")
    assert staging == local.deployment_history(model, environment="staging") == []
    assert remote.get_deployment(model, environment="production") == local.get_deployment(model)


def test_rollouts_round_trip(pair: Pair, model: str) -> None:
    local, remote = pair
    local.deploy(model, "v1", reason="stable")
    started = remote.start_rollout(
        model, "v2", steps=[10, 50, 100], interval_s=600, guardrails=["error_rate<0.5"],
        failure_limit=1, min_samples=5, reason="try v2",
    )  # fmt: skip
    assert started == local.get_rollout(model)
    assert remote.get_rollout(model) == local.get_rollout(model)
    assert remote.pause_rollout(model, reason="look") == local.get_rollout(model)
    assert remote.resume_rollout(model, reason="fine") == local.get_rollout(model)
    assert remote.abort_rollout(model, reason="stop") == local.get_rollout(model)
    remote.start_rollout(model, "v2", steps=[50, 100], interval_s=600, guardrails=[])
    assert remote.promote_rollout(model, reason="ship") == local.get_rollout(model)


def test_data_plane_round_trips(pair: Pair, model: str) -> None:
    local, remote = pair
    local.deploy(model, "v1", reason="stable")
    requests = [{"request_id": f"r-{i}", "features": {"age": 30.0 + i, "region": "north"}}
                for i in range(3)]  # fmt: skip
    got = remote.predict(model, requests)
    assert [p.request_id for p in got] == ["r-0", "r-1", "r-2"]
    again = local.predict(model, [dict(r, request_id=f"x-{i}") for i, r in enumerate(requests)])
    assert [(p.version, p.prediction, p.probabilities) for p in got] == [
        (p.version, p.prediction, p.probabilities) for p in again
    ]
    events = [{"request_id": "e-1", "version": "v1", "prediction": 1, "latency_ms": 1.0,
               "features": {"age": 50.0, "region": "east"}}]  # fmt: skip
    assert remote.log_events(model, events).new == 1
    assert remote.record_actuals(model, [{"request_id": "r-0", "actual": 1}]).new == 1


def test_tokens_round_trip(pair: Pair) -> None:
    local, remote = pair
    token, secret = remote.create_token("ci", "operator")
    assert secret.startswith("mlc_")
    assert isinstance(token, ApiToken) and remote.list_tokens() == local.list_tokens() == [token]
    revoked = remote.revoke_token("ci")
    assert revoked.revoked_at is not None and remote.list_tokens() == local.list_tokens()


def _failure(call: Callable[[], Any]) -> MlcError:
    with pytest.raises(MlcError) as info:
        call()
    return info.value


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda e, a: e.get_model("nope"), id="not found"),
        pytest.param(lambda e, a: e.get_version("churn", "v9"), id="no such version"),
        pytest.param(lambda e, a: e.create_model("churn", "regression"), id="exists"),
        pytest.param(lambda e, a: e.create_model("Bad Name", "regression"), id="invalid name"),
        pytest.param(lambda e, a: e.create_model("x", "clustering"), id="invalid task"),
        pytest.param(
            lambda e, a: e.transition_version("churn", "v1", "registered"), id="illegal transition"
        ),
        pytest.param(
            lambda e, a: e.register_version("churn", b"nope", algorithm="x"), id="not skops"
        ),
        pytest.param(
            lambda e, a: e.register_version("churn", sio.dumps(SneakyEstimator()), algorithm="x"),
            id="untrusted type",
        ),
        pytest.param(lambda e, a: e.revoke_token("nobody"), id="unknown token"),
        pytest.param(lambda e, a: e.cancel_training("job-nope"), id="unknown job"),
        pytest.param(lambda e, a: e.deploy("churn", "v7"), id="deploy unknown version"),
        pytest.param(lambda e, a: e.get_rollout("churn"), id="no rollout"),
        pytest.param(lambda e, a: e.trigger_training("/nowhere.toml"), id="missing config"),
        pytest.param(
            lambda e, a: e.set_traffic("churn", {"v1": 0.5, "v2": 0.6}), id="weights must sum to 1"
        ),
        pytest.param(
            lambda e, a: e.predict("churn", [{"features": {"age": "x"}}]),
            id="predict without deployment",
        ),
    ],
)
def test_errors_are_the_same_class_message_and_exit_code(
    pair: Pair, model: str, call: Callable[[Any, bytes], Any], artifact_bytes: bytes
) -> None:
    local, remote = pair
    expected = _failure(lambda: call(local, artifact_bytes))
    got = _failure(lambda: call(remote, artifact_bytes))
    assert (got.kind, got.message) == (expected.kind, expected.message)
    # The remote raises the kind's class; the local one may be a subclass (IllegalTransition).
    assert isinstance(expected, type(got))
    assert got.exit_code == expected.exit_code


def test_overload_answers_503_with_retry_after(
    pair: Pair, model: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    local, remote = pair

    def behind(*_: Any, **__: Any) -> None:
        raise Overloaded("the event writer is behind; retry shortly", retry_after_s=2.2)

    monkeypatch.setattr(local, "log_posted_events", behind)  # what the events route calls
    with pytest.raises(Overloaded) as info:
        remote.log_events(model, [{"request_id": "a"}])
    assert info.value.message == "the event writer is behind; retry shortly"
    assert info.value.retry_after_s == 3.0


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_server_is_store_unavailable_naming_it(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(StoreUnavailable, match=f"cannot reach the mlc server at {url}"):
        RemoteEngine(url=url).list_models()
    sock = tmp_path / "mlc.sock"
    with pytest.raises(StoreUnavailable, match=f"unix socket {sock}"):
        RemoteEngine(socket=sock).list_models()
