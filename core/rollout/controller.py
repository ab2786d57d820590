"""Progressive rollouts: step a canary's weight up, with an analysis gate between steps.

A controller loop in the owner calls `tick()`. When a step's interval has passed, the
guardrails are measured on the canary's events of that step's window (Argo Rollouts'
semantics, see `core.rollout.guardrails`): all hold → next step; a failure past the
failure limit → abort and restore the stable traffic map (the aborted revisions are marked
unhealthy, the reason goes to history and audit, and a `rollout.aborted` system event is
recorded for the alerting system); too few samples or no data → pause for a human; a failure
within the limit → measure again after another interval.

A running or paused rollout owns the traffic map: its steps, promote and abort are
compare-and-set on the revision it last wrote, and a revision by anyone else (a deploy, a
traffic change, a rollback, an A/B test's promotion) ends it as `interrupted` in that
revision's transaction (the controller is an owner hook of `DeploymentManager`), with an audit
record and a `rollout.interrupted` system event: it never writes its maps over a newer one.
Pause and abort of an interrupted rollout change nothing; resume and promote refuse.

Beside this file: `gate` (the analysis between steps), `traffic_map` (what a rollout writes to
the map: steps, abort, interruption) and `rows` (the stored row, its step maps, the `Rollout`
it reads as).
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
from datetime import datetime, timedelta
from typing import Any

from core import audit
from core.clock import as_utc, utcnow
from core.deployments.owners import TrafficOwner
from core.domain import DeploymentRevision, Environment, Rollout, RolloutStatus
from core.errors import Conflict, IllegalTransition, InvalidInput, NotFound
from core.jsonable import canonical_json, to_jsonable
from core.periodic import Periodic, Wakeups
from core.rollout import gate, traffic_map
from core.rollout.guardrails import Decision, parse_guardrail
from core.rollout.rows import check_steps, new_row, rollout_of
from core.traffic import describe
from storage.conn import Conn
from storage.repos import rollouts as repo
from storage.store import Store

log = logging.getLogger(__name__)


class RolloutController:
    def __init__(self, store: Store, registry: Any, deployments: Any) -> None:
        self.store = store
        self.registry = registry
        self.deployments = deployments
        self._loop: Periodic | None = None
        self._tick_lock = threading.Lock()
        self._wakeups = Wakeups()
        """Ticks skip the store while no rollout runs, until a start or resume commits: a
        read each second cost ~1.6 ms of CPU beside the requests being served."""
        deployments.add_owner_hook(self)

    # --- as the owner of traffic (called by DeploymentManager) --------------------------

    def traffic_owner(self, conn: Conn, model: str, environment: str) -> TrafficOwner | None:
        """The running or paused rollout of this model and environment, if any."""
        return traffic_map.owner(conn, model, environment)

    def interrupt(self, conn: Conn, rev: DeploymentRevision, writer: str | None) -> None:
        """A new revision: unless this model's active rollout wrote it, the rollout ends here."""
        row = repo.latest(conn, rev.model_id, rev.environment.value)
        if row is None or not RolloutStatus(row["status"]).active:
            return
        if writer == traffic_map.writer_of(row["id"]):
            return
        traffic_map.interrupt(conn, row, rev, writer)

    # --- commands -----------------------------------------------------------------------

    def start(
        self,
        model: str,
        version: str,
        environment: str,
        *,
        steps: list[float],
        interval_s: float,
        guardrails: list[str],
        failure_limit: int,
        min_samples: int,
        actor: str,
        reason: str = "",
        interrupt_owner: bool = True,
    ) -> Rollout:
        """The first step goes live at once. A running A/B test of the model's traffic ends as
        interrupted; with `interrupt_owner=False` (an automatic canary) the start is refused
        instead."""
        env = Environment(environment) if environment in Environment._value2member_map_ else None
        if env is None:
            raise InvalidInput(f"unknown environment {environment!r}: use staging or production")
        checked_steps = check_steps(steps)
        if not interval_s > 0:
            raise InvalidInput("--interval must be positive")
        if failure_limit < 0 or min_samples < 0:
            raise InvalidInput("--failure-limit and --min-samples cannot be negative")
        parsed = [parse_guardrail(g).text for g in guardrails]
        canary = self.registry.get_version(model, version)
        current = self.deployments.current(model, env.value)
        if current is None:
            raise Conflict(
                f"{model} has no {env.value} deployment to roll out against: deploy a stable version first"
            )
        if canary.version in current.traffic:
            raise Conflict(
                f"{canary.version} already serves {env.value} traffic ({describe(current.traffic)})"
            )
        # Loaded and smoke-tested before the transaction, so none waits on a model load.
        self.deployments.preflight(model, [canary.version])
        now = utcnow()
        rollout_id = f"ro-{now:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"
        row = new_row(
            rollout_id, model, env.value, canary.number, current.traffic, checked_steps,
            interval_s, parsed, failure_limit, min_samples, actor, reason, now,
        )  # fmt: skip
        with self.store.write() as conn:
            latest = repo.latest(conn, model, env.value)
            if latest is not None and RolloutStatus(latest["status"]).active:
                raise Conflict(
                    f"{model} {env.value} already has rollout {latest['id']} ({latest['status']})"
                )
            owner = self.deployments.traffic_owner(model, env.value, conn=conn)
            if owner is not None and not interrupt_owner:
                raise Conflict(
                    f"{owner.summary} owns {model} {env.value} traffic: a rollout would end it"
                    " as interrupted"
                )
            repo.insert(conn, row)
            conn.committed.append(self._wakeups.added)
            rev = traffic_map.set_weight(
                self.deployments, conn, row, 0, actor,
                f"rollout {rollout_id} step 1/{len(checked_steps)}", expected=current.revision,
            )  # fmt: skip
            audit.append(
                conn, actor=actor, action="rollout.start", target=rollout_id, model_id=model,
                after={"canary": canary.version, "steps": checked_steps, "guardrails": parsed,
                       "interval_s": interval_s}, reason=reason,
            )  # fmt: skip
        self.deployments.notify(rev)
        return self.get(model, env.value)

    def get(self, model: str, environment: str) -> Rollout:
        self.registry.get_model(model)
        with self.store.read() as conn:
            row = repo.latest(conn, model, environment)
        if row is None:
            raise NotFound(f"{model} has no rollout in {environment}")
        return rollout_of(row)

    def list_active(self) -> list[Rollout]:
        """Every running or paused rollout, oldest first (one read for the whole fleet)."""
        with self.store.read() as conn:
            return [rollout_of(row) for row in repo.active(conn)]

    def pause(self, model: str, environment: str, *, actor: str, reason: str = "") -> Rollout:
        return self._manual(model, environment, "pause", actor, reason)

    def resume(self, model: str, environment: str, *, actor: str, reason: str = "") -> Rollout:
        return self._manual(model, environment, "resume", actor, reason)

    def promote(self, model: str, environment: str, *, actor: str, reason: str = "") -> Rollout:
        return self._manual(model, environment, "promote", actor, reason)

    def abort(self, model: str, environment: str, *, actor: str, reason: str = "") -> Rollout:
        return self._manual(model, environment, "abort", actor, reason)

    # --- the loop -----------------------------------------------------------------------

    def tick(self, now: datetime | None = None) -> list[Rollout]:
        """Advance every running rollout whose step interval has passed; return those touched."""
        now = now or utcnow()
        touched: list[Rollout] = []
        with self._tick_lock:
            if (token := self._wakeups.look()) is None:
                return touched
            with self.store.read() as conn:
                rows = [r for r in repo.active(conn) if r["status"] == RolloutStatus.RUNNING.value]
            if not rows:
                self._wakeups.found_nothing(token)
            for row in rows:
                due = as_utc(row["step_started_at"]) + timedelta(seconds=float(row["interval_s"]))
                if now < due:
                    continue
                try:
                    touched.append(self._analyse_step(row, now))
                except Exception:
                    log.exception("rollout %s: analysis failed", row["id"])
        return touched

    def start_loop(self, every_s: float = 1.0) -> None:
        if self._loop is None:
            self._loop = Periodic("mlc-rollouts", self.tick, every_s)
            self._loop.start()

    def stop_loop(self) -> None:
        if self._loop is not None:
            self._loop.stop()
            self._loop = None

    # --- internals ----------------------------------------------------------------------

    def _analyse_step(self, row: dict[str, Any], now: datetime) -> Rollout:
        model, env = row["model_id"], row["environment"]
        decision, failures, why, result = gate.measure(
            self.store, self.registry, self.deployments, row, now
        )
        steps = json.loads(row["steps"])
        index = int(row["step_index"])
        analyses = json.loads(row["analyses"])
        analyses.append(
            {"step": index + 1, "weight": steps[index], "at": now.isoformat(), "decision": decision.value,
             "verdict": result.verdict.value, "measurements": to_jsonable(result.measurements)}
        )  # fmt: skip
        rev = None
        with self.store.write() as conn:
            fresh = repo.get(conn, row["id"])
            if (
                fresh is None
                or fresh["status"] != RolloutStatus.RUNNING.value
                or fresh["step_index"] != index
            ):
                return rollout_of(fresh or row)  # changed by an operator meanwhile
            own = traffic_map.own(self.deployments, fresh)
            if own is None:
                traffic_map.interrupt_unseen(self.deployments, conn, fresh)
                return rollout_of(repo.get(conn, row["id"]) or fresh)
            update: dict[str, Any] = {
                "failures": failures,
                "analyses": canonical_json(analyses),
                "updated_at": now,
            }
            if decision is Decision.PROMOTE_STEP:
                if index + 1 >= len(steps):
                    update.update(status=RolloutStatus.COMPLETED.value, reason=f"completed: {why}")
                    audit.append(
                        conn,
                        actor="controller",
                        action="rollout.complete",
                        target=row["id"],
                        model_id=model,
                        reason=why,
                    )
                else:
                    rev = traffic_map.set_weight(
                        self.deployments,
                        conn,
                        row,
                        index + 1,
                        "controller",
                        f"rollout {row['id']} step {index + 2}/{len(steps)}: {why}",
                        expected=own.revision,
                    )
                    update.update(step_index=index + 1, step_started_at=now)
                    audit.append(conn, actor="controller", action="rollout.step", target=row["id"], model_id=model,
                                 after={"step": index + 2, "weight": steps[index + 1]}, reason=why)  # fmt: skip
            elif decision is Decision.ABORT:
                rev = traffic_map.restore(
                    self.deployments,
                    conn,
                    row,
                    "controller",
                    f"rollout {row['id']} aborted: {why}",
                    own.revision,
                )
                update.update(status=RolloutStatus.ABORTED.value, reason=why)
                audit.append(conn, actor="controller", action="rollout.abort", target=row["id"], model_id=model,
                             after={"traffic": json.loads(row["stable_traffic"])}, reason=why)  # fmt: skip
                repo.add_system_event(
                    conn, now, "rollout.aborted", "critical",
                    f"{model} {env}: rollout of v{row['canary_version']} aborted and rolled back: {why}",
                    model, env, canonical_json({"rollout": row["id"], "analysis": analyses[-1]}),
                )  # fmt: skip
            elif decision is Decision.PAUSE:
                update.update(status=RolloutStatus.PAUSED.value, reason=why)
                audit.append(
                    conn,
                    actor="controller",
                    action="rollout.pause",
                    target=row["id"],
                    model_id=model,
                    reason=why,
                )
                repo.add_system_event(conn, now, "rollout.paused", "warning",
                                      f"{model} {env}: rollout of v{row['canary_version']} paused: {why}", model, env)  # fmt: skip
            else:  # RETRY: measure again over a fresh interval without moving the weights
                update.update(step_started_at=now, reason=why)
            repo.update(conn, row["id"], **update)
        if rev is not None:
            self.deployments.notify(rev)
        return self.get(model, env)

    def _manual(
        self, model: str, environment: str, action: str, actor: str, reason: str
    ) -> Rollout:
        current = self.get(model, environment)
        if current.status is RolloutStatus.INTERRUPTED:
            return self._after_interruption(current, action)
        if not current.status.active:
            raise IllegalTransition(
                f"rollout {current.id} is {current.status}: nothing to {action}"
            )
        if action == "promote":  # the canary takes everything: it must load and answer now
            self.deployments.preflight(model, [current.canary_version])
        now = utcnow()
        rev = None
        with self.store.write() as conn:
            row = repo.get(conn, current.id)
            assert row is not None
            status = RolloutStatus(row["status"])
            own = traffic_map.own(self.deployments, row) if status.active else None
            if status.active and own is None:
                traffic_map.interrupt_unseen(self.deployments, conn, row)
                status = RolloutStatus.INTERRUPTED
            if status is RolloutStatus.INTERRUPTED:
                pass  # ended by someone else's revision: see below, after the commit
            elif not status.active:
                raise IllegalTransition(f"rollout {current.id} is {status}: nothing to {action}")
            elif action == "pause":
                if status is RolloutStatus.PAUSED:
                    raise IllegalTransition(f"rollout {current.id} is already paused")
                repo.update(
                    conn,
                    current.id,
                    status="paused",
                    reason=f"paused by {actor}: {reason}",
                    updated_at=now,
                )
            elif action == "resume":
                if status is RolloutStatus.RUNNING:
                    raise IllegalTransition(f"rollout {current.id} is already running")
                # The next analysis covers only traffic from now on.
                repo.update(
                    conn,
                    current.id,
                    status="running",
                    reason=f"resumed by {actor}: {reason}",
                    step_started_at=now,
                    updated_at=now,
                )
                conn.committed.append(self._wakeups.added)
            elif action == "promote":
                assert own is not None
                steps = json.loads(row["steps"])
                rev = traffic_map.set_weight(
                    self.deployments, conn, row, len(steps) - 1, actor,
                    f"rollout {current.id} promoted: {reason}", expected=own.revision,
                )  # fmt: skip
                repo.update(conn, current.id, status="completed", step_index=len(steps) - 1,
                            reason=f"promoted by {actor}: {reason}", updated_at=now)  # fmt: skip
            else:
                assert own is not None
                rev = traffic_map.restore(
                    self.deployments, conn, row, actor,
                    f"rollout {current.id} aborted by {actor}: {reason}", own.revision,
                )  # fmt: skip
                repo.update(
                    conn,
                    current.id,
                    status="aborted",
                    reason=f"aborted by {actor}: {reason}",
                    updated_at=now,
                )
            if status is not RolloutStatus.INTERRUPTED:
                audit.append(
                    conn,
                    actor=actor,
                    action=f"rollout.{action}",
                    target=current.id,
                    model_id=model,
                    reason=reason,
                )
        if rev is not None:
            self.deployments.notify(rev)
        after = self.get(model, environment)
        if after.status is RolloutStatus.INTERRUPTED:
            return self._after_interruption(after, action)
        return after

    def _after_interruption(self, ro: Rollout, action: str) -> Rollout:
        """Pause and abort of an interrupted rollout change nothing (it has ended, and its
        maps are not written over the newer one); resume and promote refuse."""
        if action in ("pause", "abort"):
            return ro
        raise IllegalTransition(f"rollout {ro.id} was {ro.reason}: nothing to {action}")
