"""The project's exception hierarchy, each type carrying how the interfaces report it.

It lives on the bottom floor so that every layer can raise and catch the same types:
`storage` cannot import `core`, but `core` and `app` can import this. Each error type states
its `kind` (the word the CLI's `--json` and the API's body name it by), the CLI's `exit_code`
and the API's `http_status`: the interfaces read these and keep no table of their own, and
the remote client turns an answer's kind back into the type through `error_types`.
"""

from __future__ import annotations

from typing import ClassVar


class MlcError(Exception):
    """Base of every error mlc reports to a person; the message is one clear line."""

    kind: ClassVar[str] = "failure"
    exit_code: ClassVar[int] = 1
    http_status: int = 500
    """The type's status; one error may answer with another (the API's `with_status`)."""
    wire_kind: ClassVar[str | None] = None
    """The kind an HTTP answer names, when it differs from `kind` (see `Unauthenticated`)."""

    def __init__(self, message: str, *, detail: object | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    @classmethod
    def answered_as(cls) -> str:
        """The kind an HTTP error body names for this type."""
        return cls.wire_kind or cls.kind


class InvalidInput(MlcError):
    """The request itself is wrong: a bad name, value or file."""

    kind = "invalid"
    exit_code = 2
    http_status = 400


class NotFound(MlcError):
    kind = "not_found"
    exit_code = 3
    http_status = 404


class Conflict(MlcError):
    """The request is valid but the current state forbids it (exists, illegal transition, …)."""

    kind = "conflict"
    exit_code = 4
    http_status = 409


class PermissionDenied(MlcError):
    kind = "permission"
    exit_code = 5
    http_status = 403


class StoreUnavailable(MlcError):
    """The store cannot be opened now, typically because another process owns it."""

    kind = "unavailable"
    http_status = 503


class IntegrityError(MlcError):
    """Stored data failed a check: a checksum, an audit hash, an untrusted artifact type."""

    kind = "integrity"


class StoreError(MlcError):
    """An unexpected database failure, wrapped so `duckdb.Error` never escapes storage."""


class Overloaded(StoreUnavailable):
    """The writer is behind: try again shortly (HTTP 503 with Retry-After)."""

    kind = "overloaded"

    def __init__(self, message: str, *, retry_after_s: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class PayloadTooLarge(InvalidInput):
    """A body or batch over the configured limit (HTTP 413)."""

    kind = "too_large"
    http_status = 413


def error_types(*roots: type[MlcError]) -> dict[str, type[MlcError]]:
    """{kind an HTTP answer names: the most general type that answers with it}, over `roots`
    and every subclass defined so far (so a subclass that only refines, as
    `IllegalTransition` does `Conflict`, maps back to its parent, as its kind says)."""
    found: dict[str, type[MlcError]] = {}
    todo = list(roots or (MlcError,))
    while todo:
        cls = todo.pop(0)  # breadth first: parents before their subclasses
        found.setdefault(cls.answered_as(), cls)
        todo.extend(cls.__subclasses__())
    return found
