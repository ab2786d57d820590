from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from core.domain import TrainingJob
from core.engine import LocalEngine

ROOT = Path(__file__).resolve().parents[2]
CREDIT = ROOT / "sample_data" / "credit" / "credit.parquet"

FAST_CONFIG = """
[model]
name = "credit-default"
task = "classification"

[data]
path = "{data}"
target = "default"
timestamp = "applied_at"
exclude = ["application_id"]

[split]
method = "time"
holdout = 0.25
seed = 42

[algorithm]
name = "{algorithm}"
params = {params}

[search]
strategy = "random"
trials = {trials}
cv = 2
seed = 7
metric = "roc_auc"

[search.space]
{space}

[gates]
min = {{ roc_auc = 0.6 }}
champion_metric = "roc_auc"
champion_tolerance = 0.01
"""

HGB_SPACE = "learning_rate = { low = 0.05, high = 0.3, log = true }"

ONE_FIT_CONFIG = """
[model]
name = "{model}"
task = "classification"

[data]
path = "{data}"
target = "default"
timestamp = "applied_at"
exclude = ["application_id"]

[split]
method = "time"
holdout = 0.25
seed = 42

[algorithm]
name = "hist_gradient_boosting"
params = {params}

[gates]
min = {{ roc_auc = {min_auc} }}
"""


def one_fit_config(
    data: Path,
    *,
    model: str = "credit-default",
    params: str = "{ max_iter = 20, max_depth = 3 }",
    min_auc: float = 0.6,
    extra: str = "",
) -> str:
    """A config with no search (one fit, a second or so): for tests that need a version
    trained by mlc (reference profile, lineage) rather than a tuned one."""
    text = ONE_FIT_CONFIG.format(model=model, data=data, params=params, min_auc=min_auc)
    return text + extra


@pytest.fixture(scope="session")
def credit_small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 4,000 credit applications: enough signal, quick to fit."""
    path = tmp_path_factory.mktemp("data") / "credit_small.parquet"
    pl.read_parquet(CREDIT).head(4000).write_parquet(path)
    return path


WriteConfig = Callable[..., Path]


@pytest.fixture
def write_config(tmp_path: Path, credit_small: Path) -> WriteConfig:
    counter = iter(range(1000))

    def write(
        *,
        data: Path | None = None,
        algorithm: str = "hist_gradient_boosting",
        params: str = "{ max_iter = 40 }",
        trials: int = 2,
        space: str = HGB_SPACE,
        extra: str = "",
    ) -> Path:
        text = FAST_CONFIG.format(
            data=data or credit_small,
            algorithm=algorithm,
            params=params,
            trials=trials,
            space=space,
        )
        path = tmp_path / f"train-{next(counter)}.toml"
        path.write_text(text + extra)
        return path

    return write


@pytest.fixture
def trainer(engine: LocalEngine) -> LocalEngine:
    engine.create_model("credit-default", "classification", target="default")
    return engine


def wait_for(engine: LocalEngine, job_id: str, timeout: float = 120) -> TrainingJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = engine.get_training_status(job_id)
        if job.status.finished:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s: {job}")


def wait_until(predicate: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")
