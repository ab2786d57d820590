"""The HTTP API: a control API under `/api/v1` and the data plane under `/v1/models`."""

from app.api.factory import create_app

__all__ = ["create_app"]
