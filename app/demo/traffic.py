"""`TrafficSimulator`: the demo's live traffic, through the real prediction path.

A daemon thread sends a batch of requests per model every `tick_s` (`engine.predict`, so
routing, the sticky A/B split and event logging are the real ones), with a `unit_id` per
simulated customer and a unique `request_id`; the true label of each answered request is sent
later (`engine.record_actuals`) after a random delay, as labels arrive in production. After
`drift_after_s` the feature source switches to the drifted rows for `drift_duration_s`.

Nothing raised by the engine stops the thread: it is logged (rate-limited) and counted.
"""

from __future__ import annotations

import heapq
import logging
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from app.demo.feed import Feed, TrafficSource, load_feed
from core.clock import utcnow
from core.engine import Engine
from core.errors import InvalidInput

log = logging.getLogger(__name__)

_MAX_BEHIND_S = 1.0
"""When the thread falls further behind than this (a slow store), it skips ahead instead of
bursting to catch up."""
_LOG_EVERY = 100
"""After the first failure, one in this many is logged."""


@dataclass(frozen=True)
class TrafficStats:
    """A snapshot of the simulator's counters."""

    running: bool
    started_at: datetime | None
    """When `start()` was called, UTC (None before)."""
    elapsed_s: float
    rate: float
    """Target requests per second, all models together."""
    requests: int
    """Requests answered."""
    errors: int
    """Requests in batches the engine refused or failed (and labels it failed to take)."""
    labels_sent: int
    labels_pending: int
    by_version: dict[str, dict[str, int]] = field(default_factory=dict)
    """Answered requests per model and version."""
    drift_active: bool = False
    drift_started_at: datetime | None = None
    """When the (last) drift episode started, UTC."""
    drift_ended_at: datetime | None = None
    last_error: str | None = None


