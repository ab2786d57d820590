"""Every route × every credential: 401 without a usable token, 403 below the route's role,
2xx at the role and above — against a real app over a real store.

Each route's role is read from the README's table (`readme_roles`), never written here: the
code, the OpenAPI schema (`x-mlc-role`) and the README are held to one another.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from app.api import create_app
from app.api.auth import ROLE_FIELD
from core.domain import Role
from tests.api import readme_roles
from tests.api.conftest import World

VI, OP, AD = Role.VIEWER, Role.OPERATOR, Role.ADMIN
ORDER = [VI, OP, AD]

Setup = Callable[[World], tuple[str, Any]]


def _served() -> dict[readme_roles.Key, dict[str, Any]]:
    """Every operation the app documents, by (method, path shape). The schema needs no store."""
    spec = create_app(None, require_auth=True).openapi()  # type: ignore[arg-type]
    return {
        (method.upper(), readme_roles.shape(path)): operation
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
    }


SERVED = _served()
README_ROLES = readme_roles.roles(set(SERVED))


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    """The template, with placeholders auth never looks at (it answers before the handler)."""
    setup: Setup

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def role(self) -> Role:
        """What the README's table says this route needs."""
        found = README_ROLES.get((self.method, readme_roles.shape(self.path)))
        assert found not in (None, "none"), f"{self.id}: the README gives it no role"
        return Role(found)


M = "/api/v1/models"


def _b64(w: World) -> str:
    return base64.b64encode(w.artifact).decode()


def _trigger(w: World) -> tuple[str, Any]:
    return "/api/v1/training/jobs", {"config": str(w.training_config), "model": "credit-default"}


def _cancel(w: World) -> tuple[str, Any]:
    job = w.engine.trigger_training(w.training_config, model="credit-default")
    return f"/api/v1/training/jobs/{job.id}/cancel", None


def _paused(w: World) -> str:
    name = w.rolling_out()
    w.engine.pause_rollout(name)
    return name


def _rollback(w: World) -> tuple[str, Any]:
    name = w.deployed()
    w.engine.deploy(name, "v2", reason="new")
    return f"{M}/{name}/deployments/production/rollback", {"reason": "bad v2", "dry_run": True}


def _event(w: World) -> tuple[str, Any]:
    name = w.model(1)
    event = {"request_id": "e-1", "version": "v1", "prediction": 1, "latency_ms": 2.5,
             "features": {"age": 40.0, "region": "north"}}  # fmt: skip
    return f"/v1/models/{name}/events", [event]


def _actual(w: World) -> tuple[str, Any]:
    name = w.model(1)
    return f"/v1/models/{name}/actuals", [{"request_id": "e-1", "actual": 1}]


def _rule(w: World) -> str:
    return w.engine.create_alert_rule(w.model(1), "requests", ">", 0).id


def _firing(w: World) -> str:
    name = w.model(1)
    rule = w.engine.create_alert_rule(name, "requests", ">", 0)
    w.engine.log_events(
        name, [{"request_id": f"alert-{rule.id}", "version": "v1", "prediction": 1}]
    )
    w.engine.evaluate_alerts()
    [alert] = [a for a in w.engine.list_alerts(state="firing") if a.rule_id == rule.id]
    return alert.id


def _silence(w: World) -> str:
    return w.engine.silence_alerts(model=w.model(1), duration_s=600).id


A = "/api/v1/alerts"
AB = "/api/v1/ab-tests"


def _ab(w: World, *, started: bool = True) -> str:
    from core.abtesting import ABTestConfig

    name = w.deployed()
    test = w.engine.create_ab_test(ABTestConfig(model=name, name="t", versions=["v1", "v2"]))
    if started:
        w.engine.start_ab_test(test.id)
    return test.id


def _ab_with_data(w: World) -> str:
    test_id = _ab(w)
    name = w.engine.get_ab_test(test_id).model_id
    w.engine.log_events(name, [
        {"request_id": f"{test_id}-{i}", "version": f"v{1 + i % 2}", "prediction": 1} for i in range(20)
    ])  # fmt: skip
    w.engine.record_actuals(
        name, [{"request_id": f"{test_id}-{i}", "actual": i % 3 % 2} for i in range(20)]
    )
    return test_id


