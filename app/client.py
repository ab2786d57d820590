"""`RemoteEngine`: the `Engine` protocol over HTTP, to an owner on a Unix socket or over TCP.

It returns the same domain objects and raises the same exceptions (same kind, same message)
as the local engine, so a command's output and exit code do not depend on who owns the store.
"""

from __future__ import annotations

import base64
import importlib
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

import httpx

from core.deployments.owners import TrafficOwner
from core.domain import (
    ABTest,
    ApiToken,
    AuditHead,
    AuditRecord,
    AuditVerification,
    DeploymentRevision,
    Feature,
    Ingested,
    Model,
    ModelVersion,
    Prediction,
    Rollout,
    TrainingJob,
)
from core.errors import ERROR_TYPES, InvalidInput, MlcError, Overloaded, StoreUnavailable
from core.features.types import WIRE_TIME_FORMAT
from core.fleet import WINDOW_S, ModelHealth, VersionsHealth
from core.fromjson import load
from core.jsonable import to_jsonable

if TYPE_CHECKING:
    import polars as pl

    from core.abtesting.analysis import TestResults
    from core.abtesting.config import ABTestConfig
    from core.alerting.types import Alert, Rule, Silence, Transition
    from core.engine import DriftReport
    from core.features import (
        ApplyResult,
        FeatureCatalog,
        FeatureView,
        IngestResult,
        MaterializeResult,
        OnlineFeatures,
    )
    from core.monitoring.drift import ConceptDrift, FeatureDistribution
    from core.monitoring.metrics import PerformanceMetrics
    from core.retrain import RetrainPolicy
    from core.training.pipeline import JobDetails
    from core.training.validator import ValidationResults

T = TypeVar("T")

_LAZY_TYPES = {
    "ABTestConfig": "core.abtesting.config",
    "TestResults": "core.abtesting.analysis",
    "Alert": "core.alerting.types",
    "Rule": "core.alerting.types",
    "Silence": "core.alerting.types",
    "Transition": "core.alerting.types",
    "DriftReport": "core.engine",
    "ApplyResult": "core.features.types",
    "FeatureCatalog": "core.features.types",
    "FeatureView": "core.features.types",
    "IngestResult": "core.features.types",
    "MaterializeResult": "core.features.types",
    "OnlineFeatures": "core.features.types",
    "ConceptDrift": "core.monitoring.drift",
    "FeatureDistribution": "core.monitoring.drift",
    "PerformanceMetrics": "core.monitoring.metrics",
    "RetrainPolicy": "core.retrain",
    "JobDetails": "core.training.pipeline",
    "ValidationResults": "core.training.validator",
}


def _cls(name: str) -> Any:
    """A result type, imported when first decoded: a client (the console of a running
    owner) must not pay scikit-learn's and scipy's import for the views it never opens."""
    return getattr(importlib.import_module(_LAZY_TYPES[name]), name)


DEFAULT_TIMEOUT_S = 300.0
"""Generous: validating on a large file or uploading a big artifact takes a while."""


def _q(part: str) -> str:
    # Path segments come from people (`v3`, aliases, token names): never let one add a '/'.
    return quote(part, safe="")


