"""Errors raised by the engine. The hierarchy is defined in `storage.errors` (the bottom floor)
and re-exported here so interface code imports errors from `core`."""

from __future__ import annotations

from storage.errors import (
    Conflict,
    IntegrityError,
    InvalidInput,
    MlcError,
    NotFound,
    Overloaded,
    PayloadTooLarge,
    PermissionDenied,
    StoreError,
    StoreUnavailable,
    error_types,
)


class IllegalTransition(Conflict):
    """A state machine (version status, job, test, alert) refused a move."""


class Unauthenticated(PermissionDenied):
    """No usable credentials (missing, unknown or revoked token): HTTP 401, exit code 5."""

    wire_kind = "unauthenticated"
    http_status = 401


ERROR_TYPES: dict[str, type[MlcError]] = error_types()
"""{kind an HTTP error body names: the type to raise}, every type above included."""

__all__ = [
    "ERROR_TYPES",
    "Conflict",
    "IllegalTransition",
    "IntegrityError",
    "InvalidInput",
    "MlcError",
    "NotFound",
    "Overloaded",
    "PayloadTooLarge",
    "PermissionDenied",
    "StoreError",
    "StoreUnavailable",
    "Unauthenticated",
]
