"""Content-addressed model artifacts, saved with skops and verified on every load.

A file's name is its sha256, so identical models share one file and a changed byte is caught
before anything is deserialised. skops never runs pickle; types outside the caller's trusted
set are refused by name, and a file that would unpack to more than the artifact limit is
refused before skops reads it (`storage.artifact_limits`).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import zipfile
from collections.abc import Iterable
from io import BytesIO
from pathlib import Path
from typing import Any

from storage.artifact_limits import check_unpacked_sizes
from storage.errors import IntegrityError, InvalidInput, NotFound

SUFFIX = ".skops"
_DESERIALISING = threading.RLock()
"""One skops load (or size check) at a time per process. numpy reads every array header with
`ast.literal_eval`, and CPython 3.11 keeps the AST constructor's recursion count per
interpreter, not per thread: two loads in two threads (a server warming a model while a
request loads it) failed one with "AST constructor recursion depth mismatch" whenever a
garbage collection ran Python code mid-parse (reproduced: 55 of 120 loads in 4 threads)."""


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_skops_bytes(data: bytes, trusted: Iterable[str], *, origin: str = "artifact") -> None:
    """Refuse anything that is not a skops file, that would unpack to more than the artifact
    limit (`artifact_limits`), or that holds an untrusted type."""
    if not zipfile.is_zipfile(BytesIO(data)):
        raise InvalidInput(f"{origin} is not a skops file (expected a .skops zip archive)")
    # Imported here, not at the top: a second of import time every client pays.
    import skops.io as sio  # pyright: ignore[reportMissingTypeStubs] skops ships none

    with _DESERIALISING:
        # Sizes first: skops reads every entry into memory even to list the types.
        check_unpacked_sizes(data, origin=origin)
        try:
            untrusted = sio.get_untrusted_types(data=data)
        except Exception as e:  # skops raises assorted errors on malformed archives
            raise InvalidInput(f"{origin} is not a valid skops file: {e}") from e
    refused = sorted(set(untrusted) - set(trusted))
    if refused:
        raise IntegrityError(
            f"{origin} holds untrusted type(s) {', '.join(refused)}; refusing to load it"
        )


def load_bytes(data: bytes, trusted: Iterable[str], *, origin: str = "artifact") -> Any:
    """Check then deserialise skops bytes; never pickle."""
    import skops.io as sio  # pyright: ignore[reportMissingTypeStubs] skops ships none

    trusted = list(trusted)
    with _DESERIALISING:
        check_skops_bytes(data, trusted, origin=origin)
        try:
            return sio.loads(data, trusted=trusted)
        except Exception as e:
            raise IntegrityError(f"{origin} could not be loaded: {e}") from e


class ArtifactStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}{SUFFIX}"

    def put_bytes(self, data: bytes) -> str:
        """Store bytes under their sha256 (atomically: write aside, fsync, rename)."""
        digest = sha256_of(data)
        final = self.path_for(digest)
        if final.exists() and sha256_of(final.read_bytes()) == digest:
            return digest
        final.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # mkstemp's file is 0600
        fd, tmp_name = tempfile.mkstemp(dir=final.parent, prefix=f".{digest[:12]}.", suffix=".tmp")
        tmp = Path(tmp_name)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(final)
        return digest

    def save(self, obj: Any) -> tuple[str, int]:
        import skops.io as sio  # pyright: ignore[reportMissingTypeStubs] skops ships none

        data = sio.dumps(obj)
        return self.put_bytes(data), len(data)

    def get_bytes(self, sha256: str) -> bytes:
        path = self.path_for(sha256)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise NotFound(f"artifact {sha256[:12]} is missing from {self.root}") from None
        actual = sha256_of(data)
        if actual != sha256:
            raise IntegrityError(
                f"artifact {sha256[:12]} failed its checksum (file hashes to {actual[:12]}):"
                " it was changed or corrupted; refusing to load it"
            )
        return data

    def load(self, sha256: str, trusted: Iterable[str]) -> Any:
        return load_bytes(self.get_bytes(sha256), trusted, origin=f"artifact {sha256[:12]}")
