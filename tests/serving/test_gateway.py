"""The prediction path and log-only ingest, in process, on real DuckDB files."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from core.domain import FeatureType
from core.engine import LocalEngine
from core.errors import Conflict, InvalidInput
from core.events.fields import check_features
from core.model_frame import model_dtypes, to_model_frame
from storage.repos import events as events_repo
from tests.serving.conftest import MODEL, features

ROOT = Path(__file__).resolve().parents[2]


def _stored(engine: LocalEngine, table: str = "prediction_events") -> int:
    with engine.store.read() as conn:
        return events_repo.count(conn, table, MODEL)


def test_predict_answers_and_logs_each_request_durably(served: LocalEngine) -> None:
    [one] = served.predict(MODEL, [{"request_id": "r-1", "features": features(1)}])
    assert one.request_id == "r-1" and one.version == "v1" and one.prediction in (0, 1)
    assert one.probabilities is not None and set(one.probabilities) == {"0", "1"}
    assert sum(one.probabilities.values()) == pytest.approx(1.0)
    assert one.latency_ms > 0
    batch = served.predict(MODEL, [{"features": features(i)} for i in range(100)])
    assert len(batch) == 100 and len({p.request_id for p in batch}) == 100
    assert _stored(served) == 101  # acknowledged → committed


def test_checked_features_make_the_frame_training_made() -> None:
    """The gateway builds the estimator's frame straight from checked features, skipping
    `to_model_frame`: it must be the very frame that function makes of the raw rows."""
    schema = {
        "age": FeatureType.NUMERIC,
        "income": FeatureType.NUMERIC,
        "cosigner": FeatureType.BINARY,
        "region": FeatureType.CATEGORICAL,
        "grade": FeatureType.CATEGORICAL,
    }
    raw = [
        {"age": 31, "income": 52_000.5, "cosigner": True, "region": "north", "grade": 3},
        {"age": 47.5, "income": None, "cosigner": 0, "region": None, "grade": 2},
        {"age": None, "income": 0, "cosigner": None, "region": "east", "grade": None},
    ]
    typed = pl.DataFrame(
        [check_features(r, schema) for r in raw], schema=model_dtypes(schema), orient="row"
    )
    assert_frame_equal(typed, to_model_frame(pl.DataFrame(raw, strict=False), schema))


def test_a_version_is_loaded_once_however_many_ask_at_once(
    served: LocalEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = served.serving.registry
    loads = 0
    real = registry.load_estimator

    def counted(model: str, version: str) -> object:
        nonlocal loads
        loads += 1
        time.sleep(0.2)  # a slow load, so that every thread asks while it runs
        return real(model, version)

    monkeypatch.setattr(registry, "load_estimator", counted)
    served.serving._loaded.clear()  # as in a process that starts serving: the deploy's
    # pre-flight loaded v1 into this one's cache
    go = threading.Barrier(6)
    answered: list[str] = []

    def ask() -> None:
        go.wait()
        answered.append(served.predict(MODEL, [{"features": features(1)}])[0].version)

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert loads == 1 and answered == ["v1"] * 6


def test_routing_is_sticky_per_unit_and_follows_the_split(served: LocalEngine) -> None:
    served.set_traffic(MODEL, {"v1": 0.5, "v2": 0.5}, reason="a/b")
    reqs = [{"unit_id": f"user-{i}", "features": features(i)} for i in range(400)]
    first = [p.version for p in served.predict(MODEL, reqs)]
    second = [p.version for p in served.predict(MODEL, reqs)]
    assert first == second
    assert 150 < first.count("v2") < 250


def test_a_new_revision_reroutes_at_once(served: LocalEngine) -> None:
    assert served.predict(MODEL, [{"features": features(0)}])[0].version == "v1"
    served.deploy(MODEL, "v2")
    assert served.predict(MODEL, [{"features": features(0)}])[0].version == "v2"


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({"features": {"age": "old", "region": "north"}}, "feature 'age' must be a number"),
        ({"features": {"age": 30, "region": "north", "income": 1}}, "unknown feature 'income'"),
        ({"features": {"age": float("nan"), "region": "north"}}, "NaN and infinity are refused"),
        ({"features": {"age": 10**400, "region": "north"}}, "'age' is too large for a number"),
        ({"features": {"age": 30, "region": ["north"]}}, "feature 'region' must be a string"),
        ({"features": [1, 2]}, "features must be a JSON object"),
        ({"request_id": "", "features": {"age": 30}}, "request_id must be a non-empty string"),
    ],
)
def test_bad_requests_are_refused_and_nothing_is_logged(
    served: LocalEngine, request_: dict, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        served.predict(MODEL, [{"features": features(0)}, request_])
    assert _stored(served) == 0


def test_missing_values_are_allowed_as_null(served: LocalEngine) -> None:
    [p] = served.predict(MODEL, [{"features": {"age": None, "region": "west"}}])
    assert p.version == "v1"


def test_no_deployment_means_conflict(engine: LocalEngine, artifact_bytes: bytes) -> None:
    engine.create_model("other", "classification")
    with pytest.raises(Conflict, match="no production deployment"):
        engine.predict("other", [{"features": {}}])


def test_log_only_events_and_actuals_are_idempotent(served: LocalEngine) -> None:
    events = [
        {"request_id": f"ext-{i}", "version": "v1", "prediction": i % 2, "score": 0.4,
         "latency_ms": 3.5, "features": features(i)}
        for i in range(1000)
    ]  # fmt: skip
    assert served.log_events(MODEL, events).new == 1000
    served.log_events(MODEL, events)  # a retried batch
    served.log_events(MODEL, events[:10])
    assert _stored(served) == 1000
    actuals = [{"request_id": f"ext-{i}", "actual": 1} for i in range(500)]
    served.record_actuals(MODEL, actuals)
    served.record_actuals(MODEL, actuals)
    assert _stored(served, "actuals") == 500
    with pytest.raises(InvalidInput, match="item 1: request_id is required"):
        served.log_events(MODEL, [events[0], {"prediction": 1}])
    with pytest.raises(InvalidInput, match="item 0: actual is required"):
        served.record_actuals(MODEL, [{"request_id": "x"}])


def test_predictions_run_single_threaded_even_when_the_first_request_loads_the_model(
    served: LocalEngine,
) -> None:
    """scikit-learn brings its OpenMP runtime with the first model it loads. A limit set
    before then reaches nothing: a request that beat the model preload once left its worker
    thread on a full thread team for good, whose idle thread spun between requests."""
    served.close()
    code = textwrap.dedent(f"""
        import threading, threadpoolctl
        from pathlib import Path
        from core.engine import LocalEngine

        def openmp():
            return [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "openmp"]

        engine = LocalEngine.open(Path({str(served.store.home)!r}))
        assert not openmp(), "no OpenMP runtime before a model is loaded"
        seen = []
        def request():
            engine.predict({MODEL!r}, [{{"features": {features(0)!r}}}])
            seen.extend(i["num_threads"] for i in openmp())
        worker = threading.Thread(target=request)
        worker.start()
        worker.join()
        engine.close()
        print(seen)
    """)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[1]"


def test_a_lone_request_is_answered_at_once_only_when_nothing_can_block_it(
    served: LocalEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.serving import gateway

    monkeypatch.setattr(gateway, "INLINE_BUDGET_MS", 1e9)  # however loaded the machine
    served.serving._loaded.clear()  # a serving process's start: the deploy's pre-flight
    lone = [{"features": features(0)}]  # loaded v1 into this one
    assert not served.serving.answers_at_once(
        MODEL, "production", lone
    )  # its cost is not known yet
    served.predict(MODEL, lone)
    assert not served.serving.answers_at_once(
        MODEL, "production", lone
    )  # that one loaded the model: no measure
    served.predict(MODEL, lone)
    assert served.serving.answers_at_once(MODEL, "production", lone)
    assert not served.serving.answers_at_once(
        MODEL, "production", lone * 2
    )  # a batch: a worker thread's job
    assert not served.serving.answers_at_once(
        MODEL, "production", [{"entity": "c-1"}]
    )  # a store lookup
    assert not served.serving.answers_at_once(MODEL, "staging", lone)  # no route yet
    monkeypatch.setattr(gateway, "INLINE_BUDGET_MS", 0.0)
    assert not served.serving.answers_at_once(
        MODEL, "production", lone
    )  # slower lately than the budget
    monkeypatch.setattr(gateway, "INLINE_BUDGET_MS", 1e9)
    served.set_traffic(MODEL, {"v1": 0.5, "v2": 0.5}, reason="a/b")
    assert not served.serving.answers_at_once(
        MODEL, "production", lone
    )  # a new split: its cost is unknown
    served.serving.close()  # waits for the new split's versions to load
    served.predict(MODEL, lone)
    assert served.serving.answers_at_once(MODEL, "production", lone)


def test_a_batch_is_answered_at_once_only_when_known_fast_and_nothing_else_predicts(
    served: LocalEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch may run on the event loop when its route answered batches within the budget
    lately (per item, so a bigger batch can be too slow) and no other prediction is under
    way: batches arriving together go to worker threads, where they overlap."""
    from core.serving import gateway

    monkeypatch.setattr(gateway, "INLINE_BUDGET_MS", 1e9)
    batch = [{"features": features(i)} for i in range(10)]
    served.predict(MODEL, [{"features": features(0)}])  # loads the model
    served.predict(MODEL, [{"features": features(0)}])
    assert not served.serving.answers_at_once(MODEL, "production", batch)  # cost unknown
    expected = [(p.version, p.prediction) for p in served.predict(MODEL, batch)]
    assert served.serving.answers_at_once(MODEL, "production", batch)
    stored = _stored(served)
    found = served.predict_at_once(MODEL, batch)  # what the server's event loop calls
    assert found is not None and [(p.version, p.prediction) for p in found] == expected
    assert _stored(served) == stored + len(batch)  # logged like any other prediction
    assert not served.serving.answers_at_once(
        MODEL, "production", [*batch, {"entity": "c-1"}]
    )  # a store lookup
    per_item = served.serving._routes[(MODEL, "production")].item_ms
    assert per_item is not None
    monkeypatch.setattr(gateway, "INLINE_BUDGET_MS", per_item * 50)
    assert served.serving.answers_at_once(MODEL, "production", batch)
    assert not served.serving.answers_at_once(MODEL, "production", batch * 10)  # 100 items
    monkeypatch.setattr(gateway, "INLINE_BUDGET_MS", 1e9)

    entered, release = threading.Event(), threading.Event()
    check_features = gateway.req.check_features

    def slow_check(*args: Any, **kwargs: Any) -> dict[str, Any]:
        entered.set()
        release.wait(10)
        return check_features(*args, **kwargs)

    monkeypatch.setattr(gateway.req, "check_features", slow_check)
    worker = threading.Thread(target=served.predict, args=(MODEL, batch))
    worker.start()
    try:
        assert entered.wait(10)
        assert not served.serving.answers_at_once(MODEL, "production", batch)
        assert served.serving.answers_at_once(MODEL, "production", batch[:1])  # a lone one may
    finally:
        release.set()
        worker.join()
    assert served.serving.answers_at_once(MODEL, "production", batch)


def test_an_answer_at_once_never_loads_a_model_or_reads_the_store(
    served: LocalEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the check and the prediction a deploy (or an eviction) can leave a version
    unloaded: the prediction on the event loop then declines, with nothing written, rather
    than load the model there."""
    from core.serving import gateway

    monkeypatch.setattr(gateway, "INLINE_BUDGET_MS", 1e9)  # however loaded the machine
    lone = [{"features": features(0)}]
    served.predict(MODEL, lone)
    served.predict(MODEL, lone)
    assert served.predict_at_once(MODEL, lone) is not None  # answered from memory
    monkeypatch.setattr(served.serving, "answers_at_once", lambda *a: True)  # the race
    served.serving._loaded.clear()
    assert served.predict_at_once(MODEL, lone) is None
    assert not served.serving._loaded  # nothing loaded on the caller's loop
    assert _stored(served) == 3
