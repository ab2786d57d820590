"""The event journal: an append-only log that makes an event durable before DuckDB has it.

A DuckDB commit costs 1–3 ms here, an `fdatasync` of an appended record ~0.15 ms (measured).
So a request's events are appended to the journal and synced, the request is answered, and a
loader moves records into the event tables in large batches, writing the journal offset it
has reached in the same transaction (`event_journal.loaded_through`). After a crash, the
records past that offset are replayed: every acknowledged event is loaded exactly once.

Layout: `journal/<base offset, 20 digits>.log` segments; offsets count bytes across segments,
so they only grow. A record is `MLCJ`, payload length (u32), crc32 of the payload (u32),
payload. A torn or corrupt tail (the write a crash interrupted, never acknowledged) ends the
log and is cut off when the journal is opened.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

from storage.conn import Conn
from storage.errors import StoreUnavailable

_MAGIC = b"MLCJ"
_HEADER = struct.Struct("<4sII")
SEGMENT_BYTES = 64 * 1024 * 1024
"""A segment is closed past this size; loaded segments are deleted whole."""


def loaded_through(conn: Conn) -> int:
    return int(conn.scalar("SELECT loaded_through FROM event_journal WHERE id = 1"))


def set_loaded_through(conn: Conn, offset: int) -> None:
    conn.execute("UPDATE event_journal SET loaded_through = ? WHERE id = 1", [offset])


class Journal:
    """Segments in `directory`. One writer thread appends; `unloaded` reads at open."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        try:
            directory.mkdir(mode=0o700, exist_ok=True)
        except OSError as e:
            raise StoreUnavailable(f"cannot create the event journal {directory}: {e}") from e
        self._fd: int | None = None
        self._base = 0
        self._size = 0
        self.broken: OSError | None = None

    @property
    def end(self) -> int:
        """The offset just past the last record appended."""
        return self._base + self._size

    def _segments(self) -> list[tuple[int, Path]]:
        found: list[tuple[int, Path]] = []
        for path in self.directory.glob("*.log"):
            if path.stem.isdigit():
                found.append((int(path.stem), path))
        return sorted(found)

    def unloaded(self, after: int) -> Iterator[tuple[int, bytes]]:
        """(end offset, payload) of every intact record ending past `after`, in order.

        A bad record ends its segment. In the newest segment that is the torn tail of a
        write a crash interrupted (never acknowledged), and it is cut off. In an older one it
        is damage: the rest of that segment is set aside in `rejected/`, never silently
        dropped. Call once, at open, before `append`."""
        end = after
        segments = self._segments()
        for i, (base, path) in enumerate(segments):
            data = path.read_bytes()
            pos = 0
            while pos + _HEADER.size <= len(data):
                magic, length, crc = _HEADER.unpack_from(data, pos)
                start = pos + _HEADER.size
                payload = data[start : start + length]
                if magic != _MAGIC or len(payload) != length or zlib.crc32(payload) != crc:
                    break
                pos = start + length
                if base + pos > after:
                    yield base + pos, payload
            if pos < len(data) and i == len(segments) - 1:
                with open(path, "r+b") as fh:
                    fh.truncate(pos)
                    os.fsync(fh.fileno())
            elif pos < len(data) and base + len(data) > after:
                self.set_aside(base + pos, data[pos:], suffix=".damaged")
            end = max(end, base + pos)
        self._base, self._size = end, 0

    def append(self, payloads: list[bytes]) -> list[int]:
        """Append records and sync them; returns the end offset of each.

        After a failed write the file is cut back to its last synced length; if that fails
        too, or the sync itself failed (the kernel may have dropped the unsynced pages), the
        journal refuses every later append: the owner must restart and replay."""
        if self.broken is not None:
            raise StoreUnavailable(f"the event journal is unusable: {self.broken}")
        if self._fd is None or self._size >= SEGMENT_BYTES:
            self._open_segment()
        assert self._fd is not None
        ends: list[int] = []
        data: list[bytes] = []
        at = self.end
        for p in payloads:
            data.append(_HEADER.pack(_MAGIC, len(p), zlib.crc32(p)))
            data.append(p)
            at += _HEADER.size + len(p)
            ends.append(at)
        view = memoryview(b"".join(data))
        try:
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
        except OSError as e:
            try:
                os.ftruncate(self._fd, self._size)
                os.fsync(self._fd)
            except OSError as again:
                self.broken = again
            raise StoreUnavailable(f"cannot write the event journal: {e}") from e
        try:
            os.fdatasync(self._fd)
        except OSError as e:
            self.broken = e
            raise StoreUnavailable(f"cannot sync the event journal: {e}") from e
        self._size = ends[-1] - self._base if ends else self._size
        return ends

    def _open_segment(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)
        self._base, self._size = self.end, 0
        path = self.directory / f"{self._base:020d}.log"
        try:
            self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            _sync_dir(self.directory)  # the new file's name must survive a crash too
        except OSError as e:
            raise StoreUnavailable(f"cannot open the event journal segment {path}: {e}") from e

    def drop_loaded(self, offset: int) -> None:
        """Delete the segments wholly loaded by `offset`, except the one being appended to
        (or that one too, when everything in it is loaded and the journal is closing)."""
        segments = self._segments()
        for i, (_, path) in enumerate(segments):
            nxt = segments[i + 1][0] if i + 1 < len(segments) else None
            if nxt is not None:
                wholly_loaded = nxt <= offset
            else:  # the newest: only once nothing more will be appended to it
                wholly_loaded = self._fd is None and self.end <= offset
            if wholly_loaded:
                path.unlink(missing_ok=True)

    def set_aside(self, end: int, payload: bytes, *, suffix: str = ".rec") -> Path:
        """Keep bytes that cannot be loaded, as `rejected/<end offset><suffix>`."""
        folder = self.directory / "rejected"
        folder.mkdir(mode=0o700, exist_ok=True)
        path = folder / f"{end:020d}{suffix}"
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        _sync_dir(folder)
        _sync_dir(self.directory)
        return path

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _sync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
