from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import skops.io as sio

from core.abtesting import ABTestingEngine
from core.deployments.manager import DeploymentManager
from core.domain import Task
from core.events.frames import actuals_frame, events_frame
from core.registry import ModelRegistry, NewVersion
from core.training.catalogue import build_pipeline
from storage.artifacts import ArtifactStore
from storage.repos.events import insert_frame
from storage.store import Store
from tests.conftest import small_frame
from tests.serving.conftest import served  # noqa: F401 (a fixture: the whole LocalEngine)

MODEL = "churn"


@dataclass
class Env:
    store: Store
    registry: ModelRegistry
    deployments: DeploymentManager
    ab: ABTestingEngine


@pytest.fixture(scope="session")
def pipeline_bytes() -> bytes:
    X, y = small_frame()
    pipe = build_pipeline("classification", "logistic_regression", ["age"], ["region"])
    pipe.fit(X, y)
    return sio.dumps(pipe)


@pytest.fixture
def env(tmp_path: Path, pipeline_bytes: bytes) -> Iterator[Env]:
    store = Store.open(tmp_path / "store")
    registry = ModelRegistry(store, ArtifactStore(store.artifacts_dir))
    deployments = DeploymentManager(store, registry)
    registry.create_model(MODEL, "classification", actor="test")
    for _ in range(3):
        registry.register_version(
            MODEL,
            pipeline_bytes,
            NewVersion(algorithm="logistic_regression", parameters={}, performance_metrics={}),
            actor="test",
        )
    for v in ("v1", "v2", "v3"):
        registry.transition(MODEL, v, "validated", actor="test")
    deployments.deploy(MODEL, "v1", "production", actor="test", reason="first")
    try:
        yield Env(store, registry, deployments, ABTestingEngine(store, registry, deployments))
    finally:
        store.close()


def log_arm(
    env: Env,
    version: str,
    n: int,
    *,
    accuracy: float,
    error_rate: float = 0.0,
    latency: float = 5.0,
    seed: int = 0,
    prefix: str = "",
    units: int | None = None,
) -> None:
    """n events for `version` with labels arriving; exact share `accuracy` correct. With
    `units`, the events come from that many users of this version (routing is sticky)."""
    rng = np.random.default_rng(seed)
    correct = np.zeros(n, dtype=bool)
    correct[: round(accuracy * n)] = True
    rng.shuffle(correct)
    failed = np.zeros(n, dtype=bool)
    failed[: round(error_rate * n)] = True
    rng.shuffle(failed)
    events: list[dict[str, Any]] = []
    actuals: list[dict[str, Any]] = []
    for i in range(n):
        rid = f"{prefix}{version}-{i}"
        pred = int(rng.integers(0, 2))
        events.append(
            {
                "request_id": rid,
                "version": version,
                "prediction": pred,
                "latency_ms": float(latency + rng.exponential(1.0)),
                "error": "Boom" if failed[i] else None,
                "unit_id": None if units is None else f"{version}-u{i % units}",
            }
        )
        actuals.append({"request_id": rid, "actual": pred if correct[i] else 1 - pred})
    with env.store.write() as conn:
        insert_frame(
            conn, "prediction_events", events_frame(MODEL, Task.CLASSIFICATION, {}, events)
        )
        insert_frame(conn, "actuals", actuals_frame(MODEL, Task.CLASSIFICATION, actuals))
