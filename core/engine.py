"""The one engine API. The CLI, the TUI and the HTTP API call an `Engine`; none opens DuckDB.

`Engine` is the sum of one small protocol per capability, each in its capability's package
(`core/registry/operations.py`, `core/alerting/operations.py`, …), where each operation is
declared once: its signature, its contract and its in-process implementation (the service call
under the engine's actor). `LocalEngine` runs in-process over the store (the owner) and
inherits those implementations; a remote implementation (`app/client.py`) speaks HTTP to the
owner with the same methods and the same errors, and the type checker holds both to `Engine`.
"""

from __future__ import annotations

import gc
import getpass
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, Self

from core import names
from core.abtesting import ABTestingEngine
from core.abtesting.operations import ABTesting
from core.alerting import AlertManager
from core.alerting.operations import Alerting
from core.alerting.types import Transition
from core.audit.operations import Audit
from core.auth import TokenService
from core.auth.operations import Tokens
from core.deployments.manager import DeploymentManager
from core.deployments.operations import Deployments
from core.events.writer import EventWriter
from core.features.online import EntityFeatures
from core.features.operations import Features
from core.features.service import FeatureStore
from core.fleet import FleetService
from core.fleet.operations import Fleet
from core.monitoring.alert_values import rule_values
from core.monitoring.drift import DriftDetector
from core.monitoring.metrics import PerformanceMonitor
from core.monitoring.operations import Monitoring
from core.monitoring.rollups import RollupKeeper
from core.periodic import Periodic
from core.registry import ModelRegistry
from core.registry.operations import Registry
from core.retrain import RetrainPolicies
from core.retrain.operations import Retraining
from core.rollout.controller import RolloutController
from core.rollout.operations import Rollouts
from core.serving.gateway import PredictionService
from core.serving.local import LocalServing
from core.serving.operations import Serving
from core.serving.readiness import Readiness
from core.training.operations import Training
from core.training.pipeline import TrainingPipeline
from storage.artifacts import ArtifactStore
from storage.store import Store

__all__ = ["Engine", "LocalEngine", "default_actor"]


class Engine(
    Registry, Audit, Training, Deployments, Rollouts, Serving, Monitoring, Fleet, Alerting,
    ABTesting, Retraining, Tokens, Features, Protocol,
):  # fmt: skip
    """Every operation mlc offers. Mutations are audited under the engine's actor."""

    @property
    def actor(self) -> str:
        """Who this engine's mutations are audited under (read-only: a remote engine's is
        the one its server records for its token)."""
        ...

    @property
    def owns_store(self) -> bool:
        """True when this process is the store's owner (jobs die with it)."""
        ...

    def close(self) -> None: ...


def default_actor() -> str:
    try:
        return f"local:{getpass.getuser()}"
    except (KeyError, OSError):
        return "local:unknown"


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def _training_workers() -> int:
    # One job at a time by default: a search already keeps a core busy, and two cores are common.
    try:
        return max(1, int(os.environ.get("MLC_TRAINING_WORKERS", "1")))
    except ValueError:
        return 1


