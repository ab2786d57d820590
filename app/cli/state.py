"""What the root options decide for one `mlc` invocation, and the engine it opens lazily."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from core.engine import Engine, LocalEngine
from storage.paths import resolve_home


@dataclass
class CliState:
    store: Path | None = None
    json: bool = False
    _engine: Engine | None = field(default=None, repr=False)

    @property
    def home(self) -> Path:
        return resolve_home(self.store)

    def engine(self) -> Engine:
        """Open the store on first use; a short-lived command holds it only for its own run."""
        if self._engine is None:
            self._engine = LocalEngine.open(self.home)
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None
