"""Returning users after a split change (issue #18): each unit counts once, in the arm of its
first exposure, and the sample-ratio check compares first exposures with each period's split.

Everything is real: a store, two trained versions (a weak and a strong one), a running A/B
test with unit_id, every prediction routed by the gateway's sticky splitter and logged
durably, labels arriving afterwards, the split changed through the engine.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
import skops.io as sio

from core.abtesting import ABTestConfig
from core.engine import LocalEngine
from core.names import features_spec
from core.serving.splitter import TrafficSplitter
from core.training.catalogue import build_pipeline

MODEL = "churn"
USERS = 2000


def _users(n: int, seed: int) -> tuple[list[dict[str, Any]], np.ndarray]:
    """Each user's features and true label (the rule `tests.conftest.small_frame` uses)."""
    rng = np.random.default_rng(seed)
    age = rng.normal(40, 10, n)
    region = rng.choice(["north", "south", "east"], n)
    y = ((age - 40) / 10 + (region == "south") + rng.normal(0, 1, n) > 0.5).astype(int)
    feats = [{"age": float(a), "region": str(r)} for a, r in zip(age, region, strict=True)]
    return feats, y


def _model_bytes(shuffle: bool) -> bytes:
    feats, y = _users(3000, seed=1)
    if shuffle:  # the weak version learnt from scrambled labels
        y = np.random.default_rng(2).permutation(y)
    pipe = build_pipeline("classification", "logistic_regression", ["age"], ["region"])
    pipe.fit(pl.DataFrame(feats), y)
    return sio.dumps(pipe)


def _serve(
    engine: LocalEngine, round_no: int, feats: list[dict[str, Any]], y: np.ndarray
) -> dict[str, tuple[str, bool]]:
    """Every user once through the prediction path, then their labels arrive;
    {user: (the version that served them, whether its prediction was right)}."""
    served: dict[str, tuple[str, bool]] = {}
    for start in range(0, USERS, 500):
        batch = [
            {"request_id": f"r{round_no}-{i}", "unit_id": f"user-{i}", "features": feats[i]}
            for i in range(start, min(start + 500, USERS))
        ]
        for i, answer in enumerate(engine.predict(MODEL, batch), start):
            served[f"user-{i}"] = (answer.version, str(answer.prediction) == str(y[i]))
    engine.record_actuals(
        MODEL, [{"request_id": f"r{round_no}-{i}", "actual": int(y[i])} for i in range(USERS)]
    )
    return served


def test_returning_users_after_a_split_change_count_once_and_are_no_mismatch(
    engine: LocalEngine,
) -> None:
    engine.create_model(
        MODEL, "classification", features=features_spec("age:numeric,region:categorical")
    )
    engine.register_version(MODEL, _model_bytes(shuffle=True), algorithm="logistic_regression")
    engine.register_version(MODEL, _model_bytes(shuffle=False), algorithm="logistic_regression")
    for v in ("v1", "v2"):
        engine.transition_version(MODEL, v, "validated")
    engine.deploy(MODEL, "v1", reason="the weak one first")
    test = engine.create_ab_test(
        ABTestConfig(
            model=MODEL,
            name="strong vs weak",
            versions=["v1", "v2"],
            split={"v1": 50, "v2": 50},
            unit="unit_id",
            primary_metric="accuracy",
            method="sequential",
            min_sample_per_arm=200,
        )
    )
    engine.start_ab_test(test.id)
    feats, y = _users(USERS, seed=3)

    first = _serve(engine, 1, feats, y)
    engine.update_traffic_split(test.id, {"v1": 30, "v2": 70}, reason="more to the challenger")
    second = _serve(engine, 2, feats, y)

    # What sticky routing must have done, worked out with the splitter on its own.
    salt = f"{MODEL}/production"
    users = [f"user-{i}" for i in range(USERS)]
    before = dict(
        zip(users, TrafficSplitter({"v1": 0.5, "v2": 0.5}, salt).assign_many(users), strict=True)
    )
    after = dict(
        zip(users, TrafficSplitter({"v1": 0.3, "v2": 0.7}, salt).assign_many(users), strict=True)
    )
    assert {u: v for u, (v, _) in first.items()} == before
    assert {u: v for u, (v, _) in second.items()} == after
    moved = sum(before[u] != after[u] for u in users)
    assert all(before[u] == "v1" and after[u] == "v2" for u in users if before[u] != after[u])
    assert 300 < moved < 500  # the users between the 30% and 50% boundaries
    per_arm = {v: sum(before[u] == v for u in users) for v in ("v1", "v2")}

    res = engine.analyze_test_results(test.id)
    srm = res.srm
    assert sum(srm["observed"].values()) == USERS, srm  # the old count: 2,392 "units"
    assert not srm["mismatch"], srm
    assert srm["observed"] == per_arm  # intent to treat: the arm of the first exposure
    assert srm["units"] == USERS
    assert [p["observed"] for p in srm["periods"]] == [per_arm, {"v1": 0, "v2": 0}]
    assert srm["periods"][0]["expected"] == {"v1": USERS / 2, "v2": USERS / 2}
    assert srm["crossed_units"] == moved
    assert srm["p_value"] > 0.01 and srm["df"] == 1
    assert {v: res.arms[v]["accuracy"].n for v in ("v1", "v2")} == per_arm
    assert any(f"{moved:,} of {USERS:,} units" in note for note in res.notes), res.notes

    # Each unit's value is the mean of its in-test events, in the arm of its first exposure.
    for v in ("v1", "v2"):
        values = [(first[u][1] + second[u][1]) / 2 for u in users if before[u] == v]
        arm = res.arms[v]["accuracy"]
        assert arm.mean is not None and arm.sd is not None
        assert abs(arm.mean / np.mean(values) - 1) < 1e-12
        assert abs(arm.sd / np.std(values, ddof=1) - 1) < 1e-12

    assert res.recommendation == "promote v2", res.recommendation
    rev = engine.promote_winner(test.id)
    assert rev.traffic == {"v2": 1.0}
