"""Every control-API operation, declared once: the engine method it calls, its verb and path,
its role, its request and its answer. `app.api.routes.table` builds the FastAPI routes from
this table and `app.client.RemoteEngine` its methods, as MLflow builds its REST store's calls
from one service schema (`_METHOD_TO_INFO`).

Kept light on purpose: the client imports it, and a client (the console of a running owner)
must not pay pydantic's, FastAPI's or scipy's import. So what only the server needs is named,
not imported: `body` and `doc` are names in `app.api.schemas`, and `returns` is the engine's
return type as text, which the client resolves when it first decodes one (tests/api/
test_operations.py holds `args` and `returns` to the `Engine` protocol, and each body's fields
to the method's parameters).

How an engine call travels: its positional parameters are `args`; each parameter goes in the
path where a `{placeholder}` names it, else in the query when listed in `query`, else in the
body (or is the whole body: `body_arg`). A placeholder or body field is named as the engine
parameter unless `names` maps it (`{name}` is the engine's `model` everywhere unless mapped).
The answer is what the engine returned, rendered as `mlc --json` renders it, wrapped as
`{key: ...}` when `key` is set.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from core.domain import Role

VIEWER, OPERATOR, ADMIN = Role.VIEWER, Role.OPERATOR, Role.ADMIN


@dataclass(frozen=True)
class Q:
    """What a query parameter's documentation adds to the engine parameter's type and default."""

    description: str | None = None
    ge: int | None = None
    type: Any = None
    """The type on the wire when it is not the engine's (an `AuditHead` travels as text)."""


@dataclass(frozen=True)
class Op:
    name: str
    """The `Engine` method."""
    verb: str
    path: str
    role: Role
    returns: str
    """The method's return type (as annotated on `Engine`), which the client rebuilds."""
    args: tuple[str, ...] = ()
    """The method's positional parameters, in order."""
    query: tuple[str, ...] = ()
    body: str | None = None
    """The request body's model in `app.api.schemas`."""
    body_arg: str | None = None
    """The parameter that is the whole body (else each body field is a parameter)."""
    doc: str | None = None
    """The documented answer's model in `app.api.schemas`."""
    status: int = 200
    key: str | None = None
    text: str = ""
    """The OpenAPI description (the role is prepended)."""
    route: str | None = None
    """The route's name (FastAPI's operationId and summary), where it is not `name`."""
    tag: str = ""
    names: Mapping[str, str] = field(default_factory=dict)
    """Wire name → engine parameter, where they differ."""
    fixed: Mapping[str, Any] = field(default_factory=dict)
    """Parameters the path decides (`/enable`: `active=True`)."""
    files: tuple[str, ...] = ()
    """Parameters naming a file the owner reads (the client sends a path that exists here
    absolute, so that it means the same to an owner on this host started elsewhere)."""
    params: Mapping[str, Q] = field(default_factory=dict)
    convert: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)
    """Server side: wire value → engine argument, where the engine takes another type."""
    render: Callable[[Any, dict[str, Any]], Any] | None = None
    """Server side: (result, engine arguments) → the answer, where it is not the result."""
    custom: bool = False
    """Served by a hand-written route (the transport differs; see `app.api.routes`)."""

    def arg(self, wire: str) -> str:
        """The engine parameter a placeholder or body field carries."""
        return self.names.get(wire, "model" if wire == "name" else wire)


PATH_DEFAULTS = {"environment": "production"}
"""Placeholders a caller may leave out (the engine's default)."""


def _area(tag: str, *ops: Op) -> list[Op]:
    return [dataclasses.replace(op, tag=tag) for op in ops]


# --- conversions and answers that are not the engine's value as it is (server side) -----


def _features(items: list[Any]) -> Any:
    from core import names  # the server's import: this module stays light for the client

    return names.features((f.name, f.type) for f in items)


def _head(text: str | None) -> Any:
    from core import audit

    return None if text is None else audit.parse_head(text)


def _with_passed(result: Any, args: dict[str, Any]) -> Any:
    from core.jsonable import to_jsonable

    return {**to_jsonable(result), "passed": result.passed}


def _with_model(result: Any, args: dict[str, Any]) -> Any:
    return {"model": args["model"], "versions": result}


def _token_and_secret(result: Any, args: dict[str, Any]) -> Any:
    token, secret = result
    return {"token": token, "secret": secret}


_REASON = "Reason"
M = "/api/v1/models/{name}"
V = M + "/versions/{ref}"
D = M + "/deployments"
R = M + "/rollouts/{environment}"
J = "/api/v1/training/jobs"
A = "/api/v1/alerts"
AB = "/api/v1/ab-tests"
F = "/api/v1/features"

