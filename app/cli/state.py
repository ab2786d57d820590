"""What the root options decide for one `mlc` invocation, and the engine it opens lazily."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from storage.paths import resolve_home

if TYPE_CHECKING:
    from core.engine import Engine


@dataclass
class CliState:
    store: Path | None = None
    json: bool = False
    server: str | None = None
    """`--server URL`: talk to that owner over TCP instead of looking at the local store."""
    token: str | None = None
    _engine: Engine | None = field(default=None, repr=False)

    @property
    def home(self) -> Path:
        return resolve_home(self.store)

    def engine(self) -> Engine:
        """The engine on first use: `--server`, else the owner that serves the store (waited
        for while it is alive, however busy), else the store itself (a short-lived command
        holds it only for its own run)."""
        if self._engine is None:
            self._engine = self._select()
        return self._engine

    def _select(self) -> Engine:
        # Imported here: httpx costs start-up time that embedded-only commands need not pay.
        from app.client import RemoteEngine
        from app.reach import open_or_reach

        if self.server:
            return RemoteEngine(url=self.server, token=self.token)
        return open_or_reach(self.home, say=_say)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None


def _say(line: str) -> None:
    import sys

    sys.stderr.write(line + "\n")
    sys.stderr.flush()
