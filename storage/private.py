"""A store is private to its user: directories 0700, files 0600, whatever the umask.

It holds prediction payloads, the audit log and token hashes. DuckDB creates its files with
mode 0666 less the process umask and re-creates the WAL after every checkpoint (measured with
DuckDB 2.0.1: `x.duckdb.wal` came back 0644 under umask 022 after a chmod and a checkpoint),
with no setting for the mode, so a chmod after the fact cannot keep up: the process that opens
a store sets its umask to 077 and keeps it. Files it writes elsewhere afterwards (an alert log
channel's file, say) are created 0600 too.

A store made by an older mlc, or copied with wider modes, is tightened when it is opened, with
a warning naming what changed.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

PRIVATE_UMASK = 0o077
DIR_MODE = 0o700
FILE_MODE = 0o600
_OPEN_TO_OTHERS = 0o077
_NAMED_IN_WARNING = 8


def use_private_umask() -> None:
    """From now on this process creates files 0600 and directories 0700 (see the module)."""
    os.umask(PRIVATE_UMASK)


def make_private(home: Path) -> list[str]:
    """Take group and other permissions off the store directory and everything in it (never
    following a symlink); return what changed as `path 0644→0600`, relative to `home`, and log
    one warning if anything did. A file this user cannot chmod is named in a warning and left."""
    changed: list[str] = []
    failed: list[str] = []

    def tighten(path: Path, st: os.stat_result) -> None:
        mode = stat.S_IMODE(st.st_mode)
        if not mode & _OPEN_TO_OTHERS:
            return
        new = mode & ~_OPEN_TO_OTHERS
        name = "." if path == home else str(path.relative_to(home))
        try:
            os.chmod(path, new)
        except OSError as e:
            failed.append(f"{name} ({e.strerror})")
            return
        changed.append(f"{name} {mode:04o}→{new:04o}")

    try:
        tighten(home, os.stat(home))
    except OSError:
        return []
    for top, dirs, files in os.walk(home):
        for name in [*dirs, *files]:
            path = Path(top) / name
            try:
                st = os.lstat(path)
            except OSError:  # gone meanwhile (a journal segment dropped, a temp file renamed)
                continue
            if not stat.S_ISLNK(st.st_mode):
                tighten(path, st)
    changed.sort(key=lambda c: (c.count("/"), c))  # the store's own files first
    if changed:
        shown = ", ".join(changed[:_NAMED_IN_WARNING])
        more = len(changed) - _NAMED_IN_WARNING
        log.warning(
            "warning: store %s was readable by other users; made it private: %s%s",
            home, shown, f" and {more} more" if more > 0 else "",
        )  # fmt: skip
    if failed:
        log.warning("warning: store %s: could not make private: %s", home, ", ".join(failed))
    return changed
