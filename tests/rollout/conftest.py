from __future__ import annotations

import pytest

from core.engine import LocalEngine
from core.names import features_spec

MODEL = "credit-default"


@pytest.fixture
def served(engine: LocalEngine, artifact_bytes: bytes) -> LocalEngine:
    """A model with three validated versions, v1 deployed to production."""
    engine.create_model(
        MODEL,
        "classification",
        target="default",
        features=features_spec("age:numeric,region:categorical"),
    )
    for _ in range(3):
        engine.register_version(MODEL, artifact_bytes, algorithm="logistic_regression")
    for v in ("v1", "v2", "v3"):
        engine.transition_version(MODEL, v, "validated")
    engine.deploy(MODEL, "v1", reason="first release")
    return engine


def features(i: int) -> dict[str, object]:
    return {"age": 20 + i % 50, "region": ("north", "south", "east")[i % 3]}
