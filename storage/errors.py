"""The project's exception hierarchy.

It lives on the bottom floor so that every layer can raise and catch the same types:
`storage` cannot import `core`, but `core` and `app` can import this. Each error has a
`kind` that the interfaces map to an exit code (CLI) or an HTTP status (API).
"""

from __future__ import annotations

from typing import ClassVar


class MlcError(Exception):
    """Base of every error mlc reports to a person; the message is one clear line."""

    kind: ClassVar[str] = "failure"

    def __init__(self, message: str, *, detail: object | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class InvalidInput(MlcError):
    """The request itself is wrong: a bad name, value or file."""

    kind = "invalid"


class NotFound(MlcError):
    kind = "not_found"


class Conflict(MlcError):
    """The request is valid but the current state forbids it (exists, illegal transition, …)."""

    kind = "conflict"


class PermissionDenied(MlcError):
    kind = "permission"


class StoreUnavailable(MlcError):
    """The store cannot be opened now, typically because another process owns it."""

    kind = "unavailable"


class IntegrityError(MlcError):
    """Stored data failed a check: a checksum, an audit hash, an untrusted artifact type."""

    kind = "integrity"


class StoreError(MlcError):
    """An unexpected database failure, wrapped so `duckdb.Error` never escapes storage."""

    kind = "failure"


class Overloaded(StoreUnavailable):
    """The writer is behind: try again shortly (HTTP 503 with Retry-After)."""

    kind = "overloaded"

    def __init__(self, message: str, *, retry_after_s: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class PayloadTooLarge(InvalidInput):
    """A body or batch over the configured limit (HTTP 413)."""

    kind = "too_large"
