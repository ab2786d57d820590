"""Every request is an event: a version that cannot load or predict fails only its own share,
its failures are stored as its events (and counted by the metrics), a refused request is
counted apart and charged to no version, and each event carries its own version's latency."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import skops.io as sio
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from core.domain import Task
from core.engine import LocalEngine
from core.errors import Conflict, InvalidInput, MlcError
from core.monitoring.window import window_metrics
from core.names import features_spec
from core.training.catalogue import build_pipeline
from storage.repos import events as events_repo
from tests.conftest import small_frame
from tests.serving.conftest import MODEL, features


def fitted(kind: str = "logistic_regression", **params: object) -> bytes:
    """A real fitted catalogue pipeline over age and region; distinct params, distinct bytes."""
    X, y = small_frame()
    pipe = build_pipeline("classification", kind, ["age"], ["region"])
    if params:
        pipe.set_params(**{f"model__{k}": v for k, v in params.items()})
    pipe.fit(X, y)
    return sio.dumps(pipe)


def corrupt(engine: LocalEngine, version: str) -> Path:
    """Flip one byte of the version's artifact, as a disk or a careless hand might."""
    v = engine.registry.get_version(MODEL, version)
    path = engine.artifacts.path_for(v.artifact_sha256)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


def two_versions(engine: LocalEngine, second: bytes) -> None:
    engine.create_model(
        MODEL, "classification", target="default",
        features=features_spec("age:numeric,region:categorical"),
    )  # fmt: skip
    engine.register_version(MODEL, fitted(), algorithm="logistic_regression")
    engine.register_version(MODEL, second, algorithm="logistic_regression")
    for v in ("v1", "v2"):
        engine.transition_version(MODEL, v, "validated")
    engine.deploy(MODEL, "v1", reason="first release")


def unit_for(engine: LocalEngine, version: str) -> str:
    """A unit id the production split sends to `version`."""
    traffic = engine.deployments.current(MODEL, "production").traffic
    from core.serving.splitter import TrafficSplitter

    splitter = TrafficSplitter(traffic, salt=f"{MODEL}/production")
    return next(f"u{i}" for i in range(10_000) if splitter.assign(f"u{i}") == version)


def per_version(engine: LocalEngine) -> dict[int, tuple[int, int]]:
    with engine.store.read() as conn:
        rows = conn.rows(
            "SELECT version, count(*) AS n, count(error) AS errors FROM prediction_events"
            " WHERE model_id = ? GROUP BY version",
            [MODEL],
        )
    return {int(r["version"]): (int(r["n"]), int(r["errors"])) for r in rows}


def test_a_version_that_cannot_load_fails_only_its_share_and_its_failures_are_events(
    home: Path,
) -> None:
    engine = LocalEngine.open(home, actor="test:alice")
    two_versions(engine, fitted(C=0.1))
    engine.set_traffic(MODEL, {"v1": 0.8, "v2": 0.2}, reason="canary")
    engine.close()
    # The corruption appears while v2 serves 20%: the next process to load it finds it.
    corrupt(LocalEngine.open(home), "v2").exists()
    engine = LocalEngine.open(home, actor="test:alice")
    try:
        batch = engine.predict(
            MODEL, [{"unit_id": f"u{i}", "features": features(i)} for i in range(300)]
        )
        failed = [p for p in batch if p.error is not None]
        served = [p for p in batch if p.error is None]
        assert {p.version for p in failed} == {"v2"} and {p.version for p in served} == {"v1"}
        assert 30 <= len(failed) <= 90  # ~20% of 300
        assert all(p.prediction is not None for p in served)
        assert all(p.prediction is None and "IntegrityError" in p.error for p in failed)
        # A lone request that v2 cannot answer fails, naming the version and the cause; a
        # lone request to v1 is answered as if nothing were wrong.
        with pytest.raises(MlcError, match=r"credit-default:v2 failed: IntegrityError"):
            engine.predict(MODEL, [{"unit_id": unit_for(engine, "v2"), "features": features(1)}])
        [ok] = engine.predict(MODEL, [{"unit_id": unit_for(engine, "v1"), "features": features(1)}])
        assert ok.version == "v1" and ok.error is None
        counts = per_version(engine)
        assert counts[2] == (len(failed) + 1, len(failed) + 1)
        assert counts[1] == (len(served) + 1, 0)
        metrics = engine.get_performance_metrics(MODEL)
        rates = {b.version: b.error_rate for b in metrics.buckets}
        assert rates["v2"] == 1.0 and rates["v1"] == 0.0
    finally:
        engine.close()