RP = "/api/v1/retrain-policies"


def _policy_body(w: World) -> dict[str, Any]:
    rule = w.engine.create_alert_rule("credit-default", "drift_share", ">=", 0.5)
    return {"model": "credit-default", "rule_id": rule.id, "config_path": str(w.training_config)}


def _policy(w: World) -> str:
    body = _policy_body(w)
    return w.engine.create_retrain_policy(body["model"], body["rule_id"], body["config_path"]).id


F = "/api/v1/features"
FEATURE_TOML = """
[entities.customer]
join_key = "customer_id"

[views.matrix_profile]
entity = "customer"
timestamp = "ts"
features = { score = "numeric", tier = "categorical" }
"""


def _feature_file(w: World) -> str:
    path = w.dir / "features.toml"
    if not path.exists():
        path.write_text(FEATURE_TOML)
        (w.dir / "profile.csv").write_text("customer_id,ts,score,tier\nc1,2024-01-01,1.5,a\n")
    return str(path)


def _view(w: World) -> str:
    w.engine.apply_features(_feature_file(w))
    return "matrix_profile"


ROUTES = [
    Route("POST", F + "/apply", lambda w: (F + "/apply", {"config": _feature_file(w)})),
    Route("GET", F, lambda w: (F, None)),
    Route("GET", F + "/views/{name}", lambda w: (f"{F}/views/{_view(w)}", None)),
    Route("POST", F + "/views/{name}/ingest", lambda w: (
        f"{F}/views/{_view(w)}/ingest", {"data": str(w.dir / "profile.csv")})),
    Route("POST", F + "/views/{name}/materialize", lambda w: (
        f"{F}/views/{_view(w)}/materialize", {})),
    Route("POST", F + "/online", lambda w: (
        F + "/online", {"features": [f"{_view(w)}:score"], "entities": [{"customer_id": "c1"}]})),
    Route("POST", F + "/historical", lambda w: (
        F + "/historical", {"features": [f"{_view(w)}:*"], "timestamp": "ts",
                            "entities": [{"customer_id": "c1", "ts": "2024-01-02T00:00:00"}]})),
    Route("GET", AB, lambda w: (AB, None)),
    Route("POST", AB, lambda w: (AB, {"model": w.deployed(), "name": "t", "versions": ["v1", "v2"]})),
    Route("GET", AB + "/{id}", lambda w: (f"{AB}/{_ab(w, started=False)}", None)),
    Route("GET", AB + "/{id}/results", lambda w: (f"{AB}/{_ab(w)}/results", None)),
    Route("POST", AB + "/{id}/start", lambda w: (f"{AB}/{_ab(w, started=False)}/start", {})),
    Route("POST", AB + "/{id}/pause", lambda w: (f"{AB}/{_ab(w)}/pause", {})),
    Route("POST", AB + "/{id}/stop", lambda w: (f"{AB}/{_ab(w)}/stop", {})),
    Route("PUT", AB + "/{id}/split", lambda w: (
        f"{AB}/{_ab(w)}/split", {"split": {"v1": 70, "v2": 30}})),
    Route("POST", AB + "/{id}/promote", lambda w: (
        f"{AB}/{_ab_with_data(w)}/promote", {"force": True, "reason": "matrix"})),
    Route("GET", RP, lambda w: (RP, None)),
    Route("POST", RP, lambda w: (RP, _policy_body(w))),
    Route("POST", RP + "/{id}/delete", lambda w: (f"{RP}/{_policy(w)}/delete", None)),
    Route("GET", A + "/rules", lambda w: (A + "/rules", None)),
    Route("POST", A + "/rules", lambda w: (
        A + "/rules", {"model": w.model(1), "metric": "error_rate", "comparison": ">", "threshold": 0.1})),
    Route("POST", A + "/rules/{id}/enable", lambda w: (f"{A}/rules/{_rule(w)}/enable", {})),
    Route("POST", A + "/rules/{id}/disable", lambda w: (f"{A}/rules/{_rule(w)}/disable", {})),
    Route("POST", A + "/rules/{id}/delete", lambda w: (f"{A}/rules/{_rule(w)}/delete", {})),
    Route("GET", A, lambda w: (A, None)),
    Route("GET", A + "/history", lambda w: (A + "/history", None)),
    Route("POST", A + "/evaluate", lambda w: (A + "/evaluate", None)),
    Route("POST", A + "/{id}/ack", lambda w: (f"{A}/{_firing(w)}/ack", {"comment": "on it"})),
    Route("GET", A + "/{id}", lambda w: (f"{A}/{_firing(w)}", None)),
    Route("GET", A + "/silences", lambda w: (A + "/silences", None)),
    Route("POST", A + "/silences", lambda w: (
        A + "/silences", {"model": w.model(1), "duration_s": 600})),
    Route("POST", A + "/silences/{id}/expire", lambda w: (
        f"{A}/silences/{_silence(w)}/expire", {})),
    Route("GET", "/api/v1/whoami", lambda w: ("/api/v1/whoami", None)),
    Route("GET", M, lambda w: (M, None)),
    Route("POST", M, lambda w: (M, {"name": w.unique(), "task": "classification"})),
    Route("GET", M + "/{name}", lambda w: (f"{M}/{w.shared}", None)),
    Route("GET", M + "/{name}/versions", lambda w: (f"{M}/{w.shared}/versions", None)),
    Route("POST", M + "/{name}/versions", lambda w: (
        f"{M}/{w.shared}/versions", {"artifact_base64": _b64(w), "algorithm": "lr"})),
    Route("GET", M + "/{name}/versions/{ref}", lambda w: (f"{M}/{w.shared}/versions/v1", None)),
    Route("PUT", M + "/{name}/versions/{ref}/tags/{key}", lambda w: (
        f"{M}/{w.shared}/versions/v1/tags/team", {"value": "risk"})),
    Route("POST", M + "/{name}/versions/{ref}/transition", lambda w: (
        f"{M}/{w.model(1, validated=False)}/versions/v1/transition", {"status": "validated"})),
    Route("PUT", M + "/{name}/aliases/{alias}", lambda w: (
        f"{M}/{w.shared}/aliases/champion", {"version": "v1", "reason": "best"})),
    Route("POST", M + "/{name}/versions/{ref}/validate", lambda w: (
        f"{M}/{w.shared}/versions/v1/validate", {"data": str(w.labelled)})),
    Route("GET", "/api/v1/audit", lambda w: ("/api/v1/audit?limit=5", None)),
    Route("GET", "/api/v1/audit/verify", lambda w: ("/api/v1/audit/verify", None)),
    Route("GET", "/api/v1/audit/head", lambda w: ("/api/v1/audit/head", None)),
    Route("POST", "/api/v1/training/jobs", _trigger),
    Route("GET", "/api/v1/training/jobs", lambda w: ("/api/v1/training/jobs", None)),
    Route("GET", "/api/v1/training/jobs/{id}", lambda w: (
        f"/api/v1/training/jobs/{w.job_id}", None)),
    Route("GET", "/api/v1/training/jobs/{id}/details", lambda w: (
        f"/api/v1/training/jobs/{w.job_id}/details", None)),
    Route("POST", "/api/v1/training/jobs/{id}/cancel", _cancel),
    Route("GET", M + "/{name}/deployments", lambda w: (
        f"{M}/{w.deployed()}/deployments", None)),
    Route("GET", M + "/{name}/deployments/{env}", lambda w: (
        f"{M}/{w.deployed()}/deployments/production", None)),
    Route("GET", M + "/{name}/deployments/{env}/owner", lambda w: (
        f"{M}/{w.rolling_out()}/deployments/production/owner", None)),
    Route("POST", M + "/{name}/deployments/{env}", lambda w: (
        f"{M}/{w.model(1)}/deployments/staging", {"version": "v1", "reason": "r"})),
    Route("PUT", M + "/{name}/deployments/{env}/traffic", lambda w: (
        f"{M}/{w.deployed()}/deployments/production/traffic",
        {"traffic": {"v1": 0.5, "v2": 0.5}, "reason": "split"})),
    Route("POST", M + "/{name}/deployments/{env}/rollback", _rollback),
    Route("POST", M + "/{name}/rollouts/{env}", lambda w: (
        f"{M}/{w.deployed()}/rollouts/production",
        {"version": "v2", "steps": [50, 100], "interval_s": 3600,
         "guardrails": ["error_rate<0.5"]})),
    Route("GET", M + "/{name}/concept-drift", lambda w: (
        f"{M}/{w.deployed()}/concept-drift?version=v1", None)),
    Route("GET", M + "/{name}/drift", lambda w: (
        f"{M}/{w.deployed()}/drift?version=v1", None)),
    Route("GET", M + "/{name}/metrics", lambda w: (
        f"{M}/{w.deployed()}/metrics?bucket_s=300", None)),
    Route("GET", M + "/{name}/features/{feature}/distribution", lambda w: (
        f"{M}/{w.deployed()}/features/age/distribution?version=v1", None)),
    Route("GET", "/api/v1/fleet", lambda w: ("/api/v1/fleet?window_s=60", None)),
    Route("GET", "/api/v1/fleet/{name}", lambda w: (
        f"/api/v1/fleet/{w.deployed()}?window_s=60", None)),
    Route("GET", M + "/{name}/rollouts/{env}", lambda w: (
        f"{M}/{w.rolling_out()}/rollouts/production", None)),
    Route("POST", M + "/{name}/rollouts/{env}/pause", lambda w: (
        f"{M}/{w.rolling_out()}/rollouts/production/pause", {"reason": "look"})),
    Route("POST", M + "/{name}/rollouts/{env}/resume", lambda w: (
        f"{M}/{_paused(w)}/rollouts/production/resume", {})),
    Route("POST", M + "/{name}/rollouts/{env}/promote", lambda w: (
        f"{M}/{w.rolling_out()}/rollouts/production/promote", {})),
    Route("POST", M + "/{name}/rollouts/{env}/abort", lambda w: (
        f"{M}/{w.rolling_out()}/rollouts/production/abort", {"reason": "bad"})),
    Route("GET", "/api/v1/tokens", lambda w: ("/api/v1/tokens", None)),
    Route("POST", "/api/v1/tokens", lambda w: (
        "/api/v1/tokens", {"name": w.unique("t"), "role": "viewer"})),
    Route("POST", "/api/v1/tokens/{token}/revoke", lambda w: (
        f"/api/v1/tokens/{w.engine.create_token(w.unique('t'), 'viewer')[0].id}/revoke", None)),
    Route("POST", "/v1/models/{name}/predict", lambda w: (
        f"/v1/models/{w.deployed(1)}/predict",
        {"request_id": "r-1", "features": {"age": 41.0, "region": "south"}})),
    Route("POST", "/v1/models/{name}/events", _event),
    Route("POST", "/v1/models/{name}/actuals", _actual),
]  # fmt: skip


