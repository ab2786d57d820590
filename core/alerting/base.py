"""What every part of the `AlertManager` reads: its store and its clock. The parts (rule book,
alert book, silences, evaluation, outbox) are mixins over this base, so each public method is
written once, in the module named for what it does, and `AlertManager` composes them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from core.clock import as_utc
from storage.store import Store


class ManagerBase:
    store: Store
    _now: Callable[[], datetime]

    def now(self) -> datetime:
        return as_utc(self._now())
