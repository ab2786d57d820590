from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import skops.io as sio

from core.engine import Engine, LocalEngine
from core.training.catalogue import build_pipeline


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may touch the real ~/.local/share/mlc."""
    monkeypatch.setenv("MLC_HOME", str(tmp_path / "default-home"))
    monkeypatch.delenv("MLC_SERVER", raising=False)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def engine(home: Path) -> Iterator[LocalEngine]:
    eng = LocalEngine.open(home, actor="test:alice")
    try:
        yield eng
    finally:
        eng.close()


def small_frame(n: int = 300, seed: int = 0) -> tuple[pl.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    age = rng.normal(40, 10, n)
    region = rng.choice(["north", "south", "east"], n)
    y = ((age - 40) / 10 + (region == "south") + rng.normal(0, 1, n) > 0.5).astype(int)
    return pl.DataFrame({"age": age, "region": region}), y


@pytest.fixture(scope="session")
def artifact_bytes() -> bytes:
    """A real fitted catalogue pipeline over features age (numeric) and region (categorical)."""
    X, y = small_frame()
    pipe = build_pipeline("classification", "logistic_regression", ["age"], ["region"])
    pipe.fit(X, y)
    return sio.dumps(pipe)


_FITTED: dict[tuple[str, tuple[tuple[str, str], ...]], bytes] = {}


def add_versions(engine: Engine, model: str, upto: int = 2) -> None:
    """Register real fitted pipelines until `model` has versions v1 to v`upto` (log-only
    events may name only versions a model has): over its declared features, else over age
    and region; a classifier's classes are 0 and 1."""
    info = engine.get_model(model)
    task = info.task.value
    declared = tuple((f.name, f.type.value) for f in info.features) or (
        ("age", "numeric"), ("region", "categorical"))  # fmt: skip
    if (task, declared) not in _FITTED:
        rng = np.random.default_rng(0)
        X = pl.DataFrame({
            name: rng.normal(40, 10, 300) if kind != "categorical"
            else rng.choice(["north", "south", "east"], 300)
            for name, kind in declared
        })  # fmt: skip
        score = rng.normal(0, 1, 300)
        numeric = [n for n, k in declared if k != "categorical"]
        categorical = [n for n, k in declared if k == "categorical"]
        algorithm = "logistic_regression" if task == "classification" else "ridge"
        pipe = build_pipeline(task, algorithm, numeric, categorical)
        pipe.fit(X, (score > 0).astype(int) if task == "classification" else score)
        _FITTED[(task, declared)] = sio.dumps(pipe)
    for _ in range(upto - len(engine.list_versions(model))):
        engine.register_version(model, _FITTED[(task, declared)], algorithm="fitted-for-tests")


@pytest.fixture
def artifact_file(tmp_path: Path, artifact_bytes: bytes) -> Path:
    path = tmp_path / "model.skops"
    path.write_bytes(artifact_bytes)
    return path


@pytest.fixture
def credit_model(engine: LocalEngine) -> str:
    engine.create_model(
        "credit-default",
        "classification",
        target="default",
        description="test model",
    )
    return "credit-default"


def env_without_terminal() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("MLC_SERVER", None)
    return env
