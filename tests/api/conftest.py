from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from fastapi.testclient import TestClient

from app.api import create_app
from core.domain import Feature, FeatureType, Role
from core.engine import LocalEngine
from tests.conftest import small_frame
from tests.training.conftest import FAST_CONFIG, HGB_SPACE, credit_small  # noqa: F401 (fixture)

FEATURES = [Feature("age", FeatureType.NUMERIC), Feature("region", FeatureType.CATEGORICAL)]


@pytest.fixture(autouse=True)
def _no_token_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLC_TOKEN", raising=False)


@dataclass
class World:
    """One store behind an authenticated app, with what routes need to succeed."""

    engine: LocalEngine
    client: TestClient
    artifact: bytes
    dir: Path
    secrets: dict[Role, str] = field(default_factory=dict)
    revoked_secret: str = ""
    shared: str = "shared"
    job_id: str = ""
    labelled: Path = Path()
    training_config: Path = Path()
    cleanups: list[Callable[[], None]] = field(default_factory=list)
    _names: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def unique(self, prefix: str = "m") -> str:
        return f"{prefix}-{next(self._names)}"

    def model(self, versions: int = 1, *, validated: bool = True) -> str:
        """A new model with `versions` versions, validated unless told otherwise."""
        name = self.unique()
        self.engine.create_model(name, "classification", target="default", features=FEATURES)
        for _ in range(versions):
            v = self.engine.register_version(name, self.artifact, algorithm="logistic_regression")
            if validated:
                self.engine.transition_version(name, v.version, "validated")
        return name

    def deployed(self, versions: int = 2) -> str:
        name = self.model(versions)
        self.engine.deploy(name, "v1", reason="stable")
        return name

    def rolling_out(self) -> str:
        name = self.deployed(2)
        self.engine.start_rollout(
            name, "v2", steps=[50, 100], interval_s=3600, guardrails=["error_rate<0.5"]
        )
        return name

    def headers(self, role: Role | None) -> dict[str, str]:
        return {} if role is None else {"Authorization": f"Bearer {self.secrets[role]}"}


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory,
    artifact_bytes: bytes,
    credit_small: Path,  # noqa: F811 (the fixture imported above)
) -> Iterator[World]:
    root = tmp_path_factory.mktemp("api")
    engine = LocalEngine.open(root / "store", actor="local:tester")
    app = create_app(engine, require_auth=True)
    # raise_server_exceptions: a bug behind a route fails its test with its own traceback.
    client = TestClient(app, raise_server_exceptions=True)
    w = World(engine=engine, client=client, artifact=artifact_bytes, dir=root)
    for role in Role:
        _, w.secrets[role] = engine.create_token(f"{role.value}-token", role.value)
    _, w.revoked_secret = engine.create_token("revoked-admin", "admin")
    engine.revoke_token("revoked-admin")

    engine.create_model("shared", "classification", target="default", features=FEATURES)
    engine.register_version("shared", artifact_bytes, algorithm="logistic_regression")
    engine.transition_version("shared", "v1", "validated")
    X, y = small_frame(200, seed=1)
    w.labelled = root / "labelled.parquet"
    X.with_columns(default=pl.Series(np.asarray(y))).write_parquet(w.labelled)

    engine.create_model("credit-default", "classification", target="default")
    w.training_config = root / "train.toml"
    w.training_config.write_text(
        FAST_CONFIG.format(data=credit_small, algorithm="hist_gradient_boosting",
                           params="{ max_iter = 20 }", trials=1, space=HGB_SPACE)
    )  # fmt: skip
    w.job_id = engine.trigger_training(w.training_config, model="credit-default").id
    engine.cancel_training(w.job_id)
    try:
        yield w
    finally:
        client.close()
        engine.close()


@pytest.fixture
def open_app(home: Path) -> Iterator[tuple[LocalEngine, TestClient]]:
    """An app without auth (what the Unix socket serves, and `--insecure` on loopback), over a
    fresh store; the client calls it as localhost (see `app.api.guard`)."""
    engine = LocalEngine.open(home, actor="local:tester")
    client = TestClient(
        create_app(engine, require_auth=False),
        base_url="http://localhost",
        raise_server_exceptions=False,
    )
    try:
        yield engine, client
    finally:
        client.close()
        engine.close()
