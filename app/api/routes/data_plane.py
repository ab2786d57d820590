"""The data plane: `/v1/models/{name}/predict`, `/events` and `/actuals`.

Handlers are async so the body is read without a thread; the engine call, which blocks
until its events are committed, runs in the threadpool so the event loop never waits long.
A prediction that the engine can answer from memory within a few ms is the exception: it
runs on the loop (a batch only while no other prediction runs), as the hop to a worker
thread and back cost a lone one ~0.4 ms at p50 and up to 1.9 ms at p99 (measured), and
single-request throughput rose from ~190 to ~225/s.

These are plain Starlette routes, served ahead of the control API: FastAPI's per-request
resolution of parameters and dependencies cost a lone prediction ~0.2 ms (0.43 vs 0.17 ms
of framework per request, measured in process), a fifth of all the gateway adds. Each
handler authenticates itself (`engine_for`), and `OPENAPI_PATHS` documents them.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.routing import Route

from app.api.auth import engine_for
from app.api.body import objects, read_body, read_json
from core.domain import Ingested, Prediction, Role
from core.errors import InvalidInput, PayloadTooLarge

PREFIX = "/v1/models/{name}"
_REQUEST = {
    "type": "object",
    "description": "Send `features`, or an `entity` whose materialized features are fetched"
    " from the online store (explicit `features` win over fetched ones).",
    "properties": {
        "request_id": {"type": "string"},
        "unit_id": {"type": "string", "description": "Sticky traffic split key"},
        "features": {"type": "object"},
        "entity": {
            "description": "An entity id, or an object of its key columns",
            "oneOf": [{"type": "string"}, {"type": "integer"}, {"type": "object"}],
        },
    },
}
_PREDICT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"oneOf": [_REQUEST, {"type": "array", "items": _REQUEST}]}
            }
        },
    }
}
_EVENTS_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object"}}}},
    }
}
_ACTUALS_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["request_id", "actual"],
                        "properties": {"request_id": {"type": "string"}, "actual": {}},
                    },
                }
            }
        },
    }
}


def _json(data: Any) -> Response:
    return Response(orjson.dumps(data), media_type="application/json")


def _prediction(p: Prediction) -> dict[str, Any]:
    # By hand, not `to_jsonable`: ~13 µs an item through dataclass introspection, a batch
    # of 100 paid 1.3 ms. The engine already made `prediction` JSON-ready.
    out = {
        "request_id": p.request_id,
        "version": p.version,
        "prediction": p.prediction,
        "latency_ms": p.latency_ms,
    }
    if p.probabilities is not None:
        out["probabilities"] = p.probabilities
    if p.error is not None:  # only in a batch: its other items were answered
        out["error"] = p.error
    return out


async def predict(request: Request) -> Response:
    """One request object answers one prediction; a list answers a list, in order. An item
    whose version failed is answered `{request_id, version, error, latency_ms}` (its
    prediction null); a lone request that fails, or a batch none of whose items could be
    answered, gets 500 naming the version and the cause. Every item is logged either way."""
    engine = await engine_for(request, Role.VIEWER)
    name: str = request.path_params["name"]
    environment = request.query_params.get("environment", "production")
    body: Any = None
    try:
        body = await read_json(request)
        single = isinstance(body, dict)
        items = objects(request, [body] if single else body, "requests")
    except (InvalidInput, PayloadTooLarge) as e:  # the client's error, charged to no version
        asked = len(body) if isinstance(body, list) else 1
        await run_in_threadpool(engine.count_invalid, name, environment, asked, e)
        raise
    found = engine.predict_at_once(name, items, environment=environment)
    if found is None:
        found = await run_in_threadpool(engine.predict, name, items, environment=environment)
    answers = [_prediction(p) for p in found]
    return _json(answers[0] if single else answers)


async def log_events(request: Request) -> Response:
    """Log-only prediction events from an external server; answered once committed, with
    how many were received, new, and duplicates (a request id stored before, or earlier in
    the batch: stored once)."""
    engine = await engine_for(request, Role.OPERATOR)
    body = await read_body(request)
    if not body.lstrip().startswith(b"["):
        try:
            value = orjson.loads(body)
        except orjson.JSONDecodeError as e:
            raise InvalidInput(f"body is not valid JSON: {e}") from None
        objects(request, value, "events")  # not a list: refused with the usual message
    # The raw body goes to the engine, which parses it straight into columns.
    found = await run_in_threadpool(
        engine.log_posted_events,
        request.path_params["name"],
        body,
        max_items=request.app.state.max_batch,
    )
    return _ingested(found)


async def record_actuals(request: Request) -> Response:
    """Late labels by request id; a replayed batch adds nothing twice."""
    engine = await engine_for(request, Role.OPERATOR)
    items = objects(request, await read_json(request), "actuals")
    found = await run_in_threadpool(engine.record_actuals, request.path_params["name"], items)
    return _ingested(found)


def _ingested(found: Ingested) -> Response:
    return _json({"received": found.received, "new": found.new, "duplicates": found.duplicates})


Handler = Callable[[Request], Awaitable[Response]]
_ROUTES: list[tuple[str, Handler, Role, dict[str, Any], list[dict[str, Any]]]] = [
    ("/predict", predict, Role.VIEWER, _PREDICT_BODY, [{
        "name": "environment", "in": "query", "required": False,
        "schema": {"type": "string", "default": "production"},
    }]),
    ("/events", log_events, Role.OPERATOR, _EVENTS_BODY, []),
    ("/actuals", record_actuals, Role.OPERATOR, _ACTUALS_BODY, []),
]  # fmt: skip
"""Each handler asks `engine_for` for the role given here (the matrix test checks both)."""

routes = [Route(PREFIX + path, handler, methods=["POST"]) for path, handler, *_ in _ROUTES]


def _operation(
    path: str, handler: Handler, role: Role, body: dict[str, Any], query: list[dict[str, Any]]
) -> dict[str, Any]:
    """What FastAPI would document for `handler` had it resolved the parameters itself."""
    return {
        "tags": ["data plane"],
        "summary": handler.__name__.replace("_", " ").capitalize(),
        "description": (handler.__doc__ or "").strip(),
        "operationId": re.sub(r"\W", "_", handler.__name__ + PREFIX + path) + "_post",
        "security": [{"token": [role.value]}],
        "parameters": [
            {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}},
            *query,
        ],
        **body,
        "responses": {
            "200": {
                "description": "Successful Response",
                "content": {"application/json": {"schema": {}}},
            },
            "default": {
                "description": 'An error: `{"error": kind, "detail": message}`',
                "content": {"application/json": {"schema": {}}},
            },
        },
    }


OPENAPI_PATHS = {
    PREFIX + path: {"post": _operation(path, handler, role, body, query)}
    for path, handler, role, body, query in _ROUTES
}