class RemoteEngine:
    """The engine of another process. `owns_store` is False: jobs run in the owner."""

    owns_store = False

    def __init__(
        self,
        *,
        url: str | None = None,
        socket: Path | None = None,
        token: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        http: httpx.Client | None = None,
    ) -> None:
        """Reach the owner at `url` (TCP) or on `socket`, or through a ready `http` client
        (an in-process app: tests, or a console that serves and reads the same store)."""
        if sum(x is not None for x in (url, socket, http)) != 1:
            raise ValueError("give exactly one of url, socket and http")
        headers = {"Authorization": f"Bearer {token}"} if token and socket is None else {}
        timeout = httpx.Timeout(timeout_s, connect=5.0)
        if http is not None:
            self.where = str(http.base_url)
            self._http = http
            self._http.headers.update(headers)
        elif socket is not None:
            self.where = f"unix socket {socket}"
            transport = httpx.HTTPTransport(uds=str(socket))
            self._http = httpx.Client(
                transport=transport, base_url="http://mlc", headers=headers, timeout=timeout
            )
        else:
            assert url is not None
            if not url.startswith(("http://", "https://")):
                raise InvalidInput(f"--server {url!r} is not an http:// or https:// URL")
            self.where = url
            self._http = httpx.Client(base_url=url, headers=headers, timeout=timeout)
        self.socket = socket
        self.on_wait: Callable[[str], None] | None = None
        """Told, once, when a data-plane call waits for the owner to be ready."""
        self._actor: str | None = None
        self._role: str | None = None

    # --- plumbing -----------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        response = self._request(method, path, json=json, params=query)
        if response.status_code >= 400:
            raise self._error(response)
        try:
            return response.json()
        except ValueError as e:
            raise MlcError(f"the mlc server at {self.where} answered with non-JSON") from e

    def _data_call(self, method: str, path: str, *, json: Any, params: dict[str, Any]) -> Any:
        """`_call` for the data plane, which answers 503 until the owner is ready (its serving
        versions loaded and smoke-tested, seconds after it starts): wait for ready, as
        `Retry-After` asks, saying so once through `on_wait`, up to the client's patience."""
        from app.reach import patience_s

        deadline = time.monotonic() + patience_s()
        told = False
        while True:
            query = {k: v for k, v in params.items() if v is not None}
            response = self._request(method, path, json=json, params=query)
            retry = _not_ready_retry(response)
            if retry is None or time.monotonic() + retry > deadline:
                break
            if not told and self.on_wait is not None:
                what = _detail(response).removeprefix("not ready yet: ")
                self.on_wait(f"waiting for the store's owner to be ready ({what}) …")
                told = True
            time.sleep(retry)
        if response.status_code >= 400:
            raise self._error(response)
        try:
            return response.json()
        except ValueError as e:
            raise MlcError(f"the mlc server at {self.where} answered with non-JSON") from e

    def _request(
        self, method: str, path: str, *, json: Any, params: dict[str, Any]
    ) -> httpx.Response:
        try:
            return self._http.request(method, path, json=json, params=params)
        except httpx.TimeoutException as e:
            raise StoreUnavailable(
                f"the mlc server at {self.where} did not answer in time ({type(e).__name__})"
            ) from e
        except httpx.TransportError as e:
            raise StoreUnavailable(
                f"cannot reach the mlc server at {self.where}: {e or type(e).__name__}"
            ) from e

    def _error(self, response: httpx.Response) -> MlcError:
        try:
            body = response.json()
            kind, detail = str(body["error"]), str(body["detail"])
        except (ValueError, KeyError, TypeError):
            text = response.text.strip().splitlines()[0][:200] if response.text.strip() else ""
            return MlcError(
                f"the mlc server at {self.where} answered HTTP {response.status_code} {text}".strip()
            )
        cls = ERROR_TYPES.get(kind, MlcError)
        if issubclass(cls, Overloaded):
            try:
                retry = float(response.headers.get("Retry-After", "1"))
            except ValueError:
                retry = 1.0
            return cls(detail, retry_after_s=retry)
        return cls(detail)

    def _get(self, cls: type[T], path: str, **params: Any) -> T:
        return _decode(cls, self._call("GET", path, params=params))

    def _send(self, cls: type[T], method: str, path: str, body: Any = None) -> T:
        return _decode(cls, self._call(method, path, json=to_jsonable(body)))

    def healthy(self) -> bool:
        """True when a server answers the health check (used to probe a socket file)."""
        try:
            return bool(self._call("GET", "/api/v1/health").get("ok"))
        except MlcError:
            return False

    @property
    def actor(self) -> str:
        """Who the server records as the actor of this client's changes."""
        if self._actor is None:
            self._whoami()
        assert self._actor is not None
        return self._actor

    @property
    def role(self) -> str:
        """This client's role on the server: viewer, operator or admin (the socket: admin)."""
        if self._role is None:
            self._whoami()
        assert self._role is not None
        return self._role

    def _whoami(self) -> None:
        found = self._call("GET", "/api/v1/whoami")
        self._actor, self._role = str(found["actor"]), str(found["role"])

    def close(self) -> None:
        self._http.close()

    # --- registry -----------------------------------------------------------------------

    def create_model(
        self,
        name: str,
        task: str,
        *,
        target: str | None = None,
        features: list[Feature] | None = None,
        description: str = "",
    ) -> Model:
        body = {"name": name, "task": task, "target": target, "features": features or [],
                "description": description}  # fmt: skip
        return self._send(Model, "POST", "/api/v1/models", body)

    def list_models(self) -> list[Model]:
        return [_decode(Model, m) for m in self._call("GET", "/api/v1/models")["models"]]

    def get_model(self, name: str) -> Model:
        return self._get(Model, f"/api/v1/models/{_q(name)}")

    def register_version(
        self,
        model: str,
        artifact: bytes,
        *,
        algorithm: str,
        parameters: dict[str, Any] | None = None,
        metrics: dict[str, float] | None = None,
        description: str = "",
        parent_version: str | None = None,
        training_data_hash: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> ModelVersion:
        body = {
            "artifact_base64": base64.b64encode(artifact).decode("ascii"),
            "algorithm": algorithm,
            "parameters": parameters or {},
            "metrics": metrics or {},
            "description": description,
            "parent_version": parent_version,
            "training_data_hash": training_data_hash,
            "tags": tags or {},
        }
        return self._send(ModelVersion, "POST", f"/api/v1/models/{_q(model)}/versions", body)

    def list_versions(self, model: str) -> list[ModelVersion]:
        found = self._call("GET", f"/api/v1/models/{_q(model)}/versions")["versions"]
        return [_decode(ModelVersion, v) for v in found]

    def get_version(self, model: str, ref: str) -> ModelVersion:
        return self._get(ModelVersion, f"/api/v1/models/{_q(model)}/versions/{_q(ref)}")

    def tag_version(self, model: str, ref: str, key: str, value: str) -> ModelVersion:
        path = f"/api/v1/models/{_q(model)}/versions/{_q(ref)}/tags/{_q(key)}"
        return self._send(ModelVersion, "PUT", path, {"value": value})

    def set_alias(self, model: str, ref: str, alias: str, *, reason: str = "") -> ModelVersion:
        path = f"/api/v1/models/{_q(model)}/aliases/{_q(alias)}"
        return self._send(ModelVersion, "PUT", path, {"version": ref, "reason": reason})

    def transition_version(
        self, model: str, ref: str, status: str, *, reason: str = ""
    ) -> ModelVersion:
        path = f"/api/v1/models/{_q(model)}/versions/{_q(ref)}/transition"
        return self._send(ModelVersion, "POST", path, {"status": status, "reason": reason})

    # --- audit --------------------------------------------------------------------------

    def list_audit(
        self,
        *,
        model: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[AuditRecord]:
        params = {"model": model, "action": action, "limit": limit,
                  "since": since.isoformat() if since else None}  # fmt: skip
        found = self._call("GET", "/api/v1/audit", params=params)["records"]
        return [_decode(AuditRecord, r) for r in found]

    def verify_audit(self, *, head: AuditHead | None = None) -> AuditVerification:
        anchor = None if head is None else str(head)
        return self._get(AuditVerification, "/api/v1/audit/verify", head=anchor)

    def audit_head(self) -> AuditHead:
        return self._get(AuditHead, "/api/v1/audit/head")

    # --- training -----------------------------------------------------------------------

    def trigger_training(self, config: str | Path, *, model: str | None = None) -> TrainingJob:
        body = {"config": _server_path(config), "model": model}
        return self._send(TrainingJob, "POST", "/api/v1/training/jobs", body)

    def get_training_status(self, job_id: str) -> TrainingJob:
        return self._get(TrainingJob, f"/api/v1/training/jobs/{_q(job_id)}")

    def list_jobs(self, *, model: str | None = None, limit: int = 50) -> list[TrainingJob]:
        found = self._call("GET", "/api/v1/training/jobs", params={"model": model, "limit": limit})
        return [_decode(TrainingJob, j) for j in found["jobs"]]

    def job_details(self, job_id: str, *, after_log: int = 0) -> JobDetails:
        details = self._get(
            _cls("JobDetails"), f"/api/v1/training/jobs/{_q(job_id)}/details", after_log=after_log
        )
        # Log lines are plain dicts, so nothing typed says `logged_at` is a time: restore it.
        for entry in details.logs:
            if isinstance(entry.get("logged_at"), str):
                entry["logged_at"] = datetime.fromisoformat(entry["logged_at"])
        return details

    def cancel_training(self, job_id: str) -> TrainingJob:
        return self._send(TrainingJob, "POST", f"/api/v1/training/jobs/{_q(job_id)}/cancel")

    def validate_model(self, model: str, version: str, data: str | Path) -> ValidationResults:
        path = f"/api/v1/models/{_q(model)}/versions/{_q(version)}/validate"
        return self._send(_cls("ValidationResults"), "POST", path, {"data": _server_path(data)})

    # --- deployments --------------------------------------------------------------------

    def deploy(
        self,
        model: str,
        version: str,
        *,
        environment: str = "production",
        reason: str = "",
        expected_revision: int | None = None,
    ) -> DeploymentRevision:
        path = f"/api/v1/models/{_q(model)}/deployments/{_q(environment)}"
        body = {"version": version, "reason": reason, "expected_revision": expected_revision}
        return self._send(DeploymentRevision, "POST", path, body)

    def set_traffic(
        self,
        model: str,
        traffic: dict[str, float],
        *,
        environment: str = "production",
        reason: str = "",
        expected_revision: int | None = None,
    ) -> DeploymentRevision:
        path = f"/api/v1/models/{_q(model)}/deployments/{_q(environment)}/traffic"
        body = {"traffic": traffic, "reason": reason, "expected_revision": expected_revision}
        return self._send(DeploymentRevision, "PUT", path, body)

    def get_deployment(
        self, model: str, *, environment: str = "production"
    ) -> DeploymentRevision | None:
        path = f"/api/v1/models/{_q(model)}/deployments/{_q(environment)}"
        found = self._call("GET", path)["deployment"]
        return None if found is None else _decode(DeploymentRevision, found)

    def deployment_history(
        self, model: str, *, environment: str | None = None
    ) -> list[DeploymentRevision]:
        path = f"/api/v1/models/{_q(model)}/deployments"
        found = self._call("GET", path, params={"environment": environment})["revisions"]
        return [_decode(DeploymentRevision, r) for r in found]

    def traffic_owner(self, model: str, *, environment: str = "production") -> TrafficOwner | None:
        path = f"/api/v1/models/{_q(model)}/deployments/{_q(environment)}/owner"
        found = self._call("GET", path)["owner"]
        return None if found is None else _decode(TrafficOwner, found)

    def rollback(
        self,
        model: str,
        *,
        environment: str = "production",
        to_version: str | None = None,
        to_revision: int | None = None,
        reason: str,
        dry_run: bool = False,
        expected_revision: int | None = None,
    ) -> DeploymentRevision:
        path = f"/api/v1/models/{_q(model)}/deployments/{_q(environment)}/rollback"
        body = {"to_version": to_version, "to_revision": to_revision, "reason": reason,
                "dry_run": dry_run, "expected_revision": expected_revision}  # fmt: skip
        return self._send(DeploymentRevision, "POST", path, body)

    # --- progressive rollouts -----------------------------------------------------------

    def _rollouts(self, model: str, environment: str) -> str:
        return f"/api/v1/models/{_q(model)}/rollouts/{_q(environment)}"

    def start_rollout(
        self,
        model: str,
        version: str,
        *,
        environment: str = "production",
        steps: list[float],
        interval_s: float,
        guardrails: list[str],
        failure_limit: int = 0,
        min_samples: int = 100,
        reason: str = "",
    ) -> Rollout:
        body = {"version": version, "steps": steps, "interval_s": interval_s,
                "guardrails": guardrails, "failure_limit": failure_limit,
                "min_samples": min_samples, "reason": reason}  # fmt: skip
        return self._send(Rollout, "POST", self._rollouts(model, environment), body)

    def get_rollout(self, model: str, *, environment: str = "production") -> Rollout:
        return self._get(Rollout, self._rollouts(model, environment))

    def _rollout_action(self, model: str, environment: str, action: str, reason: str) -> Rollout:
        path = f"{self._rollouts(model, environment)}/{action}"
        return self._send(Rollout, "POST", path, {"reason": reason})

    def pause_rollout(
        self, model: str, *, environment: str = "production", reason: str = ""
    ) -> Rollout:
        return self._rollout_action(model, environment, "pause", reason)

    def resume_rollout(
        self, model: str, *, environment: str = "production", reason: str = ""
    ) -> Rollout:
        return self._rollout_action(model, environment, "resume", reason)

    def promote_rollout(
        self, model: str, *, environment: str = "production", reason: str = ""
    ) -> Rollout:
        return self._rollout_action(model, environment, "promote", reason)

    def abort_rollout(
        self, model: str, *, environment: str = "production", reason: str = ""
    ) -> Rollout:
        return self._rollout_action(model, environment, "abort", reason)

    # --- data plane ---------------------------------------------------------------------

    def predict(
        self, model: str, requests: list[dict[str, Any]], *, environment: str = "production"
    ) -> list[Prediction]:
        found = self._data_call(
            "POST", f"/v1/models/{_q(model)}/predict", json=requests,
            params={"environment": environment},
        )  # fmt: skip
        return [_decode(Prediction, p) for p in found]

    def log_events(self, model: str, events: list[dict[str, Any]]) -> Ingested:
        path = f"/v1/models/{_q(model)}/events"
        found = self._data_call("POST", path, json=events, params={})
        return Ingested(int(found["received"]), int(found["new"]))

    def record_actuals(self, model: str, actuals: list[dict[str, Any]]) -> Ingested:
        path = f"/v1/models/{_q(model)}/actuals"
        found = self._data_call("POST", path, json=actuals, params={})
        return Ingested(int(found["received"]), int(found["new"]))

    # --- monitoring ---------------------------------------------------------------------

    def get_performance_metrics(
        self,
        model: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        bucket_s: int = 60,
        version: str | None = None,
    ) -> PerformanceMetrics:
        params: dict[str, Any] = {"bucket_s": bucket_s}
        if start is not None:
            params["start"] = start.isoformat()
        if end is not None:
            params["end"] = end.isoformat()
        if version is not None:
            params["version"] = version
        found = self._call("GET", f"/api/v1/models/{_q(model)}/metrics", params=params)
        return _decode(_cls("PerformanceMetrics"), found)

    def detect_drift(
        self,
        model: str,
        *,
        version: str | None = None,
        window_s: float = 3600,
        min_current: int = 100,
        end: datetime | None = None,
    ) -> DriftReport:
        params = _params(version=version, window_s=window_s, min_current=min_current, end=end)
        found = self._call("GET", f"/api/v1/models/{_q(model)}/drift", params=params)
        return _decode(_cls("DriftReport"), found)

    def detect_concept_drift(
        self, model: str, *, version: str | None = None, window_s: float = 86400
    ) -> ConceptDrift:
        params: dict[str, Any] = {"window_s": window_s}
        if version is not None:
            params["version"] = version
        found = self._call("GET", f"/api/v1/models/{_q(model)}/concept-drift", params=params)
        return _decode(_cls("ConceptDrift"), found)

    def feature_distribution(
        self,
        model: str,
        feature: str,
        *,
        version: str | None = None,
        window_s: float = 3600,
        bins: int = 20,
        end: datetime | None = None,
    ) -> FeatureDistribution:
        found = self._call(
            "GET",
            f"/api/v1/models/{_q(model)}/features/{_q(feature)}/distribution",
            params=_params(version=version, window_s=window_s, bins=bins, end=end),
        )
        return _decode(_cls("FeatureDistribution"), found)

    def fleet_status(self, window_s: float = WINDOW_S) -> list[ModelHealth]:
        found = self._call("GET", "/api/v1/fleet", params={"window_s": window_s})
        return [_decode(ModelHealth, m) for m in found["models"]]

    def health_by_version(
        self, model: str, *, window_s: float = WINDOW_S, end: datetime | None = None
    ) -> VersionsHealth:
        found = self._call(
            "GET", f"/api/v1/fleet/{_q(model)}", params=_params(window_s=window_s, end=end)
        )
        return _decode(VersionsHealth, found)

    # --- alerting -------------------------------------------------------------------------

    def create_alert_rule(
        self,
        model: str,
        metric: str,
        comparison: str,
        threshold: float,
        *,
        window_s: int = 300,
        for_s: int = 0,
        severity: str = "warning",
        channels: list[str] | None = None,
        repeat_s: int = 3600,
    ) -> Rule:
        body = {"model": model, "metric": metric, "comparison": comparison, "threshold": threshold,
                "window_s": window_s, "for_s": for_s, "severity": severity, "channels": channels,
                "repeat_s": repeat_s}  # fmt: skip
        return _decode(_cls("Rule"), self._call("POST", "/api/v1/alerts/rules", json=body))

    def list_alert_rules(self, *, model: str | None = None) -> list[Rule]:
        found = self._call("GET", "/api/v1/alerts/rules", params=_params(model=model))
        return [_decode(_cls("Rule"), r) for r in found["rules"]]

    def set_alert_rule_active(self, rule_id: str, active: bool, *, reason: str = "") -> Rule:
        action = "enable" if active else "disable"
        found = self._call(
            "POST", f"/api/v1/alerts/rules/{_q(rule_id)}/{action}", json={"reason": reason}
        )
        return _decode(_cls("Rule"), found)

    def delete_alert_rule(self, rule_id: str, *, reason: str = "") -> Rule:
        found = self._call(
            "POST", f"/api/v1/alerts/rules/{_q(rule_id)}/delete", json={"reason": reason}
        )
        return _decode(_cls("Rule"), found)

    def list_alerts(
        self, *, state: str | None = None, model: str | None = None, limit: int | None = None
    ) -> list[Alert]:
        found = self._call(
            "GET", "/api/v1/alerts", params=_params(state=state, model=model, limit=limit)
        )
        return [_decode(_cls("Alert"), a) for a in found["alerts"]]

    def alert_history(
        self, *, alert_id: str | None = None, model: str | None = None, limit: int | None = None
    ) -> list[Transition]:
        found = self._call(
            "GET",
            "/api/v1/alerts/history",
            params=_params(alert_id=alert_id, model=model, limit=limit),
        )
        return [_decode(_cls("Transition"), t) for t in found["transitions"]]

    def ack_alert(self, alert_id: str, comment: str) -> Alert:
        found = self._call("POST", f"/api/v1/alerts/{_q(alert_id)}/ack", json={"comment": comment})
        return _decode(_cls("Alert"), found)

    def silence_alerts(
        self,
        *,
        rule_id: str | None = None,
        model: str | None = None,
        duration_s: float,
        comment: str = "",
    ) -> Silence:
        body = {"rule_id": rule_id, "model": model, "duration_s": duration_s, "comment": comment}
        return _decode(_cls("Silence"), self._call("POST", "/api/v1/alerts/silences", json=body))

    def list_silences(self, *, active_only: bool = False) -> list[Silence]:
        found = self._call("GET", "/api/v1/alerts/silences", params={"active_only": active_only})
        return [_decode(_cls("Silence"), s) for s in found["silences"]]

    def expire_silence(self, silence_id: str, *, reason: str = "") -> Silence:
        found = self._call(
            "POST", f"/api/v1/alerts/silences/{_q(silence_id)}/expire", json={"reason": reason}
        )
        return _decode(_cls("Silence"), found)

    def create_retrain_policy(
        self,
        model: str,
        rule_id: str,
        config_path: str,
        *,
        cooldown_s: int = 3600,
        canary: dict[str, Any] | None = None,
    ) -> RetrainPolicy:
        path = Path(config_path)
        body = {"model": model, "rule_id": rule_id, "cooldown_s": cooldown_s, "canary": canary,
                "config_path": str(path.resolve()) if path.exists() else config_path}  # fmt: skip
        return _decode(
            _cls("RetrainPolicy"), self._call("POST", "/api/v1/retrain-policies", json=body)
        )

    def list_retrain_policies(self, *, model: str | None = None) -> list[RetrainPolicy]:
        found = self._call("GET", "/api/v1/retrain-policies", params=_params(model=model))
        return [_decode(_cls("RetrainPolicy"), p) for p in found["policies"]]

    def delete_retrain_policy(self, policy_id: str) -> RetrainPolicy:
        found = self._call("POST", f"/api/v1/retrain-policies/{_q(policy_id)}/delete")
        return _decode(_cls("RetrainPolicy"), found)

    # --- A/B tests --------------------------------------------------------------------------

    def create_ab_test(self, config: ABTestConfig, *, reason: str = "") -> ABTest:
        found = self._call(
            "POST", "/api/v1/ab-tests", json=to_jsonable(config), params={"reason": reason}
        )
        return _decode(ABTest, found)

    def list_ab_tests(self, *, model: str | None = None) -> list[ABTest]:
        found = self._call("GET", "/api/v1/ab-tests", params=_params(model=model))
        return [_decode(ABTest, t) for t in found["tests"]]

    def get_ab_test(self, test_id: str) -> ABTest:
        return _decode(ABTest, self._call("GET", f"/api/v1/ab-tests/{_q(test_id)}"))

    def _ab_action(self, test_id: str, action: str, reason: str) -> ABTest:
        found = self._call(
            "POST", f"/api/v1/ab-tests/{_q(test_id)}/{action}", json={"reason": reason}
        )
        return _decode(ABTest, found)

    def start_ab_test(self, test_id: str, *, reason: str = "") -> ABTest:
        return self._ab_action(test_id, "start", reason)

    def pause_ab_test(self, test_id: str, *, reason: str = "") -> ABTest:
        return self._ab_action(test_id, "pause", reason)

    def stop_ab_test(self, test_id: str, *, reason: str = "") -> ABTest:
        return self._ab_action(test_id, "stop", reason)

    def update_traffic_split(
        self, test_id: str, split_percent: dict[str, float], *, reason: str = ""
    ) -> ABTest:
        found = self._call(
            "PUT",
            f"/api/v1/ab-tests/{_q(test_id)}/split",
            json={"split": split_percent, "reason": reason},
        )
        return _decode(ABTest, found)

    def analyze_test_results(self, test_id: str) -> TestResults:
        return _decode(
            _cls("TestResults"), self._call("GET", f"/api/v1/ab-tests/{_q(test_id)}/results")
        )

    def promote_winner(
        self, test_id: str, *, force: bool = False, reason: str = ""
    ) -> DeploymentRevision:
        found = self._call(
            "POST",
            f"/api/v1/ab-tests/{_q(test_id)}/promote",
            json={"force": force, "reason": reason},
        )
        return _decode(DeploymentRevision, found)

    def evaluate_alerts(self) -> list[Transition]:
        found = self._call("POST", "/api/v1/alerts/evaluate")
        return [_decode(_cls("Transition"), t) for t in found["transitions"]]

    # --- feature store ------------------------------------------------------------------

    def apply_features(self, config: str | Path, *, dry_run: bool = False) -> ApplyResult:
        body = {"config": _server_path(config), "dry_run": dry_run}
        return _decode(_cls("ApplyResult"), self._call("POST", "/api/v1/features/apply", json=body))

    def feature_catalog(self) -> FeatureCatalog:
        return _decode(_cls("FeatureCatalog"), self._call("GET", "/api/v1/features"))

    def get_feature_view(self, name: str, *, version: int | None = None) -> FeatureView:
        found = self._call(
            "GET", f"/api/v1/features/views/{_q(name)}", params=_params(version=version)
        )
        return _decode(_cls("FeatureView"), found)

    def ingest_features(self, view: str, data: str | Path) -> IngestResult:
        path = f"/api/v1/features/views/{_q(view)}/ingest"
        found = self._call("POST", path, json={"data": _server_path(data)})
        return _decode(_cls("IngestResult"), found)

    def materialize_features(
        self, view: str, *, up_to: datetime | None = None
    ) -> MaterializeResult:
        path = f"/api/v1/features/views/{_q(view)}/materialize"
        body = {"up_to": up_to.isoformat() if up_to is not None else None}
        return _decode(_cls("MaterializeResult"), self._call("POST", path, json=body))

    def get_historical_features(
        self, entities: pl.DataFrame, features: list[str], *, timestamp: str
    ) -> pl.DataFrame:
        import polars as pl  # only the commands that fetch training sets pay for it

        body = {"features": list(features), "timestamp": timestamp,
                "entities": to_jsonable(entities.to_dicts())}  # fmt: skip
        found = self._call("POST", "/api/v1/features/historical", json=body)
        kinds = {"int": pl.Int64(), "float": pl.Float64(), "bool": pl.Boolean()}
        columns: dict[str, str] = found["columns"]
        schema = {c: kinds.get(k, pl.String()) for c, k in columns.items()}
        frame = pl.from_dicts(found["rows"], schema=schema)
        dated = [c for c, k in columns.items() if k == "datetime"]  # sent as ISO text
        return frame.with_columns(pl.col(dated).str.to_datetime(WIRE_TIME_FORMAT, time_unit="us"))

    def get_online_features(
        self, features: list[str], entities: list[dict[str, Any]]
    ) -> OnlineFeatures:
        body = {"features": list(features), "entities": entities}
        found = self._call("POST", "/api/v1/features/online", json=body)
        return _decode(_cls("OnlineFeatures"), found)

    # --- API tokens ---------------------------------------------------------------------

    def create_token(self, name: str, role: str) -> tuple[ApiToken, str]:
        found = self._call("POST", "/api/v1/tokens", json={"name": name, "role": role})
        return _decode(ApiToken, found["token"]), str(found["secret"])

    def list_tokens(self) -> list[ApiToken]:
        return [_decode(ApiToken, t) for t in self._call("GET", "/api/v1/tokens")["tokens"]]

    def revoke_token(self, token: str) -> ApiToken:
        return self._send(ApiToken, "POST", f"/api/v1/tokens/{_q(token)}/revoke")


def _not_ready_retry(response: httpx.Response) -> float | None:
    """Seconds to wait when `response` says the owner is not ready yet, else None."""
    if response.status_code != 503 or "Retry-After" not in response.headers:
        return None
    try:
        if response.json().get("error") != "unavailable":
            return None  # overloaded: the caller decides whether to retry
        return max(0.1, float(response.headers["Retry-After"]))
    except (ValueError, AttributeError):
        return None


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json()["detail"]).removesuffix("; retry shortly")
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}"


def _decode(cls: type[T], data: Any) -> T:
    try:
        return load(cls, data)
    except (TypeError, ValueError) as e:
        raise MlcError(f"unexpected answer from the mlc server: {e}") from e


def _server_path(path: str | Path) -> str:
    # The owner reads the file. A path that exists here is sent absolute, so a relative path
    # means the same on a server on this host (started elsewhere); else it names the server's.
    p = Path(path)
    return str(p.resolve()) if not p.is_absolute() and p.exists() else str(p)


def _params(**values: Any) -> dict[str, Any]:
    """Query parameters without the ones left unset, times in ISO 8601."""
    return {
        k: v.isoformat() if isinstance(v, datetime) else v
        for k, v in values.items()
        if v is not None
    }
