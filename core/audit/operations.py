"""The audit log's operations of the engine (`core.engine.Engine`). Each is declared here once,
with its in-process body (see `core/engine.py`)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from core.audit import chain as audit
from core.domain import AuditHead, AuditRecord, AuditVerification
from core.forward import in_process
from storage.store import Store


class _Parts(Protocol):
    """What these operations use of the `LocalEngine` they run on."""

    store: Store


class Audit(Protocol):
    """Read and verify the hash-chained audit log."""

    def list_audit(
        self,
        *,
        model: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[AuditRecord]:
        parts = in_process(self, _Parts)
        with parts.store.read() as conn:
            return audit.query(conn, model_id=model, action=action, since=since, limit=limit)

    def verify_audit(self, *, head: AuditHead | None = None) -> AuditVerification:
        """Check the chain, the key and `audit.head`, and that the log still leads through
        `head` (one taken earlier with `audit_head`, e.g. kept off the host)."""
        parts = in_process(self, _Parts)
        with parts.store.read() as conn:
            return audit.verify_all(conn, anchor=head)

    def audit_head(self) -> AuditHead:
        """The newest audit record's (seq, hash), to anchor off the host."""
        parts = in_process(self, _Parts)
        with parts.store.read() as conn:
            return audit.head(conn)
