"""Retrain policies: the loop from an alert back to training, in one process.

"When rule R fires for model M, train config C": the policy triggers a training job (which
goes through the validation gates like any other), holds back while its cooldown runs or a
job for the model is still going, and — when it asks for it — starts the validated version as
a canary rollout. Every step (triggered, held back, canary) is recorded and audited.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from core import audit
from core.alerting.types import AlertStatus, Transition
from core.clock import as_utc, utcnow
from core.domain import TrainingJob, TrainingStatus
from core.errors import InvalidInput, MlcError, NotFound
from core.jsonable import canonical_json
from core.rollout.guardrails import parse_guardrail
from core.training.config import load_config
from storage.repos import retrain as repo
from storage.repos import training as training_repo
from storage.store import Store

if TYPE_CHECKING:
    from core.alerting import AlertManager
    from core.registry import ModelRegistry
    from core.rollout.controller import RolloutController
    from core.training.pipeline import TrainingPipeline

log = logging.getLogger(__name__)


@dataclass
class RetrainPolicy:
    id: str
    model_id: str
    rule_id: str
    config_path: str
    cooldown_s: int
    canary: dict[str, Any] | None
    is_active: bool
    created_at: datetime
    created_by: str
    runs: list[dict[str, Any]]


class RetrainPolicies:
    def __init__(
        self,
        store: Store,
        *,
        alerts: AlertManager,
        training: TrainingPipeline,
        rollouts: RolloutController,
        registry: ModelRegistry,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.alerts = alerts
        self.training = training
        self.rollouts = rollouts
        self.registry = registry
        self._now = now
        alerts.subscribe(self.on_transitions)
        training.subscribe(self.on_job_ended)

    def create(
        self,
        model: str,
        rule_id: str,
        config_path: str,
        *,
        cooldown_s: int = 3600,
        canary: dict[str, Any] | None = None,
        actor: str,
    ) -> RetrainPolicy:
        self.registry.get_model(model)
        rule = self.alerts.get_rule(rule_id)
        if rule.model_id != model:
            raise InvalidInput(f"rule {rule_id} watches {rule.model_id}, not {model}")
        config = load_config(config_path)  # refuses a missing or malformed config now
        if config.model is not None and config.model != model:
            raise InvalidInput(f"config {config_path} is for model {config.model!r}, not {model!r}")
        if isinstance(cooldown_s, bool) or cooldown_s < 0:
            raise InvalidInput("the cooldown cannot be negative")
        if canary is not None:
            steps = canary.get("steps") or [5, 25, 50, 100]
            if not steps or steps[-1] != 100:
                raise InvalidInput("canary steps must end at 100")
            for g in canary.get("guardrails") or ():
                parse_guardrail(g)
            canary = {"steps": steps, "interval_s": float(canary.get("interval_s", 600)),
                      "guardrails": list(canary.get("guardrails") or [])}  # fmt: skip
        now = self._now()
        with self.store.write() as conn:
            policy_id = repo.next_id(conn)
            repo.insert(conn, {
                "id": policy_id, "model_id": model, "rule_id": rule_id,
                "config_path": str(config.source.resolve() if config.source else config_path),
                "cooldown_s": int(cooldown_s), "canary": None if canary is None else canonical_json(canary),
                "is_active": True, "created_at": now, "created_by": actor,
            })  # fmt: skip
            audit.append(conn, actor=actor, action="retrain.policy.create", target=policy_id, model_id=model,
                         after={"rule": rule_id, "config": config_path, "cooldown_s": cooldown_s, "canary": canary})  # fmt: skip
        return self.get(policy_id)

    def get(self, policy_id: str) -> RetrainPolicy:
        with self.store.read() as conn:
            row = repo.get(conn, policy_id)
            if row is None:
                raise NotFound(f"retrain policy {policy_id!r} not found")
            return _policy(row, repo.runs(conn, policy_id))

    def list(self, *, model: str | None = None) -> list[RetrainPolicy]:
        with self.store.read() as conn:
            return [_policy(r, repo.runs(conn, r["id"])) for r in repo.list_live(conn, model)]

    def delete(self, policy_id: str, *, actor: str) -> RetrainPolicy:
        policy = self.get(policy_id)
        with self.store.write() as conn:
            repo.delete(conn, policy_id, self._now())
            audit.append(
                conn,
                actor=actor,
                action="retrain.policy.delete",
                target=policy_id,
                model_id=policy.model_id,
            )
        return policy

    # --- the loop ---------------------------------------------------------------------

    def on_transitions(self, transitions: list[Transition]) -> None:
        for t in transitions:
            if t.kind != "state" or t.to_state is not AlertStatus.FIRING:
                continue
            for policy in self.list(model=t.model_id):
                if policy.is_active and policy.rule_id == t.rule_id:
                    self._maybe_train(policy, t.alert_id)

    def _maybe_train(self, policy: RetrainPolicy, alert_id: str) -> None:
        now = self._now()
        actor = f"policy:{policy.id}"
        with self.store.read() as conn:
            last = repo.last_triggered(conn, policy.id)
            busy = training_repo.list_jobs(conn, policy.model_id, 1, statuses=("queued", "running"))
        if last is not None and as_utc(last) + timedelta(seconds=policy.cooldown_s) > now:
            self._record(policy, "cooldown", alert_id=alert_id, actor=actor,
                         detail=f"last run {as_utc(last):%Y-%m-%d %H:%M:%S}; cooldown {policy.cooldown_s} s")  # fmt: skip
            return
        if busy:
            self._record(policy, "busy", alert_id=alert_id, actor=actor, job_id=busy[0]["id"],
                         detail=f"{busy[0]['id']} is still {busy[0]['status']}")  # fmt: skip
            return
        try:
            job = self.training.trigger_training(
                policy.config_path, model=policy.model_id, actor=actor
            )
        except MlcError as e:
            self._record(policy, "failed", alert_id=alert_id, actor=actor, detail=e.message)
            return
        self._record(policy, "triggered", alert_id=alert_id, actor=actor, job_id=job.id,
                     detail=f"alert {alert_id} fired")  # fmt: skip

    def on_job_ended(self, job: TrainingJob) -> None:
        with self.store.read() as conn:
            policy_id = repo.policy_of_job(conn, job.id)
        if policy_id is None:
            return
        policy = self.get(policy_id)
        actor = f"policy:{policy.id}"
        if (
            job.status is not TrainingStatus.SUCCEEDED
            or job.outcome != "validated"
            or job.result_version is None
            or not policy.canary
        ):
            return
        try:
            rollout = self.rollouts.start(
                policy.model_id, job.result_version, "production", steps=policy.canary["steps"],
                interval_s=policy.canary["interval_s"], guardrails=policy.canary["guardrails"],
                failure_limit=0, min_samples=100, actor=actor, reason=f"retrained by policy {policy.id}",
                interrupt_owner=False,  # an automatic canary never ends a running A/B test
            )  # fmt: skip
        except MlcError as e:
            self._record(policy, "no-canary", job_id=job.id, actor=actor, detail=e.message)
            return
        self._record(policy, "canary", job_id=job.id, actor=actor, detail=f"rollout {rollout.id}")

    def _record(self, policy: RetrainPolicy, outcome: str, *, actor: str, alert_id: str | None = None,
                job_id: str | None = None, detail: str = "") -> None:  # fmt: skip
        with self.store.write() as conn:
            repo.add_run(
                conn,
                policy.id,
                self._now(),
                outcome,
                alert_id=alert_id,
                job_id=job_id,
                detail=detail,
            )
            audit.append(conn, actor=actor, action=f"retrain.{outcome}", target=policy.id, model_id=policy.model_id,
                         after={"alert": alert_id, "job": job_id}, reason=detail)  # fmt: skip


def _policy(row: dict[str, Any], runs: list[dict[str, Any]]) -> RetrainPolicy:
    return RetrainPolicy(
        id=row["id"], model_id=row["model_id"], rule_id=row["rule_id"], config_path=row["config_path"],
        cooldown_s=int(row["cooldown_s"]), canary=json.loads(row["canary"]) if row["canary"] else None,
        is_active=bool(row["is_active"]), created_at=as_utc(row["created_at"]), created_by=row["created_by"],
        runs=[{**r, "ran_at": as_utc(r["ran_at"]).isoformat()} for r in runs],
    )  # fmt: skip
