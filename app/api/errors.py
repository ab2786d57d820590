"""The engine's errors as HTTP answers: `{"error": kind, "detail": message}`.

The kind is the same `MlcError.kind` the CLI maps to an exit code, so the remote engine can
raise the very exception the local engine raised, with the same message.
"""

from __future__ import annotations

import math

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from core.auth import Unauthenticated
from core.errors import MlcError, Overloaded

STATUS = {
    "invalid": 400,
    "not_found": 404,
    "conflict": 409,
    "permission": 403,
    "too_large": 413,
    "overloaded": 503,
    "unavailable": 503,
    "integrity": 500,
    "failure": 500,
}

_KIND_BY_STATUS = {401: "unauthenticated", 403: "permission", 404: "not_found", 413: "too_large"}


def error_body(
    kind: str, detail: str, status: int, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps({"error": kind, "detail": detail}),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def with_status(error: MlcError, status: int) -> MlcError:
    """Answer this error with another status than its kind's (e.g. 422 for a bad upload)."""
    error.http_status = status  # type: ignore[attr-defined]
    return error


def mlc_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, MlcError)
    if isinstance(exc, Unauthenticated):
        return error_body(
            "unauthenticated", exc.message, 401, {"WWW-Authenticate": 'Bearer realm="mlc"'}
        )
    headers = None
    if isinstance(exc, Overloaded):
        headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after_s)))}
    status = getattr(exc, "http_status", None) or STATUS.get(exc.kind, 500)
    return error_body(exc.kind, exc.message, status, headers)


def validation_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        problems.append(f"{where}: {err.get('msg', 'invalid')}")
    return error_body("invalid", "; ".join(problems) or "invalid request", 422)


def http_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    kind = _KIND_BY_STATUS.get(exc.status_code, "invalid" if exc.status_code < 500 else "failure")
    return error_body(kind, str(exc.detail), exc.status_code, exc.headers)


def unexpected(_: Request, exc: Exception) -> Response:
    # Starlette still re-raises after answering, so the traceback reaches the server's log.
    if isinstance(exc, NotImplementedError):
        return error_body("failure", f"not implemented yet: {exc}", 501)
    return error_body("failure", f"internal error: {type(exc).__name__}: {exc}", 500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(MlcError, mlc_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
