"""The `AlertManager`: alert rules, the alert state machine, acknowledgements, silences,
system-event routing and an at-least-once notification outbox, over one store.

Each part is a mixin in the module named for what it holds, so each method is written once:

* `core.alerting.rules` — the rule book (create, enable/disable, delete; audited);
  `core.alerting.checks` — what a rule may say;
* `core.alerting.evaluation` — the state machine (pending → firing → resolved), its
  insufficient-data rules, repeats, and the routing of system events;
* `core.alerting.alerts` — alerts, their history and acknowledgements;
* `core.alerting.silences` — silences;
* `core.alerting.outbox` — the notification outbox and its delivery with retries;
  `core.alerting.notifications` — what a notification says;
* `core.alerting.rows` — stored rows into alerting's types (`AlertRule`, `Alert`, …).

This module holds the composition and the owner's two loops (evaluation, delivery).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from core.alerting.alerts import AlertBook
from core.alerting.channels import Channels
from core.alerting.evaluation import Evaluation, Observation, Values
from core.alerting.rules import RuleBook
from core.alerting.silences import SilenceBook
from core.alerting.types import Transition
from core.clock import utcnow
from core.periodic import Periodic, Wakeups
from storage.store import Store

__all__ = ["AlertManager", "Observation", "Values"]


class AlertManager(RuleBook, AlertBook, SilenceBook, Evaluation):
    """Alert rules, the alert state machine, acks, silences, system-event routing and the
    notification outbox of one store (see the module docstring for where each lives)."""

    def __init__(
        self,
        store: Store,
        *,
        now: Callable[[], datetime] = utcnow,
        channels: Channels | None = None,
        backoff_base_s: float = 5.0,
        backoff_max_s: float = 600.0,
        max_attempts: int = 10,
        delivery_batch: int = 100,
    ) -> None:
        self.store = store
        self._now = now
        self.channels = channels or Channels()
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.max_attempts = max_attempts
        self.delivery_batch = delivery_batch
        self._eval_lock = threading.Lock()
        self._deliver_lock = threading.Lock()
        self._wakeups = Wakeups()
        self._loops: list[Periodic] = []
        self._listeners: list[Callable[[list[Transition]], None]] = []

    def subscribe(self, listener: Callable[[list[Transition]], None]) -> None:
        """Called after each evaluation that changed something (retrain policies listen)."""
        self._listeners.append(listener)

    @property
    def console(self) -> Any:
        """The console channel's ring buffer (`recent(n)`), for the TUI."""
        return self.channels.console

    def close(self) -> None:
        self.stop_loop()
        self.channels.close()

    # --- the owner's loops ---------------------------------------------------------------

    def start_loop(
        self, values: Values, *, every_s: float = 15.0, deliver_every_s: float = 2.0
    ) -> None:
        """Run `evaluate(values, deliver=False)` every `every_s` and `deliver_pending()` every
        `deliver_every_s`, in two daemon threads, so a slow webhook never delays evaluation.
        Nothing raised in either loop stops it (it is logged)."""
        if self._loops:
            return
        self._loops = [
            Periodic("mlc-alerts-eval", lambda: self.evaluate(values, deliver=False), every_s),
            Periodic("mlc-alerts-deliver", self.deliver_pending, deliver_every_s),
        ]
        for loop in self._loops:
            loop.start()

    def stop_loop(self) -> None:
        for loop in self._loops:
            loop.stop()
        self._loops = []