OPERATIONS: list[Op] = [
    *_area("models",
        Op("list_models", "GET", "/api/v1/models", VIEWER, "list[Model]", key="models",
           doc="ModelList"),
        Op("create_model", "POST", "/api/v1/models", OPERATOR, "Model", ("name", "task"),
           body="CreateModel", status=201, doc="Model", names={"name": "name"},
           convert={"features": _features}),
        Op("get_model", "GET", M, VIEWER, "Model", ("name",), doc="Model", names={"name": "name"}),
    ),
    *_area("versions",
        Op("list_versions", "GET", M + "/versions", VIEWER, "list[ModelVersion]", ("model",),
           key="versions", render=_with_model, doc="VersionList"),
        Op("register_version", "POST", M + "/versions", OPERATOR, "ModelVersion",
           ("model", "artifact"), body="RegisterVersion", status=201, doc="ModelVersion",
           custom=True, text="Register the next version from a skops artifact sent as base64."),
        Op("get_version", "GET", V, VIEWER, "ModelVersion", ("model", "ref"), doc="ModelVersion",
           text="`ref` is v3, 3 or an alias."),
        Op("tag_version", "PUT", V + "/tags/{key}", OPERATOR, "ModelVersion",
           ("model", "ref", "key", "value"), body="TagValue", doc="ModelVersion"),
        Op("transition_version", "POST", V + "/transition", OPERATOR, "ModelVersion",
           ("model", "ref", "status"), body="Transition", doc="ModelVersion"),
        Op("set_alias", "PUT", M + "/aliases/{alias}", OPERATOR, "ModelVersion",
           ("model", "ref", "alias"), body="AliasTarget", names={"version": "ref"},
           doc="ModelVersion"),
        Op("validate_model", "POST", V + "/validate", OPERATOR, "ValidationResults",
           ("model", "version", "data"), body="ValidateOn", files=("data",), names={"ref": "version"},
           render=_with_passed, doc="ValidationResults", route="validate_version",
           text="Score the version on a labelled file on the server, against its own gates."),
    ),
    *_area("audit",
        Op("list_audit", "GET", "/api/v1/audit", VIEWER, "list[AuditRecord]",
           query=("model", "action", "since", "limit"), key="records", doc="AuditList",
           params={"action": Q("An action, or a family: 'version'"),
                   "since": Q("ISO-8601 time"), "limit": Q(ge=1)},
           text="Records oldest first; with `limit`, the newest `limit` of them."),
        Op("verify_audit", "GET", "/api/v1/audit/verify", VIEWER, "AuditVerification",
           query=("head",), convert={"head": _head}, doc="AuditVerification",
           params={"head": Q("SEQ:HASH, a head taken earlier (`GET /api/v1/audit/head`)",
                             type=str | None)},
           text="The chain, the key and the store's head; with `head`, also that the log still"
           " leads\nthrough that record unchanged. `truncated_after` is set when the log ends"
           " before a head."),
        Op("audit_head", "GET", "/api/v1/audit/head", VIEWER, "AuditHead", doc="AuditHead",
           text="The newest record's `{seq, hash, at}`, to keep off the host and check later."),
    ),
    *_area("training",
        Op("trigger_training", "POST", J, OPERATOR, "TrainingJob", ("config",),
           body="TriggerTraining", files=("config",), status=201, doc="TrainingJob",
           text="Queue a job from a config file on the server; answers at once with the"
           " queued job."),
        Op("list_jobs", "GET", J, VIEWER, "list[TrainingJob]", query=("model", "limit"),
           key="jobs", doc="JobList", params={"limit": Q(ge=1)}, text="Newest first."),
        Op("get_training_status", "GET", J + "/{job_id}", VIEWER, "TrainingJob", ("job_id",),
           doc="TrainingJob"),
        Op("job_details", "GET", J + "/{job_id}/details", VIEWER, "JobDetails", ("job_id",),
           query=("after_log",), doc="JobDetails",
           params={"after_log": Q("Only log lines after this seq", ge=0)},
           text="The job, every search trial, and its log lines (poll with `after_log` to"
           " follow)."),
        Op("cancel_training", "POST", J + "/{job_id}/cancel", OPERATOR, "TrainingJob",
           ("job_id",), doc="TrainingJob"),
    ),
    *_area("deployments",
        Op("deployment_history", "GET", D, VIEWER, "list[DeploymentRevision]", ("model",),
           query=("environment",), key="revisions", doc="RevisionList",
           text="Every revision, in every environment unless `environment` is given."),
        Op("get_deployment", "GET", D + "/{environment}", VIEWER, "DeploymentRevision | None",
           ("model",), key="deployment", doc="CurrentDeployment",
           text="The revision serving now (`null` when the model was never deployed there)."),
        Op("traffic_owner", "GET", D + "/{environment}/owner", VIEWER, "TrafficOwner | None",
           ("model",), key="owner", doc="OwnerAnswer",
           text="The running A/B test or active rollout owning this traffic (`null`: none); a"
           " deploy,\ntraffic change, rollback or rollout by anyone else ends it as"
           " interrupted."),
        Op("deploy", "POST", D + "/{environment}", OPERATOR, "DeploymentRevision",
           ("model", "version"), body="Deploy", status=201, doc="DeploymentRevision",
           text="Send all traffic to one version (a new revision)."),
        Op("set_traffic", "PUT", D + "/{environment}/traffic", OPERATOR, "DeploymentRevision",
           ("model", "traffic"), body="Traffic", doc="DeploymentRevision",
           text="Split traffic between versions; 409 if `expected_revision` is no longer"
           " current."),
        Op("rollback", "POST", D + "/{environment}/rollback", OPERATOR, "DeploymentRevision",
           ("model",), body="Rollback", doc="DeploymentRevision",
           text="Restore an earlier traffic map (by default the last known good); `dry_run`"
           " only shows it."),
    ),
    *_area("rollouts",
        Op("start_rollout", "POST", R, OPERATOR, "Rollout", ("model", "version"),
           body="StartRollout", status=201, doc="Rollout"),
        Op("get_rollout", "GET", R, VIEWER, "Rollout", ("model",), doc="Rollout"),
        *(Op(f"{act}_rollout", "POST", f"{R}/{act}", OPERATOR, "Rollout", ("model",),
             body=_REASON, doc="Rollout") for act in ("pause", "resume", "promote", "abort")),
    ),
    *_area("tokens",
        Op("list_tokens", "GET", "/api/v1/tokens", ADMIN, "list[ApiToken]", key="tokens",
           doc="TokenList"),
        Op("create_token", "POST", "/api/v1/tokens", ADMIN, "tuple[ApiToken, str]",
           ("name", "role"), body="CreateToken", status=201, doc="NewToken",
           names={"name": "name"}, render=_token_and_secret,
           text="The secret is in this answer only: it is stored as a sha256 hash."),
        Op("revoke_token", "POST", "/api/v1/tokens/{token}/revoke", ADMIN, "ApiToken",
           ("token",), doc="ApiToken",
           text="Revoke by id (`tok_…`) or name; a revoked token answers 401 from then on."),
    ),
    *_area("monitoring",
        Op("get_performance_metrics", "GET", M + "/metrics", VIEWER, "PerformanceMetrics",
           ("model",), query=("start", "end", "bucket_s", "version"),
           doc="PerformanceMetrics"),
        Op("detect_drift", "GET", M + "/drift", VIEWER, "DriftReport", ("model",),
           query=("version", "window_s", "min_current", "end"), doc="DriftReport"),
        Op("detect_concept_drift", "GET", M + "/concept-drift", VIEWER, "ConceptDrift",
           ("model",), query=("version", "window_s"), doc="ConceptDrift"),
        Op("feature_distribution", "GET", M + "/features/{feature}/distribution", VIEWER,
           "FeatureDistribution", ("model", "feature"),
           query=("version", "window_s", "bins", "end"), doc="FeatureDistribution"),
        Op("fleet_status", "GET", "/api/v1/fleet", VIEWER, "list[ModelHealth]", ("window_s",),
           query=("window_s",), key="models",
           text='`{"models": [ModelHealth, ...]}` over the last `window_s` seconds of'
           " production; each\nrow carries its interval (`window_s`, `start`, `end`)."),
        Op("health_by_version", "GET", "/api/v1/fleet/{name}", VIEWER, "VersionsHealth",
           ("model",), query=("window_s", "end"), doc="VersionsHealth",
           text="One model's traffic per version over the last `window_s` seconds up to"
           " `end`."),
    ),
    *_area("alerts",
        Op("list_alert_rules", "GET", A + "/rules", VIEWER, "list[AlertRule]", query=("model",),
           key="rules", route="list_rules"),
        Op("create_alert_rule", "POST", A + "/rules", OPERATOR, "AlertRule",
           ("model", "metric", "comparison", "threshold"), body="CreateRule", status=201,
           route="create_rule"),
        *(Op("set_alert_rule_active", "POST", f"{A}/rules/{{rule_id}}/{act}", OPERATOR, "AlertRule",
             ("rule_id", "active"), body=_REASON, fixed={"active": act == "enable"},
             route=f"{act}_rule") for act in ("enable", "disable")),
        Op("delete_alert_rule", "POST", A + "/rules/{rule_id}/delete", OPERATOR, "AlertRule",
           ("rule_id",), body=_REASON, route="delete_rule"),
        Op("list_alerts", "GET", A, VIEWER, "list[Alert]", query=("state", "model", "limit"),
           key="alerts"),
        Op("alert_history", "GET", A + "/history", VIEWER, "list[Transition]",
           query=("alert_id", "model", "limit"), key="transitions", route="history"),
        Op("evaluate_alerts", "POST", A + "/evaluate", OPERATOR, "list[Transition]",
           key="transitions", route="evaluate"),
        Op("ack_alert", "POST", A + "/{alert_id}/ack", OPERATOR, "Alert",
           ("alert_id", "comment"), body="Ack", route="ack"),
        Op("list_silences", "GET", A + "/silences", VIEWER, "list[Silence]",
           query=("active_only",), key="silences"),
        Op("silence_alerts", "POST", A + "/silences", OPERATOR, "Silence", body="CreateSilence",
           status=201, route="silence"),
        Op("expire_silence", "POST", A + "/silences/{silence_id}/expire", OPERATOR, "Silence",
           ("silence_id",), body=_REASON),
        Op("get_alert", "GET", A + "/{alert_id}", VIEWER, "Alert", ("alert_id",)),
    ),
    *_area("retrain",
        Op("list_retrain_policies", "GET", "/api/v1/retrain-policies", VIEWER,
           "list[RetrainPolicy]", query=("model",), key="policies", route="list_policies"),
        Op("create_retrain_policy", "POST", "/api/v1/retrain-policies", OPERATOR,
           "RetrainPolicy", ("model", "rule_id", "config_path"), body="CreatePolicy",
           status=201, files=("config_path",), route="create_policy"),
        Op("delete_retrain_policy", "POST", "/api/v1/retrain-policies/{policy_id}/delete",
           OPERATOR, "RetrainPolicy", ("policy_id",), route="delete_policy"),
    ),
    *_area("ab-tests",
        Op("list_ab_tests", "GET", AB, VIEWER, "list[ABTest]", query=("model",), key="tests",
           route="list_tests"),
        Op("create_ab_test", "POST", AB, OPERATOR, "ABTest", ("config",), query=("reason",),
           body="ABTestConfig", body_arg="config", status=201, route="create_test",
           text="The body is the engine's own `ABTestConfig` (FastAPI validates the"
           " dataclass)."),
        Op("get_ab_test", "GET", AB + "/{test_id}", VIEWER, "ABTest", ("test_id",),
           route="get_test"),
        Op("analyze_test_results", "GET", AB + "/{test_id}/results", VIEWER, "TestResults",
           ("test_id",), route="results"),
        *(Op(f"{act}_ab_test", "POST", f"{AB}/{{test_id}}/{act}", OPERATOR, "ABTest",
             ("test_id",), body=_REASON, route=act) for act in ("start", "pause", "stop")),
        Op("update_traffic_split", "PUT", AB + "/{test_id}/split", OPERATOR, "ABTest",
           ("test_id", "split_percent"), body="Split", names={"split": "split_percent"},
           route="split"),
        Op("promote_winner", "POST", AB + "/{test_id}/promote", OPERATOR, "DeploymentRevision",
           ("test_id",), body="Promote", route="promote"),
    ),
    *_area("feature store",
        Op("apply_features", "POST", F + "/apply", OPERATOR, "ApplyResult", ("config",),
           body="Apply", files=("config",), doc="ApplyResult", route="apply",
           text="Create or update entities and views from a definitions file; all or nothing."),
        Op("feature_catalog", "GET", F, VIEWER, "FeatureCatalog", doc="FeatureCatalog",
           route="catalog"),
        Op("get_feature_view", "GET", F + "/views/{name}", VIEWER, "FeatureView", ("name",),
           query=("version",), names={"name": "name"}, doc="FeatureView", route="view"),
        Op("ingest_features", "POST", F + "/views/{name}/ingest", OPERATOR, "IngestResult",
           ("view", "data"), body="Ingest", files=("data",), names={"name": "view"},
           doc="IngestResult",
           route="ingest",
           text="Append a file's rows to a store view: every row checked first, all or none"
           " stored."),
        Op("materialize_features", "POST", F + "/views/{name}/materialize", OPERATOR,
           "MaterializeResult", ("view",), body="Materialize", names={"name": "view"},
           doc="MaterializeResult", route="materialize"),
        Op("get_online_features", "POST", F + "/online", VIEWER, "OnlineFeatures",
           ("features", "entities"), body="Online", doc="OnlineFeatures", route="online",
           text="The materialized values of these entities."),
        Op("get_historical_features", "POST", F + "/historical", VIEWER, "pl.DataFrame",
           ("entities", "features"), body="Historical", custom=True, route="historical",
           text='Point-in-time-correct features for each entity row: `{"columns": {name:'
           ' type},\n"rows": [...]}`, rows in the order sent; types are int, float, string,'
           " bool, datetime."),
    ),
]  # fmt: skip


def by_name() -> dict[str, list[Op]]:
    """The operations of each engine method (one, or one per fixed argument's value)."""
    found: dict[str, list[Op]] = {}
    for op in OPERATIONS:
        found.setdefault(op.name, []).append(op)
    return found
