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
)


class IllegalTransition(Conflict):
    """A state machine (version status, job, test, alert) refused a move."""


class Unauthenticated(PermissionDenied):
    """No usable credentials (missing, unknown or revoked token): HTTP 401, exit code 5."""


__all__ = [
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
