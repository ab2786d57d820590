"""`TrainingPipeline` (seed interface): trigger, watch, cancel and record training jobs.

The owner process runs this service. `trigger_training` checks everything it can before any
work starts (config, dataset schema, algorithm, parameters, search space, gate metrics) and
then returns at once; the job runs in a worker process and its messages are written here.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core import audit
from core.clock import as_utc, utcnow
from core.domain import ModelStatus, TrainingJob, TrainingStatus
from core.errors import Conflict, InvalidInput, NotFound
from core.jsonable import canonical_json
from core.registry import ModelRegistry, NewVersion
from core.training import validator
from core.training.config import DataSpec, TrainingConfig, load_config
from core.training.data import inspect_dataset, load_labelled, to_model_frame
from core.training.feature_source import FeatureSource
from core.training.preflight import preflight
from core.training.rows import job_of
from core.training.runner import JobRunner
from storage.conn import Conn
from storage.repos import training as repo
from storage.repos import versions as versions_repo
from storage.store import Store

log = logging.getLogger(__name__)

INTERRUPTED = "interrupted: the mlc process that ran it exited before it finished"
OWNER_DIED = (
    "owner died: the mlc process that ran this job was killed or crashed before it finished"
    " (its worker died with it)"
)


@dataclass(frozen=True)
class JobDetails:
    job: TrainingJob
    trials: list[dict[str, Any]]
    logs: list[dict[str, Any]]


class TrainingPipeline:
    def __init__(
        self,
        store: Store,
        registry: ModelRegistry,
        *,
        max_workers: int = 1,
        features: FeatureSource | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.features = features
        """Builds the training set of a config that names `[data] entities` and features."""
        self.runner = JobRunner(self._on_message, max_workers=max_workers)
        self._listeners: list[Callable[[TrainingJob], None]] = []
        self._recover()

    # --- seed interface -----------------------------------------------------------------

    def trigger_training(
        self, config: TrainingConfig | str | Path, *, model: str | None = None, actor: str
    ) -> TrainingJob:
        """Check the request, queue the job and return at once."""
        cfg = config if isinstance(config, TrainingConfig) else load_config(config)
        spec, lineage = preflight(self.registry, self.features, cfg, model)
        now = utcnow()
        data = str(cfg.data.path)
        if lineage is not None:
            data = (
                f"{cfg.data.path} + {', '.join(f'{v} v{n}' for v, n in lineage['views'].items())}"
            )
        with self.store.write() as conn:
            repo.insert_job(
                conn,
                {
                    "id": spec.job_id,
                    "model_id": spec.model,
                    "status": TrainingStatus.QUEUED.value,
                    "config": canonical_json(cfg.raw),
                    "config_path": str(cfg.source) if cfg.source else None,
                    "actor": actor,
                    "created_at": now,
                },
            )
            if lineage is not None and self.features is not None:
                self.features.record_lineage(conn, spec.job_id, lineage, now)
            audit.append(
                conn, actor=actor, action="training.trigger", target=spec.job_id, model_id=spec.model,
                after={"algorithm": cfg.algorithm, "data": data,
                       "champion": spec.champion.version if spec.champion else None},
            )  # fmt: skip
        self.runner.submit(spec)
        return self.get_training_status(spec.job_id)

    def subscribe(self, listener: Callable[[TrainingJob], None]) -> None:
        """Called with the job once it has ended (retrain policies listen)."""
        self._listeners.append(listener)

    def _ended(self, job_id: str) -> None:
        job = self.get_training_status(job_id)
        for listener in list(self._listeners):
            try:
                listener(job)
            except Exception:  # a listener must never break job bookkeeping
                log.exception("a training listener failed for %s", job_id)

    def get_training_status(self, job_id: str) -> TrainingJob:
        with self.store.read() as conn:
            return job_of(self._job_row(conn, job_id))

    def validate_model(
        self, model_id: str, version: str, data: str | Path
    ) -> validator.ValidationResults:
        """Score a registered version on a labelled file, against the version's own gates."""
        model = self.registry.get_model(model_id)
        v = self.registry.get_version(model_id, version)
        training = v.training or {}
        config: dict[str, Any] = training.get("config") or {}
        data_cfg: dict[str, Any] = config.get("data") or {}
        target: str | None = model.target or data_cfg.get("target")
        if target is None:
            raise InvalidInput(f"model {model_id!r} has no target column: cannot validate")
        features: dict[str, str] = (v.validation or {}).get("features") or {}
        inputs = v.signature.get("inputs") or list(features)
        if not inputs:
            raise InvalidInput(f"{v.id} does not record its input features: cannot validate")
        spec = DataSpec(path=Path(data), target=target, features=tuple(inputs))
        schema = inspect_dataset(spec, model.task)
        frame, y, _ = load_labelled(spec)
        types = features or {k: t.value for k, t in schema.features.items()}
        X = to_model_frame(frame, types)
        estimator = self.registry.load_estimator(model_id, v.version)
        metrics, _, _ = validator.evaluate(model.task.value, estimator, X, y)
        gates_cfg: dict[str, Any] = config.get("gates") or {}
        gates = validator.absolute_gates(
            metrics, gates_cfg.get("min", {}), gates_cfg.get("max", {})
        )
        return validator.ValidationResults(metrics=metrics, gates=gates)

    def register_model(self, model: Any, metadata: dict[str, Any], *, actor: str) -> str:
        """Register a fitted estimator; `metadata` names the model, algorithm and metrics."""
        try:
            name = metadata["model"]
            algorithm = metadata["algorithm"]
        except KeyError as e:
            raise InvalidInput(f"metadata needs {e.args[0]!r}") from None
        new = NewVersion(
            algorithm=algorithm,
            parameters=metadata.get("parameters", {}),
            performance_metrics=metadata.get("metrics", {}),
            training_data_hash=metadata.get("training_data_hash"),
            parent_version=metadata.get("parent_version"),
            description=metadata.get("description", ""),
        )
        return self.registry.register_fitted(name, model, new, actor=actor).id

    # --- jobs ---------------------------------------------------------------------------

    def list_jobs(self, *, model: str | None = None, limit: int = 50) -> list[TrainingJob]:
        with self.store.read() as conn:
            return [job_of(r) for r in repo.list_jobs(conn, model, limit)]

    def job_details(self, job_id: str, *, after_log: int = 0) -> JobDetails:
        with self.store.read() as conn:
            job = job_of(self._job_row(conn, job_id))
            trials = repo.trials(conn, job_id)
            logs = repo.logs(conn, job_id, after_log)
        for t in trials:
            t["params"] = json.loads(t["params"])
        for entry in logs:
            entry["logged_at"] = as_utc(entry["logged_at"])
        return JobDetails(job, trials, logs)

    def cancel_training(self, job_id: str, *, actor: str) -> TrainingJob:
        job = self.get_training_status(job_id)
        if job.status.finished:
            raise Conflict(f"job {job_id} already {job.status}; nothing to cancel")
        with self.store.write() as conn:
            audit.append(
                conn, actor=actor, action="training.cancel", target=job_id, model_id=job.model_id,
                before={"status": job.status.value}, after={"status": "cancelled"},
            )  # fmt: skip
        # The runner stops the worker; recording here makes the cancel visible at once (a
        # result that raced in is refused by `_record_result`, which re-checks the status).
        self.runner.cancel(job_id)
        self._finish(job_id, TrainingStatus.CANCELLED, message="cancelled")
        return self.get_training_status(job_id)

    def close(self) -> None:
        for job_id in self.runner.shutdown():
            self._finish(job_id, TrainingStatus.FAILED, error=INTERRUPTED, message=INTERRUPTED)

    # --- what workers report ------------------------------------------------------------

    def _on_message(self, job_id: str, msg: dict[str, Any]) -> None:
        kind = msg["type"]
        now = utcnow()
        if kind == "started":
            with self.store.write() as conn:
                repo.update_job(
                    conn,
                    job_id,
                    status=TrainingStatus.RUNNING.value,
                    started_at=now,
                    message="starting",
                )
                repo.append_log(conn, job_id, now, "info", f"worker started (pid {msg['pid']})")
        elif kind == "log":
            with self.store.write() as conn:
                if _running(conn, job_id):
                    repo.append_log(conn, job_id, now, msg["level"], msg["message"])
        elif kind == "progress":
            with self.store.write() as conn:
                if _running(conn, job_id):  # a late message must not touch a cancelled job
                    repo.update_job(
                        conn, job_id, progress=float(msg["progress"]), message=msg["message"]
                    )
        elif kind == "trial":
            with self.store.read() as conn:
                if not _running(conn, job_id):
                    return
            self._record_trial(job_id, msg["trial"], int(msg["expected"]))
        elif kind == "result":
            try:
                self._record_result(job_id, msg)
                self._ended(job_id)
            except Exception as e:
                self._finish(
                    job_id, TrainingStatus.FAILED, error=f"recording the result failed: {e}"
                )
                raise
        elif kind == "error":
            self._finish(job_id, TrainingStatus.FAILED, error=msg["message"])
            self._ended(job_id)
        elif kind == "cancelled":
            self._finish(job_id, TrainingStatus.CANCELLED, message="cancelled")

    def _record_trial(self, job_id: str, trial: dict[str, Any], expected: int) -> None:
        with self.store.write() as conn:
            repo.insert_trial(conn, job_id, {**trial, "params": canonical_json(trial["params"])})
            done, best = repo.trial_tally(conn, job_id)
            repo.update_job(conn, job_id, trials_done=done, trials_total=expected, best_score=best)

    def _record_result(self, job_id: str, msg: dict[str, Any]) -> None:
        job = self.get_training_status(job_id)
        if job.status.finished:
            return
        validation = msg["validation"]
        passed = bool(validation["passed"])
        status = ModelStatus.VALIDATED if passed else ModelStatus.REJECTED
        reason = "passed all validation gates" if passed else "; ".join(validation["reasons"])
        cfg: dict[str, Any] = json.loads(canonical_json(job.config))
        parent = self._latest_version(job.model_id)
        new = NewVersion(
            algorithm=msg["algorithm"],
            parameters=msg["parameters"],
            performance_metrics=msg["metrics"],
            training_data_hash=msg["data_hash"],
            training_job_id=job_id,
            parent_version=parent,
            status=status,
            status_reason=reason,
            tags=(("trained_by", job.actor or "unknown"),),
        )

        search_cfg: dict[str, Any] = cfg.get("search") or {}

        def attach(conn: Conn, version_id: str) -> None:
            current = repo.get_job(conn, job_id)
            if current is None or TrainingStatus(current["status"]).finished:
                raise Conflict(f"job {job_id} ended before its result arrived")
            repo.insert_version_training(
                conn,
                {
                    "version_id": version_id,
                    "config": canonical_json(cfg),
                    "seed": search_cfg.get("seed"),
                    "data_path": str(job.config_path or ""),
                    "data_rows": msg["data_rows"],
                    "validation": canonical_json(
                        {
                            **validation,
                            "search": msg["search"],
                            "features": msg["features"],
                            "timings": msg["timings"],
                        }
                    ),
                },
            )
            repo.insert_profile(conn, version_id, canonical_json(msg["profile"]))
            repo.insert_reference_samples(conn, version_id, msg["samples"])
            number = int(version_id.rsplit(":v", 1)[1])
            repo.update_job(
                conn, job_id, status=TrainingStatus.SUCCEEDED.value, progress=1.0, finished_at=utcnow(),
                result_version=number, outcome=status.value,
                message=f"registered v{number} as {status.value}",
            )  # fmt: skip
            repo.append_log(conn, job_id, utcnow(), "info" if passed else "warning",
                            f"registered v{number} as {status.value}: {reason}"
                            f" ({time.perf_counter() - started:.3f} s to register)")  # fmt: skip

        started = time.perf_counter()
        self.registry.register_version(
            job.model_id, msg["artifact"], new, actor=job.actor or "training", attach=attach
        )

    def _latest_version(self, model: str) -> str | None:
        with self.store.read() as conn:
            rows = versions_repo.list_for_model(conn, model)
        return f"v{rows[-1]['number']}" if rows else None

    def _finish(
        self, job_id: str, status: TrainingStatus, *, error: str | None = None, message: str = ""
    ) -> None:
        with self.store.write() as conn:
            row = repo.get_job(conn, job_id)
            if row is None or TrainingStatus(row["status"]).finished:
                return
            repo.update_job(conn, job_id, status=status.value, finished_at=utcnow(), error=error,
                            message=message or (error or ""))  # fmt: skip
            repo.append_log(
                conn,
                job_id,
                utcnow(),
                "error" if error else "info",
                message or error or status.value,
            )

    def _recover(self) -> None:
        # An owner that exits cleanly fails its own jobs (`close`); any left unfinished here
        # belonged to one that died without a word.
        with self.store.write() as conn:
            repo.fail_unfinished(conn, utcnow(), OWNER_DIED)

    def _job_row(self, conn: Conn, job_id: str) -> dict[str, Any]:
        row = repo.get_job(conn, job_id)
        if row is None:
            raise NotFound(f"training job {job_id!r} not found")
        return row


def _running(conn: Conn, job_id: str) -> bool:
    row = repo.get_job(conn, job_id)
    return row is not None and not TrainingStatus(row["status"]).finished
