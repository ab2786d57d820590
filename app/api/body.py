"""Reading data-plane bodies: declared JSON, raw bytes under a size limit, parsed once with
orjson.

No per-event pydantic model here: validating each event as an object halves ingest
throughput (DESIGN.md, measured); the engine checks events against the model's schema.
A body must say it is JSON (`Content-Type: application/json`): a browser sends a cross-site
request without asking only with a form's or `text/plain` type, or none, so this keeps web
pages from posting events (see `app.api.guard`), and costs a header lookup.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request

from app.api.errors import with_status
from core.errors import InvalidInput, PayloadTooLarge

DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
DEFAULT_MAX_BATCH = 10_000


async def read_json(request: Request) -> Any:
    try:
        return orjson.loads(await read_body(request))
    except orjson.JSONDecodeError as e:
        raise InvalidInput(f"body is not valid JSON: {e}") from None


def is_json(content_type: str | None) -> bool:
    """`application/json` (parameters such as a charset allowed) or `application/…+json`."""
    if content_type is None:
        return False
    media = content_type.partition(";")[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


async def read_body(request: Request) -> bytes:
    """The raw body, refused with 415 unless declared JSON, with 413 past the size limit and
    with 400 when empty."""
    content_type = request.headers.get("content-type")
    if not is_json(content_type):
        raise with_status(
            InvalidInput(
                f"the body must be JSON sent as Content-Type: application/json, not"
                f" {content_type or 'no content type'}"
            ),
            415,
        )
    limit: int = request.app.state.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body of {int(declared):,} bytes is over the {limit:,}-byte limit")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():  # chunked bodies have no length to check up front
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"body is over the {limit:,}-byte limit")
        chunks.append(chunk)
    if size == 0:
        raise InvalidInput("empty body: expected JSON")
    return b"".join(chunks)


def objects(request: Request, value: Any, what: str) -> list[dict[str, Any]]:
    """`value` as a non-empty list of JSON objects, at most the batch limit long."""
    if not isinstance(value, list):
        raise InvalidInput(f"expected a JSON list of {what}")
    limit: int = request.app.state.max_batch
    if len(value) > limit:
        raise PayloadTooLarge(f"batch of {len(value):,} {what} is over the limit of {limit:,}")
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise InvalidInput(f"{what} item {i} is not a JSON object")
    return value
