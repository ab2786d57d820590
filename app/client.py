"""`RemoteEngine`: the `Engine` protocol over HTTP, to an owner on a Unix socket or over TCP.

It returns the same domain objects and raises the same exceptions (same kind, same message)
as the local engine, so a command's output and exit code do not depend on who owns the store.

Its methods are built from the operation table (`app/api/operations.py`), from which the
server builds its routes too: `rollback = remote(Engine.rollback)` is typed as the protocol's
method and calls the operation declared for it. By hand remain only the calls whose transport
differs: the data plane (it waits for the owner to be ready), the artifact upload, the
historical-features table, the token's one-time secret and the training log's times.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

import httpx

from app import wire
from app.api.operations import PATH_DEFAULTS, Op, by_name
from core.domain import ApiToken, Ingested, ModelVersion, Prediction
from core.errors import ERROR_TYPES, InvalidInput, MlcError, Overloaded, StoreUnavailable
from core.features.types import WIRE_TIME_FORMAT
from core.jsonable import to_jsonable

if TYPE_CHECKING:
    import polars as pl

    from core.engine import Engine
    from core.training.pipeline import JobDetails
else:
    # At run time `Engine.rollback` is the operations declared for `rollback`: importing the
    # protocol would cost a client scipy's import (see `_TYPES`).
    Engine = SimpleNamespace(**by_name())

P = ParamSpec("P")
R = TypeVar("R")


def _error(response: httpx.Response, where: str) -> MlcError:
    """The exception an error answer stands for: its kind names the type, `detail` the message."""
    try:
        body = response.json()
        kind, detail = str(body["error"]), str(body["detail"])
    except (ValueError, KeyError, TypeError):
        text = response.text.strip().splitlines()[0][:200] if response.text.strip() else ""
        return MlcError(
            f"the mlc server at {where} answered HTTP {response.status_code} {text}".strip()
        )
    cls = ERROR_TYPES.get(kind, MlcError)
    if issubclass(cls, Overloaded):
        try:
            retry = float(response.headers.get("Retry-After", "1"))
        except ValueError:
            retry = 1.0
        return cls(detail, retry_after_s=retry)
    return cls(detail)


DEFAULT_TIMEOUT_S = 300.0
"""Generous: validating on a large file or uploading a big artifact takes a while."""


def remote(method: Callable[Concatenate[Any, P], R]) -> Callable[Concatenate[RemoteEngine, P], R]:
    """The `Engine` method `method` (at run time: its operations) as a `RemoteEngine` method."""
    ops: list[Op] = method  # type: ignore[assignment]  # see `Engine` above

    def call(self: RemoteEngine, *args: P.args, **kwargs: P.kwargs) -> R:
        return self._operate(ops, args, kwargs)

    call.__name__ = call.__qualname__ = ops[0].name
    return call


def by_hand(
    method: Callable[Concatenate[Any, P], R],
) -> Callable[[Callable[..., Any]], Callable[Concatenate[RemoteEngine, P], R]]:
    """Types a hand-written method as the `Engine` method `method`, so that its signature is
    written once, in the protocol."""
    return lambda written: written


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

    def _operate(self, ops: list[Op], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Call the operation of `ops` whose fixed arguments match, with these arguments."""
        names = ops[0].args
        if len(args) > len(names):
            raise TypeError(f"{ops[0].name}() takes {len(names)} positional arguments")
        given = {**dict(zip(names, args, strict=False)), **kwargs}
        op = next(o for o in ops if all(given.get(k) == v for k, v in o.fixed.items()))
        given = {k: v for k, v in given.items() if k not in op.fixed}
        path = op.path
        for part in wire.placeholders(op.path):
            value = given.pop(op.arg(part), PATH_DEFAULTS.get(part))
            if value is None:
                raise TypeError(f"{op.name}() needs {op.arg(part)!r}")
            path = path.replace(f"{{{part}}}", wire.quote_part(str(value)))
        params = {k: wire.query_value(given.pop(k)) for k in op.query if k in given}
        body: Any = None
        if op.body_arg is not None:
            body = to_jsonable(given.pop(op.body_arg))
        elif op.body is not None:
            named = {engine: w for w, engine in op.names.items()}
            body = to_jsonable({named.get(k, k): wire.server_path(v) if k in op.files else v
                                for k, v in given.items() if v is not None})  # fmt: skip
            given = {}
        if given:
            raise TypeError(f"{op.name}() got unexpected arguments {sorted(given)}")
        found = self._call(op.verb, path, json=body, params=params)
        return wire.decode(wire.result_type(op.returns), found if op.key is None else found[op.key])

    def _call(
        self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None
    ) -> Any:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        return self._answer(self._request(method, path, json=json, params=query))

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
            retry = wire.not_ready_retry(response)
            if retry is None or time.monotonic() + retry > deadline:
                break
            if not told and self.on_wait is not None:
                what = wire.detail(response).removeprefix("not ready yet: ")
                self.on_wait(f"waiting for the store's owner to be ready ({what}) …")
                told = True
            time.sleep(retry)
        return self._answer(response)

    def _answer(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            raise _error(response, self.where)
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

    # --- the operations of the table ----------------------------------------------------------

    create_model = remote(Engine.create_model)
    list_models = remote(Engine.list_models)
    get_model = remote(Engine.get_model)
    list_versions = remote(Engine.list_versions)
    get_version = remote(Engine.get_version)
    tag_version = remote(Engine.tag_version)
    set_alias = remote(Engine.set_alias)
    transition_version = remote(Engine.transition_version)
    validate_model = remote(Engine.validate_model)
    list_audit = remote(Engine.list_audit)
    verify_audit = remote(Engine.verify_audit)
    audit_head = remote(Engine.audit_head)
    trigger_training = remote(Engine.trigger_training)
    get_training_status = remote(Engine.get_training_status)
    list_jobs = remote(Engine.list_jobs)
    cancel_training = remote(Engine.cancel_training)
    deploy = remote(Engine.deploy)
    set_traffic = remote(Engine.set_traffic)
    get_deployment = remote(Engine.get_deployment)
    deployment_history = remote(Engine.deployment_history)
    traffic_owner = remote(Engine.traffic_owner)
    rollback = remote(Engine.rollback)
    start_rollout = remote(Engine.start_rollout)
    get_rollout = remote(Engine.get_rollout)
    pause_rollout = remote(Engine.pause_rollout)
    resume_rollout = remote(Engine.resume_rollout)
    promote_rollout = remote(Engine.promote_rollout)
    abort_rollout = remote(Engine.abort_rollout)
    list_tokens = remote(Engine.list_tokens)
    revoke_token = remote(Engine.revoke_token)
    get_performance_metrics = remote(Engine.get_performance_metrics)
    detect_drift = remote(Engine.detect_drift)
    detect_concept_drift = remote(Engine.detect_concept_drift)
    feature_distribution = remote(Engine.feature_distribution)
    fleet_status = remote(Engine.fleet_status)
    health_by_version = remote(Engine.health_by_version)
    create_alert_rule = remote(Engine.create_alert_rule)
    list_alert_rules = remote(Engine.list_alert_rules)
    set_alert_rule_active = remote(Engine.set_alert_rule_active)
    delete_alert_rule = remote(Engine.delete_alert_rule)
    list_alerts = remote(Engine.list_alerts)
    get_alert = remote(Engine.get_alert)
    alert_history = remote(Engine.alert_history)
    ack_alert = remote(Engine.ack_alert)
    silence_alerts = remote(Engine.silence_alerts)
    list_silences = remote(Engine.list_silences)
    expire_silence = remote(Engine.expire_silence)
    evaluate_alerts = remote(Engine.evaluate_alerts)
    create_retrain_policy = remote(Engine.create_retrain_policy)
    list_retrain_policies = remote(Engine.list_retrain_policies)
    delete_retrain_policy = remote(Engine.delete_retrain_policy)
    create_ab_test = remote(Engine.create_ab_test)
    list_ab_tests = remote(Engine.list_ab_tests)
    get_ab_test = remote(Engine.get_ab_test)
    start_ab_test = remote(Engine.start_ab_test)
    pause_ab_test = remote(Engine.pause_ab_test)
    stop_ab_test = remote(Engine.stop_ab_test)
    update_traffic_split = remote(Engine.update_traffic_split)
    analyze_test_results = remote(Engine.analyze_test_results)
    promote_winner = remote(Engine.promote_winner)
    apply_features = remote(Engine.apply_features)
    feature_catalog = remote(Engine.feature_catalog)
    get_feature_view = remote(Engine.get_feature_view)
    ingest_features = remote(Engine.ingest_features)
    materialize_features = remote(Engine.materialize_features)
    get_online_features = remote(Engine.get_online_features)

    # --- by hand: the transport differs -------------------------------------------------------

    @by_hand(Engine.register_version)
    def register_version(self, model: str, artifact: bytes, **fields: Any) -> ModelVersion:
        """An upload: the artifact's bytes travel as base64 text, beside the other fields."""
        body = {k: v for k, v in fields.items() if v is not None}
        body["artifact_base64"] = base64.b64encode(artifact).decode("ascii")
        path = f"/api/v1/models/{wire.quote_part(model)}/versions"
        return wire.decode(ModelVersion, self._call("POST", path, json=to_jsonable(body)))

    def job_details(self, job_id: str, *, after_log: int = 0) -> JobDetails:
        details = _job_details(self, job_id, after_log=after_log)
        # Log lines are plain dicts, so nothing typed says `logged_at` is a time: restore it.
        for entry in details.logs:
            if isinstance(entry.get("logged_at"), str):
                entry["logged_at"] = datetime.fromisoformat(entry["logged_at"])
        return details

    def create_token(self, name: str, role: str) -> tuple[ApiToken, str]:
        """The answer is an object `{token, secret}`, not the pair the engine returns."""
        found = self._call("POST", "/api/v1/tokens", json={"name": name, "role": role})
        return wire.decode(ApiToken, found["token"]), str(found["secret"])

    def get_historical_features(
        self, entities: pl.DataFrame, features: list[str], *, timestamp: str
    ) -> pl.DataFrame:
        """A table both ways: rows out, `{columns: {name: kind}, rows}` back, times as text."""
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

    # The data plane waits for the owner to be ready (`_data_call`) and sends bare JSON lists.

    def predict(
        self, model: str, requests: list[dict[str, Any]], *, environment: str = "production"
    ) -> list[Prediction]:
        found = self._data_call(
            "POST", f"/v1/models/{wire.quote_part(model)}/predict", json=requests,
            params={"environment": environment},
        )  # fmt: skip
        return [wire.decode(Prediction, p) for p in found]

    def log_events(self, model: str, events: list[dict[str, Any]] | bytes) -> Ingested:
        path = f"/v1/models/{wire.quote_part(model)}/events"
        found = self._data_call("POST", path, json=events, params={})
        return Ingested(int(found["received"]), int(found["new"]))

    def record_actuals(self, model: str, actuals: list[dict[str, Any]]) -> Ingested:
        path = f"/v1/models/{wire.quote_part(model)}/actuals"
        found = self._data_call("POST", path, json=actuals, params={})
        return Ingested(int(found["received"]), int(found["new"]))


_job_details = remote(Engine.job_details)


if TYPE_CHECKING:

    def _conforms(engine: RemoteEngine) -> Engine:
        """Holds `RemoteEngine` to the whole `Engine` protocol under the type checker."""
        return engine
