"""`LocalEngine`'s audit operations (`core.audit.protocol.Audit`), in this process."""

from __future__ import annotations

from datetime import datetime

from core.audit import chain as audit
from core.domain import AuditHead, AuditRecord, AuditVerification
from storage.store import Store


class LocalAudit:
    """Reads of the audit log, each in one read transaction of the store."""

    store: Store

    def list_audit(
        self,
        *,
        model: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[AuditRecord]:
        with self.store.read() as conn:
            return audit.query(conn, model_id=model, action=action, since=since, limit=limit)

    def verify_audit(self, *, head: AuditHead | None = None) -> AuditVerification:
        with self.store.read() as conn:
            return audit.verify_all(conn, anchor=head)

    def audit_head(self) -> AuditHead:
        with self.store.read() as conn:
            return audit.head(conn)
