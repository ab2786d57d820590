"""What an attacker with write access to the database does to the audit log, written from the
documented algorithm (not from `core.audit`): delete the newest rows, edit a row and recompute
the chain from it, with some key or with the unkeyed sha256 of stores from before keys."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from storage.store import Store

Hasher = Callable[[str, str], str]
"""(prev_hash, canonical fields) → hash."""


def unkeyed(prev_hash: str, canonical: str) -> str:
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def keyed_with(key: bytes) -> Hasher:
    def digest(prev_hash: str, canonical: str) -> str:
        return hmac.new(key, (prev_hash + canonical).encode(), hashlib.sha256).hexdigest()

    return digest


def canonical(row: dict[str, Any]) -> str:
    at = row["at"]
    at = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC)
    fields = {
        "seq": row["seq"],
        "at": at.isoformat(),
        "actor": row["actor"],
        "action": row["action"],
        "target": row["target"],
        "model_id": row["model_id"],
        "before": None if row["before"] is None else json.loads(row["before"]),
        "after": None if row["after"] is None else json.loads(row["after"]),
        "reason": row["reason"],
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


_SELECT = (
    "SELECT seq, recorded_at AS at, actor, action, target, model_id, before, after, reason,"
    " prev_hash, hash FROM audit_log"
)


def delete_newest(store: Store, n: int) -> None:
    with store.write() as conn:
        conn.execute("DELETE FROM audit_log WHERE seq > (SELECT max(seq) FROM audit_log) - ?", [n])


def rechain(
    store: Store,
    seq: int,
    hasher: Hasher,
    *,
    through: int | None = None,
    reason: str = "nothing to see",
) -> None:
    """Edit record `seq`'s reason, then recompute `prev_hash` and `hash` from it to the end
    (or to `through`)."""
    last = 2**62 if through is None else through
    with store.write() as conn:
        conn.execute("UPDATE audit_log SET reason = ? WHERE seq = ?", [reason, seq])
        rows = conn.rows(f"{_SELECT} WHERE seq BETWEEN ? AND ? ORDER BY seq", [seq - 1, last])
        prev_hash = rows[0]["hash"] if rows[0]["seq"] == seq - 1 else "0" * 64
        for row in rows:
            if row["seq"] < seq:
                continue
            digest = hasher(prev_hash, canonical(row))
            conn.execute(
                "UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?",
                [prev_hash, digest, row["seq"]],
            )
            prev_hash = digest


def legacy_rows(n: int, *, start: datetime) -> list[dict[str, Any]]:
    """`n` records as an mlc from before keyed sealing wrote them (unkeyed sha256 chain)."""
    rows, prev_hash = [], "0" * 64
    for seq in range(1, n + 1):
        row = {
            "seq": seq, "at": start.replace(second=seq), "actor": "local:old",
            "action": "model.create", "target": f"m{seq}", "model_id": f"m{seq}",
            "before": None, "after": json.dumps({"task": "classification"}), "reason": "",
        }  # fmt: skip
        row["prev_hash"] = prev_hash
        row["hash"] = prev_hash = unkeyed(prev_hash, canonical(row))
        rows.append(row)
    return rows
