"""The audit log: every mutating action appends a record chained to the previous one and sealed
with a key that lives outside the database.

`hash = HMAC-SHA256(key, prev_hash + canonical(seq, at, actor, action, target, model, before,
after, reason))`, the key being `audit.key` in the store directory (32 random bytes, 0600, never
logged, stored in the database or served by the API). After each commit that appends, the
newest (sequence, hash) is written to `audit.head` beside it (`storage.audit_seal`). `verify`
walks the chain and names the first sequence that does not hold, then checks that the log still
reaches the head: a log that ends before it was "truncated after N".

What it detects, and against whom:
- Someone who can change the database but cannot read the key nor write the store's files (SQL
  through a DuckDB shell on the file, an injected statement, a restored copy): an edited, deleted
  or reordered record breaks the chain from that record on, and re-chaining does not help
  without the key (a recomputed unkeyed hash is named as such); deleting the newest records
  leaves the log short of `audit.head`.
- Someone who can also write the store directory (the same Unix user, root) can replace the key
  and the head and re-seal everything. Only a head kept off the host covers that: `mlc audit
  head` prints `SEQ:HASH`, and `mlc audit verify --head SEQ:HASH` checks that the log still
  leads through that record, unchanged.

Stores from before keyed sealing: their records keep the unkeyed chain (`sha256(prev_hash +
canonical(...))`), checked as before. The first open by this mlc creates the key, and the keyed
chain begins at the next record (`keyed_from`, kept in `audit.head` and `audit_keys`, and
reported by `verify`). The first keyed record's hash covers the last unkeyed one's, so
re-chaining the old records is caught there (or by `audit.head` while none follows).

A lost key: records sealed with it can no longer be checked, and `verify` fails naming them,
for good. The store does not stop: at open a new key seals the records from the next one on
(`audit_keys` says when and why), so a deleted `audit.key` never blocks a rollback.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.clock import as_utc, utcnow
from core.domain import AuditHead, AuditRecord, AuditVerification
from core.errors import IntegrityError, InvalidInput, StoreError
from core.jsonable import canonical_json, loads_or_none, to_jsonable
from storage.audit_seal import GENESIS, AuditSeal, key_id
from storage.conn import Conn
from storage.paths import AUDIT_HEAD_FILE, AUDIT_KEY_FILE
from storage.repos import audit as repo

__all__ = ["GENESIS", "append", "head", "parse_head", "query", "verify", "verify_all"]

HEAD_SOURCE = AUDIT_HEAD_FILE
GIVEN_SOURCE = "the given head"
_HEAD_TEXT = re.compile(r"^(\d{1,18}):([0-9a-f]{64})$")


@dataclass(frozen=True)
class KeyEpoch:
    """Records from `keyed_from` on (to the next epoch's) are sealed with key `key_id`."""

    keyed_from: int
    key_id: str
    reason: str


def _digest(prev_hash: str, fields: dict[str, Any]) -> str:
    """The unkeyed chain of stores from before keyed sealing."""
    return hashlib.sha256((prev_hash + canonical_json(fields)).encode()).hexdigest()


def _mac(key: bytes, prev_hash: str, fields: dict[str, Any]) -> str:
    return hmac.new(key, (prev_hash + canonical_json(fields)).encode(), hashlib.sha256).hexdigest()


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


def _seal(conn: Conn) -> AuditSeal:
    if conn.seal is None:
        raise StoreError("this cursor is not an open store's: its audit records cannot be sealed")
    return conn.seal


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
    """Append one record inside the caller's write transaction (so it commits with the change);
    `audit.head` names it once that transaction commits."""
    seal = _seal(conn)
    at = at or utcnow()
    prev = repo.last(conn) or (0, GENESIS)
    seq, prev_hash = prev[0] + 1, prev[1]
    fields = _hashed_fields(seq, at, actor, action, target, model_id, before, after, reason)
    digest = _mac(seal.key, prev_hash, fields)
    row = {
        **fields,
        "at": at,
        "before": None if before is None else canonical_json(before),
        "after": None if after is None else canonical_json(after),
        "prev_hash": prev_hash,
        "hash": digest,
    }
    repo.insert(conn, row)
    seal.appended(conn, prev, (seq, digest))
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


def verify(
    records: Iterable[AuditRecord],
    *,
    key: bytes | None,
    epochs: Sequence[KeyEpoch],
    keyed_from: int,
    heads: Sequence[tuple[str, AuditHead]] = (),
    key_problem: str | None = None,
) -> AuditVerification:
    """Walk the chain from the first record and report the first sequence that does not hold;
    then check that the log reaches each of `heads` ((source, head): `audit.head`, or one
    anchored off the host) with the hash it names.

    Records before `keyed_from` are checked by the unkeyed chain, the others by HMAC with `key`,
    which must be the key of their epoch. `key` None: the key file is missing (`key_problem`
    says otherwise, e.g. damaged).
    """
    current = key_id(key) if key is not None else None
    wanted = {h.seq for _, h in heads}
    found = {0: GENESIS}
    prev_hash, expected, checked = GENESIS, 1, 0
    newest: AuditHead | None = None

    def broken(seq: int | None, problem: str, truncated_after: int | None = None) -> AuditVerification:  # fmt: skip
        return AuditVerification(False, checked, seq, problem, truncated_after, keyed_from, newest)

    for rec in records:
        if rec.seq != expected:
            return broken(expected, f"record {expected} is missing (next is {rec.seq})")
        if rec.prev_hash != prev_hash:
            return broken(rec.seq, f"record {rec.seq} does not link to record {rec.seq - 1}")
        fields = _hashed_fields(
            rec.seq, rec.at, rec.actor, rec.action, rec.target, rec.model_id,
            rec.before, rec.after, rec.reason,
        )  # fmt: skip
        if rec.seq < keyed_from:
            if _digest(prev_hash, fields) != rec.hash:
                return broken(rec.seq, f"record {rec.seq} was altered (its hash does not match)")
        else:
            if key is None:
                missing = key_problem or f"the audit key is missing ({AUDIT_KEY_FILE})"
                return broken(rec.seq, f"{missing}: records from {rec.seq} on cannot be checked")
            lost = _lost_key(epochs, rec.seq, current)
            if lost is not None:
                return broken(rec.seq, lost)
            if _mac(key, prev_hash, fields) != rec.hash:
                if _digest(prev_hash, fields) == rec.hash:
                    return broken(
                        rec.seq,
                        f"record {rec.seq} carries an unkeyed hash: the chain was recomputed"
                        " without the audit key",
                    )
                return broken(rec.seq, f"record {rec.seq} was altered (its hash does not match)")
        if rec.seq in wanted:
            found[rec.seq] = rec.hash
        prev_hash = rec.hash
        newest = AuditHead(rec.seq, rec.hash, rec.at)
        expected += 1
        checked += 1
    last = expected - 1
    for source, h in heads:
        if h.seq > last:
            return broken(last + 1, f"truncated after {last}: {source} names record {h.seq}", last)
        if found[h.seq] != h.hash:
            return broken(
                h.seq,
                f"record {h.seq} is not the one {source} names: the log was rewritten at or"
                " before it",
            )
    return AuditVerification(True, checked, None, None, None, keyed_from, newest)


def _lost_key(epochs: Sequence[KeyEpoch], seq: int, current: str | None) -> str | None:
    """Why the key that sealed `seq` is not the one on disk, or None when it is."""
    mine = [i for i, e in enumerate(epochs) if e.keyed_from <= seq]
    if not mine:
        return f"record {seq} is sealed by no key the store knows of (audit_keys was altered)"
    i = mine[-1]
    if epochs[i].key_id == current:
        return None
    start = epochs[i].keyed_from
    if i + 1 < len(epochs):
        nxt = epochs[i + 1]
        return (
            f"the audit key is missing for records {start}–{nxt.keyed_from - 1} ({nxt.reason});"
            f" a new key seals records from {nxt.keyed_from} on"
        )
    return f"the audit key is missing for records from {start} on: {AUDIT_KEY_FILE} is another key"


def verify_all(conn: Conn, *, anchor: AuditHead | None = None) -> AuditVerification:
    """Verify the store's whole log against its key, `audit.head` and `anchor` (a head taken
    earlier, e.g. kept off the host)."""
    seal = _seal(conn)
    # The head before the records: it is written after each commit, so read first it can only
    # name a record the later snapshot holds; read after, it could name one committed since.
    on_disk, head_problem = seal.read_head()
    key_problem = None
    try:
        key = seal.read_key()
    except IntegrityError as e:
        key, key_problem = None, e.message
    epochs = [
        KeyEpoch(int(e["keyed_from"]), str(e["key_id"]), str(e["reason"]))
        for e in repo.key_epochs(conn)
    ]
    rows = repo.all_in_order(conn)
    keyed_from = on_disk.keyed_from if on_disk is not None else seal.keyed_from
    if epochs and on_disk is not None and epochs[0].keyed_from != on_disk.keyed_from:
        return AuditVerification(
            False, 0, min(epochs[0].keyed_from, on_disk.keyed_from),
            f"the keyed chain begins at record {on_disk.keyed_from} by {AUDIT_HEAD_FILE} but at"
            f" record {epochs[0].keyed_from} by the database (audit_keys was altered)",
            keyed_from=keyed_from,
        )  # fmt: skip
    heads: list[tuple[str, AuditHead]] = []
    if on_disk is not None:
        heads.append((HEAD_SOURCE, AuditHead(on_disk.seq, on_disk.hash)))
    if anchor is not None:
        heads.append((GIVEN_SOURCE, anchor))
    result = verify(
        (record_from_row(r) for r in rows),
        key=key, epochs=epochs, keyed_from=keyed_from, heads=heads, key_problem=key_problem,
    )  # fmt: skip
    if result.ok and head_problem is not None:
        return AuditVerification(
            False, result.checked, None,
            f"{head_problem}: truncation cannot be ruled out (the next change writes it again)",
            keyed_from=keyed_from, head=result.head,
        )  # fmt: skip
    return result


def head(conn: Conn) -> AuditHead:
    """The newest record's (seq, hash): sequence 0 and the genesis hash for an empty log."""
    row = repo.newest(conn)
    if row is None:
        return AuditHead(0, GENESIS)
    return AuditHead(int(row["seq"]), str(row["hash"]), as_utc(row["at"]))


def parse_head(text: str) -> AuditHead:
    """`SEQ:HASH` as `mlc audit head` prints it."""
    m = _HEAD_TEXT.match(text.strip().lower())
    if m is None:
        raise InvalidInput(
            f"a head is SEQ:HASH as `mlc audit head` prints it (a sequence number, a colon and"
            f" 64 hex digits), not {text[:80]!r}"
        )
    return AuditHead(int(m.group(1)), m.group(2))


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