class TrafficSimulator:
    """Predictions at `rate` per second and delayed labels, in a background thread."""

    def __init__(
        self,
        engine: Engine,
        sources: Sequence[TrafficSource],
        *,
        rate: float = 200.0,
        drift_after_s: float | None = 120.0,
        drift_duration_s: float | None = 90.0,
        label_delay_s: tuple[float, float] = (3.0, 10.0),
        label_share: float = 0.9,
        tick_s: float = 0.25,
        label_flush_s: float = 1.0,
        units: int = 100_000,
        seed: int | None = None,
    ) -> None:
        """`drift_after_s`: seconds after `start()` when the drift episode begins (None:
        only `start_drift()` starts one); `drift_duration_s`: its length (None: until
        `end_drift()`). `label_share` of the answered requests get their label after a delay
        drawn uniformly from `label_delay_s`. `units` simulated customers (`unit_id`s)."""
        if not sources:
            raise InvalidInput("the traffic simulator needs at least one source")
        if not rate > 0 or not tick_s > 0:
            raise InvalidInput("rate and tick_s must be positive")
        low, high = label_delay_s
        if low < 0 or high < low:
            raise InvalidInput("label_delay_s must be (low, high) with 0 <= low <= high")
        if not 0.0 <= label_share <= 1.0:
            raise InvalidInput("label_share must be between 0 and 1")
        self.engine = engine
        self.sources = list(sources)
        self.rate = float(rate)
        self.drift_after_s = drift_after_s
        self.drift_duration_s = drift_duration_s
        self.label_delay_s = (float(low), float(high))
        self.label_share = label_share
        self.tick_s = tick_s
        self.label_flush_s = label_flush_s
        self.units = max(1, units)
        self._rng = np.random.default_rng(seed)
        self._run_id = secrets.token_hex(3)
        total_share = sum(max(s.share, 0.0) for s in self.sources) or 1.0
        self._per_tick = [self.rate * tick_s * max(s.share, 0.0) / total_share for s in sources]
        self._feeds: list[Feed] | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started_mono: float | None = None
        self._started_at: datetime | None = None
        self._stopped_mono: float | None = None
        self._seq = 0
        self._requests = 0
        self._errors = 0
        self._failures = 0
        self._labels_sent = 0
        self._by_version: dict[str, dict[str, int]] = {}
        self._pending: list[tuple[float, int, str, str, Any]] = []
        self._drift_active = False
        self._drift_started_mono: float | None = None
        self._drift_started_at: datetime | None = None
        self._drift_ended_at: datetime | None = None
        self._drift_scheduled = drift_after_s is not None
        self._last_error: str | None = None

    # --- control --------------------------------------------------------------------------

    def start(self) -> None:
        """Load the traffic (once) and start the thread; a second call does nothing."""
        with self._lock:
            if self._thread is not None:
                return
        feeds = self._feeds or [load_feed(s) for s in self.sources]
        with self._lock:
            if self._thread is not None:
                return
            self._feeds = feeds
            self._stop.clear()
            self._started_mono = time.monotonic()
            self._started_at = utcnow()
            self._stopped_mono = None
            self._thread = threading.Thread(target=self._run, name="mlc-demo-traffic", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop sending and join the thread (it finishes at most the batch in flight).
        Labels not yet due are not sent."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        with self._lock:
            if self._thread is not None and self._stopped_mono is None:
                self._stopped_mono = time.monotonic()
            self._thread = None

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def start_drift(self) -> None:
        """Switch to the drifted rows now (for `drift_duration_s`, if set)."""
        with self._lock:
            self._begin_drift(time.monotonic())

    def end_drift(self) -> None:
        """Back to healthy traffic now; the scheduled episode, if still to come, is cancelled."""
        with self._lock:
            self._drift_scheduled = False
            self._finish_drift()

    def stats(self) -> TrafficStats:
        """The counters now (safe from any thread)."""
        with self._lock:
            now = self._stopped_mono or time.monotonic()
            elapsed = 0.0 if self._started_mono is None else now - self._started_mono
            return TrafficStats(
                running=self.running,
                started_at=self._started_at,
                elapsed_s=round(elapsed, 3),
                rate=self.rate,
                requests=self._requests,
                errors=self._errors,
                labels_sent=self._labels_sent,
                labels_pending=len(self._pending),
                by_version={m: dict(v) for m, v in self._by_version.items()},
                drift_active=self._drift_active,
                drift_started_at=self._drift_started_at,
                drift_ended_at=self._drift_ended_at,
                last_error=self._last_error,
            )

    # --- the thread -----------------------------------------------------------------------

    def _run(self) -> None:
        # Small batches through OpenMP-parallel estimators (hist gradient boosting) cost 3-8x
        # more CPU with a thread team than with one thread, more so on a busy machine: this
        # thread predicts single-threaded (the limit applies to the calling thread only).
        with threadpool_limits(limits=1, user_api="openmp"):
            self._loop()

    def _loop(self) -> None:
        assert self._feeds is not None and self._started_mono is not None
        carry = [0.0] * len(self._feeds)
        next_tick = time.monotonic()
        next_flush = next_tick + self.label_flush_s
        while not self._stop.is_set():
            now = time.monotonic()
            self._schedule_drift(now)
            for i, feed in enumerate(self._feeds):
                carry[i] += self._per_tick[i]
                n = int(carry[i])
                carry[i] -= n
                if n:
                    self._send(feed, n)
            if now >= next_flush:
                self._flush_labels(now)
                next_flush = now + self.label_flush_s
            next_tick += self.tick_s
            behind = time.monotonic() - next_tick
            if behind > _MAX_BEHIND_S:
                next_tick = time.monotonic()
            elif behind < 0:
                self._stop.wait(-behind)

    def _schedule_drift(self, now: float) -> None:
        assert self._started_mono is not None
        with self._lock:
            if (
                self._drift_scheduled
                and self.drift_after_s is not None
                and now - self._started_mono >= self.drift_after_s
            ):
                self._drift_scheduled = False
                self._begin_drift(now)
            elif (
                self._drift_active
                and self.drift_duration_s is not None
                and self._drift_started_mono is not None
                and now - self._drift_started_mono >= self.drift_duration_s
            ):
                self._finish_drift()

    def _begin_drift(self, now: float) -> None:
        if self._drift_active:
            return
        self._drift_scheduled = False
        self._drift_active = True
        self._drift_started_mono = now
        self._drift_started_at = utcnow()
        self._drift_ended_at = None
        log.info("demo traffic: drift episode started")

    def _finish_drift(self) -> None:
        if not self._drift_active:
            return
        self._drift_active = False
        self._drift_ended_at = utcnow()
        log.info("demo traffic: drift episode ended")

    def _send(self, feed: Feed, n: int) -> None:
        source = feed.source
        rows = feed.rows(self._drift_active)
        picks = self._rng.integers(0, len(rows.labels), n)
        customers = self._rng.integers(0, self.units, n)
        requests = []
        for row, unit in zip(picks.tolist(), customers.tolist(), strict=True):
            self._seq += 1
            requests.append(
                {
                    "request_id": f"demo-{self._run_id}-{self._seq}",
                    "unit_id": f"customer-{unit}",
                    "features": rows.features[row],
                }
            )
        try:
            answers = self.engine.predict(source.model, requests)
        except Exception as e:
            self._failed(len(requests), f"predict {source.model}", e)
            return
        labelled = self._rng.random(len(answers)) < self.label_share
        delays = self._rng.uniform(*self.label_delay_s, len(answers))
        now = time.monotonic()
        with self._lock:
            self._requests += len(answers)
            counts = self._by_version.setdefault(source.model, {})
            for answer in answers:
                counts[answer.version] = counts.get(answer.version, 0) + 1
            for k, (answer, row) in enumerate(zip(answers, picks.tolist(), strict=False)):
                if labelled[k]:
                    heapq.heappush(
                        self._pending,
                        (now + float(delays[k]), self._seq - n + k, source.model,
                         answer.request_id, rows.labels[row]),
                    )  # fmt: skip

    def _flush_labels(self, now: float) -> None:
        due: dict[str, list[dict[str, Any]]] = {}
        with self._lock:
            while self._pending and self._pending[0][0] <= now:
                _, _, model, request_id, actual = heapq.heappop(self._pending)
                due.setdefault(model, []).append({"request_id": request_id, "actual": actual})
        for model, actuals in due.items():
            try:
                self.engine.record_actuals(model, actuals)
            except Exception as e:
                self._failed(len(actuals), f"record_actuals {model}", e)
                continue
            with self._lock:
                self._labels_sent += len(actuals)

    def _failed(self, count: int, what: str, error: Exception) -> None:
        with self._lock:
            self._errors += count
            self._failures += 1
            self._last_error = f"{what}: {type(error).__name__}: {error}"
            failures = self._failures
        if failures == 1 or failures % _LOG_EVERY == 0:
            log.warning("demo traffic: %s failed (%d failures so far)", what, failures,
                        exc_info=error)  # fmt: skip