@names.checks_reasons
class LocalEngine(
    Registry, Audit, Training, Deployments, Rollouts, Serving, LocalServing, Monitoring, Fleet,
    Alerting, ABTesting, Retraining, Tokens, Features,
):  # fmt: skip
    """The engine over an open store, in this process. Every reason and comment it is given
    is checked first (`names.checks_reasons`)."""

    owns_store = True

    def __init__(self, store: Store, *, actor: str | None = None) -> None:
        self.store = store
        self.actor = actor or default_actor()
        self.artifacts = ArtifactStore(store.artifacts_dir)
        self.registry = ModelRegistry(store, self.artifacts)
        self.features = FeatureStore(store)
        self.training = TrainingPipeline(
            store, self.registry, max_workers=_training_workers(), features=self.features
        )
        try:
            self.writer = EventWriter(store)
            self.deployments = DeploymentManager(store, self.registry)
            self.serving = PredictionService(
                self.registry, self.deployments, self.writer,
                entity_features=EntityFeatures(self.features, self.registry),
            )  # fmt: skip
            self.deployments.set_preflight(self.serving.preflight)
            self.rollouts = RolloutController(store, self.registry, self.deployments)
            self.monitor = PerformanceMonitor(store, self.registry, self.writer)
            self.rollups = RollupKeeper(
                store,
                lambda: [m.id for m in self.registry.list_models()],
                self.monitor.positive_class,
            )
            self.abtests = ABTestingEngine(store, self.registry, self.deployments)
            # Auto-promotion, guardrail stops and maximum durations of running A/B tests.
            self._ab_loop: Periodic | None = None
            self.drift = DriftDetector(store, self.registry, self.deployments)
            self.alerts = AlertManager(store)
            self.retrain = RetrainPolicies(
                store, alerts=self.alerts, training=self.training, rollouts=self.rollouts,
                registry=self.registry,
            )  # fmt: skip
            self.tokens = TokenService(store)
            self.readiness = Readiness()
            """Ready at once, unless `start_warmup` (a serving owner's start) is under way."""
            self.fleet = FleetService(
                self.registry, self.deployments, self.monitor, self.drift, self.alerts,
                self.abtests, self.rollouts,
            )  # fmt: skip
        except BaseException:  # nothing of a half-built engine keeps running
            if (writer := getattr(self, "writer", None)) is not None:
                writer.close()
            self.training.close()
            raise

    @classmethod
    def open(cls, home: Path, *, actor: str | None = None, wait_s: float = 2.0) -> Self:
        store = Store.open(home, wait_s=wait_s)
        try:
            return cls(store, actor=actor)
        except BaseException:  # e.g. the event journal could not be replayed
            store.close()
            raise

    def as_actor(self, actor: str) -> LocalEngine:
        """The same engine acting for someone else (an API token, a controller loop)."""
        other = LocalEngine.__new__(LocalEngine)
        other.__dict__.update(self.__dict__)
        other.actor = actor
        return other

    def evaluate_alerts(self) -> list[Transition]:
        """One evaluation pass now (the owner also runs one on a schedule)."""
        transitions = self.alerts.evaluate(rule_values(self.store, self.registry, self.drift))
        return transitions

    def start_background(self, *, freeze_gc: bool = False) -> None:
        """Start the owner's loops and load every deployed model. With `freeze_gc` (for a
        process that serves from now on), then take everything alive out of the garbage
        collector's reach.

        A serving owner holds a few million objects (scikit-learn, Polars, FastAPI, the
        models) that never become garbage, yet every older-generation collection walks them
        all: they paused requests by up to 8 ms (generation 1) and 146 ms (generation 2),
        measured in `mlc serve`. After `gc.freeze()` collections see only the objects made
        since (generation 1 at most ~1 ms). Not for short-lived or test processes: an object
        frozen while alive is never collected if it later dies in a reference cycle."""

        if getattr(self, "_warm_all", None) is None:
            self.start_warmup(freeze_gc=freeze_gc)
        self.alerts.start_loop(
            rule_values(self.store, self.registry, self.drift),
            every_s=_env_float("MLC_ALERT_EVAL_S", 15.0),
        )
        tick_s = _env_float("MLC_CONTROLLER_TICK_S", 1.0)
        self.rollouts.start_loop(every_s=tick_s)
        self.rollups.start_loop(every_s=_env_float("MLC_ROLLUP_S", 10.0))
        if self._ab_loop is None:
            self._ab_loop = Periodic("mlc-abtests", self.abtests.tick, max(tick_s, 5.0))
            self._ab_loop.start()

    def start_warmup(self, *, freeze_gc: bool = False) -> None:
        """Load and smoke-test every serving version in a thread; `readiness` says when it
        is done (not ready from this call on). `freeze_gc`: see `start_background`."""

        def warm() -> None:
            self.readiness.warm(self.serving, self.deployments)
            self.serving.warm_all()  # the routes; every version is loaded by now
            if freeze_gc:
                gc.collect()
                gc.freeze()

        self.readiness.begin()
        self._warm_all = threading.Thread(target=warm, name="mlc-warm", daemon=True)
        self._warm_all.start()

    def stop_background(self) -> None:
        if (ab_loop := getattr(self, "_ab_loop", None)) is not None:
            ab_loop.stop()
            self._ab_loop = None
        self.rollouts.stop_loop()
        self.rollups.stop_loop()
        self.alerts.stop_loop()

    def close(self) -> None:
        if self.store.closed:
            return
        self.stop_background()
        if getattr(self, "_warm_all", None) is not None:
            self._warm_all.join(timeout=30)
        self.serving.close()
        self.drift.close()
        self.alerts.close()
        self.writer.close()
        try:
            self.training.close()
        finally:
            self.store.close()


if TYPE_CHECKING:
    _conforms: type[Engine] = LocalEngine
    """pyright holds LocalEngine to every capability's protocol here."""