def _ids(route: Route) -> str:
    return route.id


def _call(w: World, route: Route, path: str, body: Any, role: Role | None) -> Any:
    return w.client.request(route.method, path, json=body, headers=w.headers(role))


def _placeholder(route: Route) -> str:
    return route.path.format(name="shared", ref="v1", key="k", alias="a", id="job-x", feature="f",
                             env="production", token="tok_x")  # fmt: skip


def test_the_readme_table_names_every_route_the_app_serves_and_no_other(world: World) -> None:
    spec = world.client.get("/openapi.json").json()
    served = {(m.upper(), readme_roles.shape(p)) for p, ops in spec["paths"].items() for m in ops}
    assert set(README_ROLES) == served


def test_every_route_that_needs_a_token_is_in_the_matrix() -> None:
    listed = {(r.method, readme_roles.shape(r.path)) for r in ROUTES}
    assert len(listed) == len(ROUTES)
    assert listed == {key for key, role in README_ROLES.items() if role != "none"}


def test_the_openapi_schema_names_the_readme_role_of_every_operation() -> None:
    documented = {key: operation[ROLE_FIELD] for key, operation in SERVED.items()}
    assert documented == README_ROLES
    for key, operation in SERVED.items():
        role = README_ROLES[key]
        said = f"Needs the **{role}** role" if role != "none" else "Needs no token."
        assert operation["description"].startswith(said), key
        assert operation["description"].count("Needs ") == 1, key
        roles = [r for requirement in operation.get("security", []) for r in requirement["token"]]
        assert roles == ([] if role == "none" else [role]), key


