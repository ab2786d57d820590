"""The control API's routes, built from the operation table (`app/api/operations.py`).

Each route's handler is made to look to FastAPI as the hand-written one did: its name (the
operationId and summary), its parameters (the path's placeholders, the query's with the
engine method's types and defaults, the body model, the role's dependency) and its status,
so the OpenAPI schema and every answer are what they were. The handler calls the engine
method with its arguments by name and renders the result as `mlc --json` does.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from app.api import schemas
from app.api.auth import Admin, Operator, Viewer
from app.api.operations import OPERATIONS, Op
from app.api.render import doc, ok
from app.api.routes.custom import HANDLERS
from core.domain import Role
from core.engine import Engine

_ENGINE = {Role.VIEWER: Viewer, Role.OPERATOR: Operator, Role.ADMIN: Admin}
_KW = inspect.Parameter.KEYWORD_ONLY


def router() -> APIRouter:
    """Every operation of the table, in its order."""
    found = APIRouter()
    for op in OPERATIONS:
        found.add_api_route(
            op.path,
            HANDLERS[op.name] if op.custom else _handler(op),
            methods=[op.verb],
            name=op.route or op.name,
            description=op.text,
            status_code=None if op.status == 200 else op.status,
            response_model=None,
            responses=doc(getattr(schemas, op.doc), op.status) if op.doc else None,
            tags=[op.tag],
        )
    return found


def placeholders(path: str) -> list[str]:
    return re.findall(r"\{(\w+)\}", path)


def _handler(op: Op) -> Callable[..., Response]:
    method = getattr(Engine, op.name)
    engine_params = inspect.signature(method).parameters
    hints = typing.get_type_hints(method) if op.query else {}
    params = [inspect.Parameter(p, _KW, annotation=str) for p in placeholders(op.path)]
    if op.body is not None:
        params.append(inspect.Parameter("body", _KW, annotation=getattr(schemas, op.body)))
    params.append(inspect.Parameter("engine", _KW, annotation=_ENGINE[op.role]))
    for name in op.query:
        extra = op.params.get(name)
        kind = extra.type if extra is not None and extra.type is not None else hints[name]
        if extra is not None and (extra.description is not None or extra.ge is not None):
            kind = Annotated[kind, Query(description=extra.description, ge=extra.ge)]
        default = engine_params[name].default
        params.append(inspect.Parameter(name, _KW, annotation=kind, default=default))

    def handle(**given: Any) -> Response:
        engine, body = given.pop("engine"), given.pop("body", None)
        args = {op.arg(k): v for k, v in given.items()}
        if op.body_arg is not None:
            args[op.body_arg] = body
        elif body is not None:
            args.update({op.arg(f): getattr(body, f) for f in type(body).model_fields})
        args.update(op.fixed)
        for name, convert in op.convert.items():
            args[name] = convert(args[name])
        result = getattr(engine, op.name)(**args)
        if op.render is not None:
            return ok(op.render(result, args), op.status)
        return ok(result if op.key is None else {op.key: result}, op.status)

    handle.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    handle.__name__ = op.route or op.name
    return handle
