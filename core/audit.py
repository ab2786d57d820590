"""The audit log: every mutating action appends a record hash-chained to the previous one.

`hash = sha256(prev_hash + canonical(seq, at, actor, action, target, model, before, after,
reason))`, so editing, deleting or reordering any row breaks the chain from that row on, and
`verify` names the first sequence number where it breaks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from core.clock import as_utc, utcnow
from core.domain import AuditRecord, AuditVerification
from core.jsonable import canonical_json, loads_or_none, to_jsonable
from storage.conn import Conn
from storage.repos import audit as repo

GENESIS = "0" * 64


def _digest(prev_hash: str, fields: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical_json(fields)).encode()).hexdigest()


def _hashed_fields(
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    target: str,
    model_id: str | None,
    before: Any,
    after: Any,
    reason: str,
) -> dict[str, Any]:
    return {
        "seq": seq,
        "at": as_utc(at).isoformat(),
        "actor": actor,
        "action": action,
        "target": target,
        "model_id": model_id,
        "before": to_jsonable(before),
        "after": to_jsonable(after),
        "reason": reason,
    }


def append(
    conn: Conn,
    *,
    actor: str,
    action: str,
    target: str,
    model_id: str | None = None,
    before: Any = None,
    after: Any = None,
    reason: str = "",
    at: datetime | None = None,
) -> AuditRecord:
    """Append one record inside the caller's write transaction (so it commits with the change)."""
    at = at or utcnow()
    prev = repo.last(conn)
    seq, prev_hash = (prev[0] + 1, prev[1]) if prev else (1, GENESIS)
    fields = _hashed_fields(seq, at, actor, action, target, model_id, before, after, reason)
    digest = _digest(prev_hash, fields)
    row = {
        **fields,
        "at": at,
        "before": None if before is None else canonical_json(before),
        "after": None if after is None else canonical_json(after),
        "prev_hash": prev_hash,
        "hash": digest,
    }
    repo.insert(conn, row)
    return record_from_row(row)


def record_from_row(row: dict[str, Any]) -> AuditRecord:
    def parsed(v: Any) -> Any:
        return loads_or_none(v) if isinstance(v, str) else v

    return AuditRecord(
        seq=int(row["seq"]),
        at=as_utc(row["at"]),
        actor=row["actor"],
        action=row["action"],
        target=row["target"],
        model_id=row["model_id"],
        before=parsed(row["before"]),
        after=parsed(row["after"]),
        reason=row["reason"],
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


def verify(records: Iterable[AuditRecord]) -> AuditVerification:
    """Walk the chain from the first record; report the first sequence that does not hold."""
    prev_hash = GENESIS
    expected_seq = 1
    checked = 0
    for rec in records:
        if rec.seq != expected_seq:
            return AuditVerification(
                False,
                checked,
                expected_seq,
                f"record {expected_seq} is missing (next is {rec.seq})",
            )
        if rec.prev_hash != prev_hash:
            return AuditVerification(
                False, checked, rec.seq, f"record {rec.seq} does not link to record {rec.seq - 1}"
            )
        fields = _hashed_fields(
            rec.seq, rec.at, rec.actor, rec.action, rec.target, rec.model_id,
            rec.before, rec.after, rec.reason,
        )  # fmt: skip
        if _digest(prev_hash, fields) != rec.hash:
            return AuditVerification(
                False, checked, rec.seq, f"record {rec.seq} was altered (its hash does not match)"
            )
        prev_hash = rec.hash
        expected_seq += 1
        checked += 1
    return AuditVerification(True, checked)


def query(
    conn: Conn,
    *,
    model_id: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    limit: int | None = None,
) -> list[AuditRecord]:
    rows = repo.query(conn, model_id=model_id, action=action, since=since, limit=limit)
    return [record_from_row(r) for r in rows]


def verify_all(conn: Conn) -> AuditVerification:
    return verify(record_from_row(r) for r in repo.all_in_order(conn))
