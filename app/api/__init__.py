"""The HTTP API: a control API under `/api/v1` and the data plane under `/v1/models`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.api.factory import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    # On first use: the client imports `app.api.operations`, and must not pay for the server.
    if name == "create_app":
        from app.api.factory import create_app

        return create_app
    raise AttributeError(name)
