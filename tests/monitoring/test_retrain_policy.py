"""A drift alert triggers a retrain job through a policy; the cooldown holds a second back."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import polars as pl

from core.alerting.types import AlertStatus
from core.domain import TrainingStatus
from core.engine import LocalEngine
from tests.training.conftest import WriteConfig, wait_for

ROOT = Path(__file__).resolve().parents[2] / "sample_data" / "credit"
MODEL = "credit-default"


def test_drift_alert_retrains_once_then_cooldown_holds(
    trainer: LocalEngine, write_config: WriteConfig
) -> None:
    config = write_config()
    first = wait_for(trainer, trainer.trigger_training(config, model=MODEL).id)
    assert first.outcome == "validated"
    trainer.deploy(MODEL, "v1")
    rule = trainer.create_alert_rule(MODEL, "drift_share", ">=", 0.2, window_s=3600)
    policy = trainer.create_retrain_policy(MODEL, rule.id, str(config), cooldown_s=3600)

    frame = pl.read_parquet(ROOT / "credit_covariate_drift.parquet").head(1500)
    features = frame.drop(["application_id", "applied_at", "default"]).to_dicts()
    trainer.log_events(MODEL, [
        {"request_id": f"d{i}", "version": "v1", "prediction": 0, "features": f} for i, f in enumerate(features)
    ])  # fmt: skip

    transitions = trainer.evaluate_alerts()
    assert [(t.rule_id, t.to_state) for t in transitions] == [(rule.id, AlertStatus.FIRING)]
    [run] = trainer.list_retrain_policies(model=MODEL)[0].runs
    assert run["outcome"] == "triggered" and run["alert_id"] == transitions[0].alert_id
    job = wait_for(trainer, run["job_id"])
    assert job.status is TrainingStatus.SUCCEEDED and job.actor == f"policy:{policy.id}"
    assert job.result_version == "v2"

    # The same rule fires again (a new alert) within the cooldown: held back, not trained.
    trainer.retrain.on_transitions([replace(transitions[0], alert_id="a-again")])
    runs = trainer.list_retrain_policies(model=MODEL)[0].runs
    assert [r["outcome"] for r in runs] == ["triggered", "cooldown"]
    assert len(trainer.list_jobs(model=MODEL)) == 2
    actions = [r.action for r in trainer.list_audit(action="retrain")]
    assert actions == ["retrain.policy.create", "retrain.triggered", "retrain.cooldown"]
