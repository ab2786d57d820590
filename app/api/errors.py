"""The engine's errors as HTTP answers: `{"error": kind, "detail": message}`.

Each error type carries its kind and status (`storage.errors`); the kind is the one the CLI
reports, so the remote engine can raise the very exception the local engine raised, with the
same message. Only `Unauthenticated` names another kind on the wire, as HTTP tells a missing
token (401) from a refused one (403).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from core.errors import ERROR_TYPES, MlcError, Overloaded, Unauthenticated

_KIND_BY_STATUS = {cls.http_status: kind for kind, cls in reversed(ERROR_TYPES.items())}
"""The kind of a client error Starlette raised by status (404 for an unknown route …); the
most general type wins where types share a status."""


def error_body(
    kind: str, detail: str, status: int, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps({"error": kind, "detail": detail}),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def with_status(error: MlcError, status: int) -> MlcError:
    """Answer this error with another status than its type's (e.g. 422 for a bad upload)."""
    error.http_status = status
    return error


def mlc_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, MlcError)
    headers = None
    if isinstance(exc, Unauthenticated):
        headers = {"WWW-Authenticate": 'Bearer realm="mlc"'}
    elif isinstance(exc, Overloaded):
        headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after_s)))}
    return error_body(exc.answered_as(), exc.message, exc.http_status, headers)


def validation_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        problems.append(f"{where}: {err.get('msg', 'invalid')}")
    return error_body("invalid", "; ".join(problems) or "invalid request", 422)


def http_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    kind = "failure"
    if exc.status_code < 500:
        kind = _KIND_BY_STATUS.get(exc.status_code, "invalid")
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
