"""What seals the audit log from outside its table: the key and the head, two files beside
the database.

- `audit.key`: 32 random bytes (0600), created with the store (or at the first open by an mlc
  that seals: see `core.audit`). `core.audit` signs the chain with it; it is never logged,
  stored in the database or served. `audit_keys` rows name it by `key_id` only.
- `audit.head`: `{"seq", "hash", "keyed_from"}` of the newest record, rewritten (write aside,
  fsync, rename) after each commit that appended one. Someone who deletes the newest rows
  through SQL cannot make it forget them. It is written after the commit, so a crash between
  the two leaves it one transaction behind the table, never ahead: a head behind the table is
  consistent, a table behind the head is truncation. It never moves back or sideways: once the
  table no longer holds the record it names, it stays as it is, so verify keeps reporting it.
  `keyed_from` (where the keyed chain begins) is read from here, not from the database, so
  keyed records cannot be passed off as unkeyed ones by editing a table.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from storage.conn import Conn
from storage.errors import IntegrityError, StoreUnavailable
from storage.paths import AUDIT_HEAD_FILE, AUDIT_KEY_FILE
from storage.repos import audit as repo

log = logging.getLogger(__name__)

KEY_BYTES = 32
GENESIS = "0" * 64
"""The `prev_hash` of record 1, and the hash of the head of an empty log (sequence 0)."""

FIRST_KEY = "the store's first audit key"


@dataclass(frozen=True)
class SealedHead:
    seq: int
    hash: str
    keyed_from: int


def key_id(key: bytes) -> str:
    """A name for a key that reveals nothing of it."""
    return hashlib.sha256(b"mlc audit key id\0" + key).hexdigest()[:16]


class AuditSeal:
    """The audit key and head of one open store (`Store.audit_seal`, and `Conn.seal`)."""

    def __init__(self, home: Path, key: bytes, head: SealedHead | None, keyed_from: int) -> None:
        self.home = home
        self._key = key
        self._head = head
        self.keyed_from = keyed_from
        """The first record sealed with a key; before it, the unkeyed chain of an older mlc."""
        self._lock = threading.Lock()
        self._stuck_reported = False

    @property
    def key_path(self) -> Path:
        return self.home / AUDIT_KEY_FILE

    @property
    def head_path(self) -> Path:
        return self.home / AUDIT_HEAD_FILE

    @property
    def key(self) -> bytes:
        """The key records are sealed with (read at open)."""
        return self._key

    @classmethod
    def open(cls, home: Path, conn: Conn) -> AuditSeal:
        """Load (or create) the key and head of the store in `home`, after its migrations, with
        the write lock held and no transaction open.

        A missing key is created: for a new store, and for one whose records were written by an
        mlc without keys (the keyed chain starts at the next record). If records were already
        sealed with a key that is now missing, or `audit.key` is another key, the new key seals
        from the next record on and a warning says which records can no longer be checked.
        """
        key_path, head_path = home / AUDIT_KEY_FILE, home / AUDIT_HEAD_FILE
        key = _read_key(key_path)
        head, _ = read_head(head_path)
        epochs = repo.key_epochs(conn)
        last = repo.last(conn)
        last_seq, last_hash = last if last else (0, GENESIS)
        created = key is None
        if key is None:
            key = _create_key(key_path)
        ident, now = key_id(key), datetime.now(UTC)
        conn.execute("BEGIN TRANSACTION")
        try:
            if not epochs:
                # A new store, or one from before keyed sealing (its head file, if any, keeps
                # where the keyed chain began should the table have lost its row).
                start = head.keyed_from if head is not None else last_seq + 1
                reason = FIRST_KEY if start == 1 else (
                    f"records 1–{start - 1} were written by an mlc without an audit key:"
                    " they keep their unkeyed chain"
                )  # fmt: skip
                repo.add_key_epoch(conn, start, ident, now, reason)
            elif epochs[-1]["key_id"] != ident:
                _replace_key(conn, home, epochs[-1], last_seq, ident, now, created=created)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        keyed_from = (
            head.keyed_from if head is not None else int(repo.key_epochs(conn)[0]["keyed_from"])
        )
        if head is None and not epochs:
            head = SealedHead(last_seq, last_hash, keyed_from)
            _write_head(head_path, head)
        return cls(home, key, head, keyed_from)

    def read_key(self) -> bytes | None:
        """The key as it is on disk now (None when missing); IntegrityError when damaged."""
        try:
            return _read_key(self.key_path)
        except StoreUnavailable as e:
            raise IntegrityError(e.message) from e

    def read_head(self) -> tuple[SealedHead | None, str | None]:
        """The head as it is on disk now, or None and why."""
        return read_head(self.head_path)

    def appended(self, conn: Conn, prev: tuple[int, str], new: tuple[int, str]) -> None:
        """Record `new` (seq, hash), appended after `prev` in `conn`'s open transaction, as the
        head once the transaction commits, if the table still holds the record the head names."""
        if not self._continues(conn, prev):
            if not self._stuck_reported:
                self._stuck_reported = True
                log.error(
                    "the audit log no longer holds the record %s names (%s): it is left as it"
                    " is, and `mlc audit verify` reports it",
                    self.head_path, self._head and self._head.seq,
                )  # fmt: skip
            return
        conn.committed.append(lambda: self._advance(*new))

    def _continues(self, conn: Conn, prev: tuple[int, str]) -> bool:
        head = self._head
        if head is None or head.seq == 0:
            return True
        if prev[0] == head.seq:
            return prev[1] == head.hash
        if prev[0] < head.seq:
            return False
        # The file lags (a crash after a commit, or an append of this same transaction).
        return repo.hash_at(conn, head.seq) == head.hash

    def _advance(self, seq: int, digest: str) -> None:
        with self._lock:
            if self._head is not None and seq <= self._head.seq:
                return  # a later commit's head is already written
            head = SealedHead(seq, digest, self.keyed_from)
            try:
                _write_head(self.head_path, head)
            except OSError as e:
                # The record is committed; the next append writes the head again.
                log.error("could not write the audit head %s: %s", self.head_path, e)
                return
            self._head = head


def _replace_key(
    conn: Conn,
    home: Path,
    latest: dict[str, object],
    last_seq: int,
    ident: str,
    now: datetime,
    *,
    created: bool,
) -> None:
    start = int(str(latest["keyed_from"]))
    if last_seq < start:  # nothing was sealed with the lost key: nothing is lost
        repo.rekey_epoch(conn, start, ident, now)
        return
    what = "was missing" if created else "was another key"
    repo.add_key_epoch(conn, last_seq + 1, ident, now,
                       f"{AUDIT_KEY_FILE} {what} when the store was opened")  # fmt: skip
    log.warning(
        "warning: store %s: %s %s; records %d–%d, sealed with the key it had, can no longer be"
        " checked; a new key seals records from %d on",
        home, AUDIT_KEY_FILE, what, start, last_seq, last_seq + 1,
    )  # fmt: skip


def _read_key(path: Path) -> bytes | None:
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise StoreUnavailable(f"cannot read the audit key {path}: {e.strerror}") from e
    if len(key) != KEY_BYTES:
        raise StoreUnavailable(
            f"the audit key {path} is damaged ({len(key)} bytes, expected {KEY_BYTES}):"
            " restore it from a backup of this store, or remove it to start a new key"
            " (records sealed with this one can then no longer be checked)"
        )
    return key


def _create_key(path: Path) -> bytes:
    key = os.urandom(KEY_BYTES)
    _write_private(path, key)
    _sync_dir(path.parent)
    return key


def read_head(path: Path) -> tuple[SealedHead | None, str | None]:
    try:
        raw = json.loads(path.read_text())
        head = SealedHead(int(raw["seq"]), str(raw["hash"]), int(raw["keyed_from"]))
    except FileNotFoundError:
        return None, f"the audit head {path.name} is missing"
    except (OSError, ValueError, KeyError, TypeError) as e:
        return None, f"the audit head {path.name} is unreadable ({type(e).__name__}: {e})"
    return head, None


def _write_head(path: Path, head: SealedHead) -> None:
    data = json.dumps({"seq": head.seq, "hash": head.hash, "keyed_from": head.keyed_from})
    _write_private(path, (data + "\n").encode())


def _write_private(path: Path, data: bytes) -> None:
    """Write aside (0600), sync, rename over `path`: a reader sees the old or the new bytes."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _sync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
