"""Keeps the per-minute traffic rollups current: a loop in the owner seals the minutes that
have passed and rebuilds the ones late events touched (storage/repos/rollups.py).

Queries never depend on it for correctness, only for speed: whatever is not sealed yet is
read from the events.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from core.periodic import Periodic
from storage.repos import rollups as repo
from storage.store import Store

log = logging.getLogger(__name__)


class RollupKeeper:
    def __init__(
        self,
        store: Store,
        models: Callable[[], list[str]],
        positive: Callable[[str], str | None],
    ) -> None:
        self.store = store
        self._models = models
        self._positive = positive
        self._loop: Periodic | None = None

    def catch_up(self, model_id: str, *, now: datetime | None = None) -> int:
        """Seal every passed minute of one model and rebuild its dirty ones, one short
        transaction per chunk (so ingest waits for at most one chunk); return the chunks."""
        positive = self._positive(model_id)
        chunks = 0
        # Events still on their way in need no wait: one loaded later for a sealed minute
        # marks it dirty in its own transaction (`mark_late`), and the seal guard (90 s) is
        # far longer than the loader's linger.
        while True:
            with self.store.write() as conn:
                before = repo.watermark(conn, model_id)
                after = repo.seal(conn, model_id, positive, now=now)
            if after is None or after == before:
                break
            chunks += 1
        while True:
            with self.store.write() as conn:
                if not repo.reroll_dirty(conn, model_id, positive):
                    break
            chunks += 1
        return chunks

    def tick(self) -> None:
        for model_id in self._models():
            try:
                self.catch_up(model_id)
            except Exception:
                log.exception("keeping the rollups of %s failed", model_id)

    def start_loop(self, every_s: float = 10.0) -> None:
        if self._loop is None:
            self._loop = Periodic("mlc-rollups", self.tick, every_s)
            self._loop.start()

    def stop_loop(self) -> None:
        if self._loop is not None:
            self._loop.stop(timeout_s=30)
            self._loop = None