def test_the_readme_table_parses_shortened_and_alternative_paths() -> None:
    text = "\n".join([
        readme_roles.HEADER, "| --- | --- | --- |",
        "| `GET /api/v1/x/{id}?q&r` · `POST …` | viewer · operator | one |",
        "| `POST …/y/{n}/a\\|b` | admin | two |",
    ])  # fmt: skip
    served = {("GET", "/api/v1/x/{}"), ("POST", "/api/v1/x/{}"), ("POST", "/api/v1/x/{}/y/{}/a"),
              ("POST", "/api/v1/x/{}/y/{}/b")}  # fmt: skip
    assert readme_roles.roles(served, text) == {
        ("GET", "/api/v1/x/{}"): "viewer", ("POST", "/api/v1/x/{}"): "operator",
        ("POST", "/api/v1/x/{}/y/{}/a"): "admin", ("POST", "/api/v1/x/{}/y/{}/b"): "admin",
    }  # fmt: skip
    with pytest.raises(AssertionError, match="names 0 served routes"):
        readme_roles.roles(served, text.replace("…/y/{n}", "…/z/{n}"))


@pytest.mark.parametrize("route", ROUTES, ids=_ids)
def test_no_token_is_401(world: World, route: Route) -> None:
    res = _call(world, route, _placeholder(route), {}, None)
    assert res.status_code == 401, res.text
    assert res.headers["WWW-Authenticate"].startswith("Bearer")
    assert res.json()["error"] == "unauthenticated"


