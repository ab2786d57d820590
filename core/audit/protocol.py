"""The audit log's operations of the engine (`core.engine.Engine`)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from core.domain import AuditHead, AuditRecord, AuditVerification


class Audit(Protocol):
    """Read and verify the hash-chained audit log."""

    def list_audit(
        self,
        *,
        model: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[AuditRecord]: ...

    def verify_audit(self, *, head: AuditHead | None = None) -> AuditVerification:
        """Check the chain, the key and `audit.head`, and that the log still leads through
        `head` (one taken earlier with `audit_head`, e.g. kept off the host)."""
        ...

    def audit_head(self) -> AuditHead:
        """The newest audit record's (seq, hash), to anchor off the host."""
        ...