def test_a_version_that_raises_while_predicting_fails_its_share_too(
    served: LocalEngine,
) -> None:
    """v4 was built outside mlc without imputation: it passes its pre-flight on recent real
    requests, then raises on every request with a missing age, while v1 imputes it."""
    X, y = small_frame()
    bare = Pipeline([
        ("prepare", ColumnTransformer([
            ("num", "passthrough", ["age"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["region"]),
        ])),
        ("model", LogisticRegression()),
    ])  # fmt: skip
    bare.fit(X.to_pandas(), y)
    served.predict(MODEL, [{"features": features(i)} for i in range(5)])  # recent traffic
    served.register_version(MODEL, sio.dumps(bare), algorithm="logistic_regression")
    served.transition_version(MODEL, "v4", "validated")
    served.set_traffic(MODEL, {"v1": 0.5, "v4": 0.5}, reason="canary")
    batch = served.predict(
        MODEL, [{"unit_id": f"u{i}", "features": {"region": "north"}} for i in range(60)]
    )
    failed = [p for p in batch if p.error]
    assert failed and {p.version for p in failed} == {"v4"}
    assert all(p.error.startswith("ValueError") and "NaN" in p.error for p in failed)
    assert {p.version for p in batch if not p.error} == {"v1"}
    assert per_version(served)[4] == (len(failed), len(failed))


def test_refused_input_is_counted_apart_and_never_charged_to_a_version(
    served: LocalEngine,
) -> None:
    served.predict(MODEL, [{"features": features(1)}])
    bad = [
        [{"features": {"age": "old"}}],
        [{"features": {"age": 1, "colour": "red"}}],
        [{"features": features(1)}, {"features": features(2)}, "not an object"],
        [],
    ]
    for requests in bad:
        with pytest.raises(InvalidInput):
            served.predict(MODEL, requests)
    with served.store.read() as conn:
        invalid = events_repo.invalid_count(conn, MODEL, datetime(2000, 1, 1), datetime(3000, 1, 1))
        reasons = [r["reason"] for r in conn.rows("SELECT reason FROM invalid_requests")]
    assert invalid == 1 + 1 + 3 + 0
    assert any("unknown feature 'colour'" in r for r in reasons)
    assert per_version(served) == {1: (1, 0)}  # no version was charged
    # What alert rules on `invalid_rate` / `invalid_requests` measure over the model.
    values = window_metrics(
        served.store, MODEL, Task.CLASSIFICATION, datetime(2000, 1, 1), datetime(3000, 1, 1)
    )
    assert values["invalid_requests"] == (5.0, 6) and values["invalid_rate"] == (5 / 6, 6)
    assert values["error_rate"] == (0.0, 1)
    # The fleet (console, `mlc status`) shows them beside, not inside, the error rate.
    [row] = served.fleet_status(60)
    assert (row.requests, row.error_rate) == (1, 0.0)
    assert (row.invalid, row.invalid_rate) == (5, 5 / 6)
    assert "invalid_rate" not in window_metrics(
        served.store, MODEL, Task.CLASSIFICATION, datetime(2000, 1, 1), datetime(3000, 1, 1),
        version=1,
    )  # fmt: skip


def test_a_slow_version_shows_its_own_latency_in_a_batch(
    engine: LocalEngine,
) -> None:
    """A batch split between a fast and a slow version: each event carries the time of its
    own version's work, so the slow canary's latency is told apart from the stable one's."""
    X, y = small_frame(n=3000)
    slow = build_pipeline("classification", "random_forest", ["age"], ["region"])
    slow.set_params(model__n_estimators=400, model__max_depth=None, model__min_samples_leaf=1)
    slow.fit(X, y)
    two_versions(engine, sio.dumps(slow))
    engine.set_traffic(MODEL, {"v1": 0.5, "v2": 0.5}, reason="canary")
    for round_no in range(8):
        engine.predict(
            MODEL,
            [{"unit_id": f"r{round_no}-u{i}", "features": features(i)} for i in range(100)],
        )
    metrics = engine.get_performance_metrics(MODEL)
    p99 = {b.version: b.latency_p99_ms for b in metrics.buckets}
    p50 = {b.version: b.latency_p50_ms for b in metrics.buckets}
    assert p99["v2"] > p99["v1"] and p50["v2"] > p50["v1"]
    with engine.store.read() as conn:
        distinct = conn.scalar(
            "SELECT count(DISTINCT latency_ms) FROM prediction_events WHERE model_id = ?", [MODEL]
        )
    assert distinct >= 16  # two figures per batch (one per version), not one


def test_a_version_that_cannot_load_is_refused_before_any_revision(engine: LocalEngine) -> None:
    two_versions(engine, fitted(C=0.1))
    corrupt(engine, "v2")
    before = engine.deployment_history(MODEL)
    for change in (
        lambda: engine.deploy(MODEL, "v2", reason="go"),
        lambda: engine.set_traffic(MODEL, {"v1": 0.9, "v2": 0.1}, reason="canary"),
    ):
        with pytest.raises(
            Conflict, match=r"credit-default:v2 failed its pre-flight check.*IntegrityError"
        ):
            change()
    assert engine.deployment_history(MODEL) == before
    assert engine.deployments.current(MODEL, "production").traffic == {"v1": 1.0}
