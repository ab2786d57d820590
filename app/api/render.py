"""Responses: domain objects rendered exactly as `mlc --json` renders them."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import Response

from core.jsonable import to_jsonable


def ok(data: Any, status_code: int = 200) -> Response:
    return Response(
        orjson.dumps(to_jsonable(data)), status_code=status_code, media_type="application/json"
    )


def doc(model: Any, status: int = 200) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of the body (routes return `Response`s: FastAPI can't infer it)."""
    return {status: {"model": model, "description": "OK" if status == 200 else "Created"}}