@pytest.mark.parametrize("route", ROUTES, ids=_ids)
def test_revoked_token_is_401(world: World, route: Route) -> None:
    headers = {"Authorization": f"Bearer {world.revoked_secret}"}
    res = world.client.request(route.method, _placeholder(route), json={}, headers=headers)
    assert res.status_code == 401, res.text
    assert "revoked" in res.json()["detail"]


def _below() -> list[Any]:
    return [
        pytest.param(route, role, id=f"{route.id} as {role.value}")
        for route in ROUTES
        for role in ORDER[: ORDER.index(route.role)]
    ]


def _at_or_above() -> list[Any]:
    return [
        pytest.param(route, role, id=f"{route.id} as {role.value}")
        for route in ROUTES
        for role in ORDER[ORDER.index(route.role) :]
    ]


@pytest.mark.parametrize(("route", "role"), _below())
def test_a_lower_role_is_403(world: World, route: Route, role: Role) -> None:
    res = _call(world, route, _placeholder(route), {}, role)
    assert res.status_code == 403, res.text
    assert res.json()["error"] == "permission"
    assert route.role.value in res.json()["detail"]


@pytest.mark.parametrize(("route", "role"), _at_or_above())
def test_the_role_and_above_succeed(world: World, route: Route, role: Role) -> None:
    path, body = route.setup(world)
    res = _call(world, route, path, body, role)
    assert 200 <= res.status_code < 300, f"{res.status_code} {res.text}"


def test_health_needs_no_token(world: World) -> None:
    assert README_ROLES[("GET", "/api/v1/health")] == "none"
    res = world.client.get("/api/v1/health")
    assert res.status_code == 200 and res.json()["ok"] is True


def test_a_wrong_secret_is_401_and_a_non_bearer_scheme_too(world: World) -> None:
    for header in ("Bearer mlc_not-a-real-token", "Bearer nope", "Basic dXNlcjpwYXNz"):
        res = world.client.get("/api/v1/models", headers={"Authorization": header})
        assert res.status_code == 401, header


def test_audit_names_the_token_as_actor(world: World) -> None:
    name = world.unique()
    res = world.client.post(
        "/api/v1/models", json={"name": name, "task": "regression"}, headers=world.headers(OP)
    )
    assert res.status_code == 201
    assert res.json()["created_by"] == "token:operator-token"
    records = world.engine.list_audit(model=name)
    assert [r.actor for r in records] == ["token:operator-token"]
    who = world.client.get("/api/v1/whoami", headers=world.headers(VI)).json()
    assert who == {"actor": "token:viewer-token", "role": "viewer"}
