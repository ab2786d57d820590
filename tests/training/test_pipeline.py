"""The training pipeline end to end: real worker processes, real DuckDB files, sample data."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import polars as pl
import pytest

from core.domain import ModelStatus, TrainingStatus
from core.engine import LocalEngine
from core.errors import IllegalTransition, InvalidInput, NotFound
from core.training.pipeline import OWNER_DIED
from storage.repos import training as training_repo
from tests.training.conftest import WriteConfig, wait_for, wait_until


def test_a_job_tunes_validates_and_registers_with_lineage_and_profile(
    trainer: LocalEngine, write_config: WriteConfig, credit_small: Path
) -> None:
    config = write_config(trials=3)
    job = trainer.trigger_training(config, model="credit-default")
    assert not job.status.finished  # returned at once, the work goes on in a worker
    job = wait_for(trainer, job.id)
    assert job.status is TrainingStatus.SUCCEEDED, job.error
    assert job.outcome == "validated" and job.result_version == "v1"
    assert job.progress == 1.0 and job.trials_done == 3 and job.trials_total == 3

    v = trainer.get_version("credit-default", "v1")
    assert v.status is ModelStatus.VALIDATED
    assert v.training_job_id == job.id
    assert v.training_data_hash == hashlib.sha256(credit_small.read_bytes()).hexdigest()
    assert {"accuracy", "precision", "recall", "f1", "roc_auc", "log_loss", "brier"} <= set(
        v.performance_metrics
    )
    assert v.training is not None and v.training["seed"] == 7
    assert v.training["config"]["algorithm"]["name"] == "hist_gradient_boosting"
    assert v.training["data_rows"] == 4000
    assert v.validation is not None and v.validation["passed"] is True
    assert [g["name"] for g in v.validation["gates"]] == ["min:roc_auc", "champion", "schema"]

    details = trainer.job_details(job.id)
    assert [t["number"] for t in details.trials] == [1, 2, 3]
    best = max(t["score"] for t in details.trials)
    assert job.best_score == pytest.approx(best)
    assert v.parameters["learning_rate"] in [
        t["params"]["learning_rate"] for t in details.trials if t["score"] == best
    ]
    assert any("registered v1 as validated" in e["message"] for e in details.logs)

    with trainer.store.read() as conn:
        profile = training_repo.profile(conn, v.id)
        samples = training_repo.reference_samples(conn, v.id)
    assert profile is not None and '"annual_income"' in profile and '"predictions"' in profile
    assert set(samples) >= {"age", "annual_income", "credit_utilization"}
    assert samples["age"] == sorted(samples["age"])
    actions = [r.action for r in trainer.list_audit()]
    assert actions == ["model.create", "training.trigger", "version.register"]


def test_the_same_config_and_seed_give_the_same_metrics_and_hash(
    trainer: LocalEngine, write_config: WriteConfig
) -> None:
    config = write_config()
    first = wait_for(trainer, trainer.trigger_training(config, model="credit-default").id)
    second = wait_for(trainer, trainer.trigger_training(config, model="credit-default").id)
    v1 = trainer.get_version("credit-default", first.result_version or "")
    v2 = trainer.get_version("credit-default", second.result_version or "")
    assert v1.performance_metrics == v2.performance_metrics
    assert v1.training_data_hash == v2.training_data_hash
    assert v1.parameters == v2.parameters
    assert v2.parent_version == "v1"


def test_a_weaker_challenger_is_rejected_by_the_champion_gate(
    trainer: LocalEngine, write_config: WriteConfig
) -> None:
    strong = wait_for(trainer, trainer.trigger_training(write_config(), model="credit-default").id)
    assert strong.outcome == "validated"
    trainer.transition_version("credit-default", "v1", "production")
    weak_config = write_config(
        algorithm="logistic_regression", params="{ C = 1.0 }", space="C = { choices = [1.0] }"
    )
    # Deliberately weaker: only two features, one of which carries no signal at all.
    weak_config.write_text(
        weak_config.read_text().replace(
            'exclude = ["application_id"]', 'features = ["region", "num_open_accounts"]'
        )
    )
    weak = wait_for(trainer, trainer.trigger_training(weak_config, model="credit-default").id)
    assert weak.status is TrainingStatus.SUCCEEDED and weak.outcome == "rejected"
    v2 = trainer.get_version("credit-default", "v2")
    assert v2.status is ModelStatus.REJECTED
    assert "below champion v1" in v2.status_reason
    champion_gate = next(g for g in (v2.validation or {})["gates"] if g["name"] == "champion")
    assert champion_gate["passed"] is False
    assert (v2.validation or {})["champion_version"] == "v1"
    with pytest.raises(IllegalTransition, match="rejected version can never be deployed"):
        trainer.transition_version("credit-default", "v2", "production")


def test_cancel_stops_a_running_job_and_registers_nothing(
    trainer: LocalEngine, write_config: WriteConfig
) -> None:
    config = write_config(trials=200, params="{ max_iter = 200 }")
    job = trainer.trigger_training(config, model="credit-default")
    wait_until(lambda: trainer.get_training_status(job.id).status is TrainingStatus.RUNNING)
    cancelled = trainer.cancel_training(job.id)
    assert cancelled.status is TrainingStatus.CANCELLED
    assert wait_for(trainer, job.id).status is TrainingStatus.CANCELLED
    assert trainer.list_versions("credit-default") == []
    assert [r.action for r in trainer.list_audit()][-1] == "training.cancel"
    with pytest.raises(Exception, match="already cancelled"):
        trainer.cancel_training(job.id)


def test_a_job_whose_data_lost_a_column_fails_cleanly(
    trainer: LocalEngine, write_config: WriteConfig, credit_small: Path, tmp_path: Path
) -> None:
    # One job runs at a time: the second waits in the queue while its file is replaced.
    blocker = trainer.trigger_training(
        write_config(trials=200, params="{ max_iter = 200 }"), model="credit-default"
    )
    data = tmp_path / "moving.parquet"
    shutil.copy(credit_small, data)
    doomed = trainer.trigger_training(write_config(data=data), model="credit-default")
    assert doomed.status is TrainingStatus.QUEUED
    pl.read_parquet(data).drop("annual_income").write_parquet(data)
    trainer.cancel_training(blocker.id)
    job = wait_for(trainer, doomed.id)
    assert job.status is TrainingStatus.FAILED
    assert job.error is not None and "annual_income" in job.error and "not in" in job.error
    assert trainer.list_versions("credit-default") == []
    assert trainer.verify_audit().ok


def test_a_worker_that_cannot_start_fails_the_job_instead_of_leaving_it_queued(
    trainer: LocalEngine, write_config: WriteConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What a console saw once: the process start raised (stderr was not a real file).
    def refuse(self: object) -> None:
        raise ValueError("bad value(s) in fds_to_keep")

    monkeypatch.setattr(trainer.training.runner._ctx.Process, "start", refuse)
    job = trainer.trigger_training(write_config(), model="credit-default")
    assert job.status is TrainingStatus.FAILED
    assert job.error is not None and "cannot start the training worker" in job.error


def test_a_job_left_running_by_a_dead_owner_is_failed_on_next_start(
    trainer: LocalEngine, write_config: WriteConfig, home: Path
) -> None:
    job = trainer.trigger_training(write_config(trials=200), model="credit-default")
    wait_until(lambda: trainer.get_training_status(job.id).status is TrainingStatus.RUNNING)
    # Simulate a crash: the owner vanishes without recording anything (its worker dies too).
    trainer.training.runner.shutdown()
    trainer.store.close()
    reopened = LocalEngine.open(home)
    try:
        got = reopened.get_training_status(job.id)
        assert got.status is TrainingStatus.FAILED and got.error == OWNER_DIED
    finally:
        reopened.close()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"data": Path("/no/such/file.parquet")}, "does not exist"),
        ({"algorithm": "xgboost"}, "unknown algorithm 'xgboost'"),
        ({"params": '{ learning_rate = "fast" }'}, "learning_rate"),
        ({"space": "depth = { low = 1, high = 5 }"}, "no parameter 'depth'"),
        ({"space": "learning_rate = { low = 0.5, high = 0.1 }"}, "learning_rate"),
        ({"extra": "\n[gates.extra]\nx = 1\n"}, "gates"),
    ],
)
def test_bad_configs_are_refused_before_any_work(
    trainer: LocalEngine, write_config: WriteConfig, kwargs: dict, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        trainer.trigger_training(write_config(**kwargs), model="credit-default")
    assert trainer.list_jobs() == []


def test_unknown_columns_keys_and_one_class_targets_are_refused(
    trainer: LocalEngine, write_config: WriteConfig, credit_small: Path, tmp_path: Path
) -> None:
    config = write_config()
    text = config.read_text()
    bad_target = tmp_path / "bad_target.toml"
    bad_target.write_text(text.replace('target = "default"', 'target = "defaulted"'))
    with pytest.raises(InvalidInput, match="config's target 'defaulted' is not model"):
        trainer.trigger_training(bad_target, model="credit-default")
    bad_feature = tmp_path / "bad_feature.toml"
    bad_feature.write_text(
        text.replace('exclude = ["application_id"]', 'features = ["age", "salary"]')
    )
    with pytest.raises(InvalidInput, match="feature column 'salary' is not in credit_small"):
        trainer.trigger_training(bad_feature, model="credit-default")
    bad_key = tmp_path / "bad_key.toml"
    bad_key.write_text(text.replace("[split]", "[split]\nholdot = 0.3"))
    with pytest.raises(InvalidInput, match=r"unknown key split\.holdot"):
        trainer.trigger_training(bad_key, model="credit-default")
    one_class = tmp_path / "one_class.parquet"
    pl.read_parquet(credit_small).filter(pl.col("default") == 0).write_parquet(one_class)
    with pytest.raises(InvalidInput, match="has 1 class"):
        trainer.trigger_training(write_config(data=one_class), model="credit-default")
    with pytest.raises(InvalidInput, match="config is for model 'credit-default', not 'churn'"):
        trainer.trigger_training(config, model="churn")
    unnamed = tmp_path / "unnamed.toml"
    unnamed.write_text(text.replace('name = "credit-default"', 'name = "churn"'))
    with pytest.raises(NotFound, match="create it first"):
        trainer.trigger_training(unnamed)
    assert trainer.list_jobs() == []


def test_validate_model_scores_a_version_on_new_labelled_data(
    trainer: LocalEngine, write_config: WriteConfig
) -> None:
    wait_for(trainer, trainer.trigger_training(write_config(), model="credit-default").id)
    root = Path(__file__).resolve().parents[2] / "sample_data" / "credit"
    healthy = trainer.validate_model("credit-default", "v1", root / "credit_current.parquet")
    drifted = trainer.validate_model("credit-default", "v1", root / "credit_concept_drift.parquet")
    assert healthy.passed and healthy.metrics["roc_auc"] > drifted.metrics["roc_auc"] + 0.1
    assert [g.name for g in drifted.gates] == ["min:roc_auc"]  # the version's own gates
