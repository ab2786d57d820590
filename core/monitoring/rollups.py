"""Keeps the per-minute traffic rollups current: a loop in the owner seals the minutes that
have passed and rebuilds the ones late events touched (storage/repos/rollups.py).

Queries never depend on it for correctness, only for speed: whatever is not sealed yet is
read from the events.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

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
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def catch_up(self, model_id: str, *, now: datetime | None = None) -> int:
        """Seal every passed minute of one model and rebuild its dirty ones, one short
        transaction per chunk (so ingest waits for at most one chunk); return the chunks."""
        positive = self._positive(model_id)
        chunks = 0
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
        if self._thread is not None:
            return
        self._stop.clear()

        def loop() -> None:
            while not self._stop.wait(every_s):
                self.tick()

        self._thread = threading.Thread(target=loop, name="mlc-rollups", daemon=True)
        self._thread.start()

    def stop_loop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
