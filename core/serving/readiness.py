"""Readiness of a serving owner: the store open, its journal replayed, and every serving
version loaded and smoke-tested.

An engine exists only once its store is open and the event journal replayed (`EventWriter`
replays before it accepts a write), so what remains at start-up is the warm-up: each version
some environment's current revision sends traffic to goes through the same pre-flight as a
deploy (`PredictionService.preflight`: loaded afresh from its artifact, smoke predictions
checked). A version that fails is named and its share of the traffic fails at once naming
why: a broken version does not keep the owner unready, since the fix (a rollback, a deploy)
needs the owner serving. Until the warm-up ends the data plane answers 503 with Retry-After,
so the first prediction never pays for loading a model; the control plane serves throughout.

An engine nobody warms (a short-lived command, a test) is ready from the start.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from core.errors import MlcError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Failed:
    model: str
    version: str
    error: str


@dataclass
class Readiness:
    """What a warm-up has done so far (thread-safe reads: fields change under `_lock`)."""

    warming: bool = False
    total: int = 0
    """Serving versions the warm-up checks."""
    checked: int = 0
    failed: list[Failed] = field(default_factory=list)
    began: float | None = None
    took_s: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _done: threading.Event = field(default_factory=threading.Event, repr=False)

    def __post_init__(self) -> None:
        self._done.set()

    @property
    def ready(self) -> bool:
        return not self.warming

    def begin(self) -> None:
        """Not ready from now until `warm` ends."""
        with self._lock:
            self.warming, self.total, self.checked, self.failed = True, 0, 0, []
            self.began, self.took_s = time.monotonic(), None
            self._done.clear()

    def warm(self, serving: Any, deployments: Any) -> None:
        """Pre-flight every version some current revision serves, each on its own."""
        try:
            pairs = sorted(
                {(rev.model_id, v) for rev in deployments.all_current() for v in rev.traffic}
            )
            with self._lock:
                self.total = len(pairs)
            for model, version in pairs:
                try:
                    serving.preflight(model, [version])
                except Exception as e:
                    cause = e.__cause__ or e
                    text = cause.message if isinstance(cause, MlcError) else str(cause)
                    error = f"{type(cause).__name__}: {text}"[:500]
                    log.warning("%s:%s failed its start-up check: %s", model, version, error)
                    with self._lock:
                        self.failed.append(Failed(model, version, error))
                with self._lock:
                    self.checked += 1
        except Exception as e:  # the store itself failed: say so rather than stay unready
            log.exception("the start-up check of the serving versions failed")
            with self._lock:
                self.failed.append(Failed("*", "*", f"{type(e).__name__}: {e}"[:500]))
        finally:
            with self._lock:
                self.warming = False
                self.took_s = time.monotonic() - (self.began or time.monotonic())
            self._done.set()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until ready (True) or `timeout_s` passes (False)."""
        return self._done.wait(timeout_s)

    def waiting_for(self) -> str:
        """What the owner still does before it is ready, for people."""
        with self._lock:
            if not self.warming:
                return ""
            if not self.total:
                return "listing the serving versions"
            return (
                f"loading and smoke-testing the serving versions ({self.checked} of"
                f" {self.total} done)"
            )

    def doc(self) -> dict[str, Any]:
        with self._lock:
            return {
                "ready": not self.warming,
                "versions": self.total,
                "checked": self.checked,
                "failed": [f.__dict__ for f in self.failed],
                "took_s": None if self.took_s is None else round(self.took_s, 3),
            }
