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
"""

from __future__ import annotations

import itertools
import json
import logging
import secrets
import threading
from datetime import datetime, timedelta
from typing import Any

from core import audit
from core.clock import as_utc, utcnow
from core.deployments.owners import TrafficOwner, interruption
from core.domain import DeploymentRevision, Environment, Rollout, RolloutStatus
from core.errors import Conflict, IllegalTransition, InvalidInput, NotFound
from core.jsonable import canonical_json, to_jsonable
from core.monitoring.window import errors_named, window_metrics
from core.periodic import Periodic, Wakeups
from core.rollout.guardrails import Decision, analyse, decide, parse_guardrail
from core.serving.splitter import describe, validate_traffic
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
        row = repo.latest(conn, model, environment)
        if row is None or not RolloutStatus(row["status"]).active:
            return None
        traffic = _step_traffic(row, int(row["step_index"]))
        weight = json.loads(row["steps"])[int(row["step_index"])]
        return TrafficOwner(
            kind="rollout", id=row["id"], status=row["status"], model_id=model,
            environment=environment, traffic=traffic,
            summary=f"rollout {row['id']} of v{row['canary_version']} ({row['status']},"
                    f" canary at {weight:g}%: {describe(traffic)})",
        )  # fmt: skip

    def interrupt(self, conn: Conn, rev: DeploymentRevision, writer: str | None) -> None:
        """A new revision: unless this model's active rollout wrote it, the rollout ends here."""
        row = repo.latest(conn, rev.model_id, rev.environment.value)
        if row is None or not RolloutStatus(row["status"]).active:
            return
        if writer == _writer(row["id"]):
            return
        self._interrupt(conn, row, rev, writer)

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
        checked_steps = _check_steps(steps)
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
        row = {
            "id": rollout_id,
            "model_id": model,
            "environment": env.value,
            "canary_version": canary.number,
            "stable_traffic": canonical_json(current.traffic),
            "steps": canonical_json(checked_steps),
            "step_index": 0,
            "interval_s": float(interval_s),
            "guardrails": canonical_json(parsed),
            "failure_limit": failure_limit,
            "min_samples": min_samples,
            "status": RolloutStatus.RUNNING.value,
            "failures": 0,
            "analyses": "[]",
            "actor": actor,
            "reason": reason,
            "started_at": now,
            "step_started_at": now,
            "updated_at": now,
        }
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
            rev = self._set_weight(
                conn,
                row,
                0,
                actor,
                f"rollout {rollout_id} step 1/{len(checked_steps)}",
                expected=current.revision,
            )
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
        return _rollout(row)

    def list_active(self) -> list[Rollout]:
        """Every running or paused rollout, oldest first (one read for the whole fleet)."""
        with self.store.read() as conn:
            return [_rollout(row) for row in repo.active(conn)]

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
        touched = []
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
        task = self.registry.get_model(model).task
        start = as_utc(row["step_started_at"])
        values = window_metrics(
            self.store, model, task, start, now, version=int(row["canary_version"]), environment=env
        )
        guardrails = [parse_guardrail(g) for g in json.loads(row["guardrails"])]
        result = analyse(guardrails, values, int(row["min_samples"]))
        decision, failures, why = decide(result, int(row["failures"]), int(row["failure_limit"]))
        if decision is Decision.ABORT:  # say what broke, not only that a number did
            named = errors_named(
                self.store, model, start, now, version=int(row["canary_version"]), environment=env
            )
            why = f"{why}; v{row['canary_version']} {named}" if named else why
        steps = json.loads(row["steps"])
        index = int(row["step_index"])
        if decision is Decision.PROMOTE_STEP and index + 1 < len(steps):
            # The guardrails held on what the canary served, but a step sends it more
            # traffic: it must load and answer now (its artifact may have changed since).
            try:
                self.deployments.preflight(model, [f"v{row['canary_version']}"])
            except Conflict as e:
                decision, why = Decision.ABORT, f"aborted before step {index + 2}: {e.message}"
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
                return _rollout(fresh or row)  # changed by an operator meanwhile
            own = self._own(fresh)
            if own is None:
                self._interrupt_unseen(conn, fresh)
                return _rollout(repo.get(conn, row["id"]) or fresh)
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
                    rev = self._set_weight(
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
                rev = self._restore(
                    conn, row, "controller", f"rollout {row['id']} aborted: {why}", own.revision
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
            own = self._own(row) if status.active else None
            if status.active and own is None:
                self._interrupt_unseen(conn, row)
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
                rev = self._set_weight(
                    conn, row, len(steps) - 1, actor, f"rollout {current.id} promoted: {reason}",
                    expected=own.revision,
                )  # fmt: skip
                repo.update(conn, current.id, status="completed", step_index=len(steps) - 1,
                            reason=f"promoted by {actor}: {reason}", updated_at=now)  # fmt: skip
            else:
                assert own is not None
                rev = self._restore(
                    conn, row, actor, f"rollout {current.id} aborted by {actor}: {reason}",
                    own.revision,
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

    def _own(self, row: dict[str, Any]) -> DeploymentRevision | None:
        """The current revision when it is this rollout's own (it serves the rollout's step
        map), else None: someone else changed the traffic. The owner hook ends the rollout in
        that change's transaction, so only a store written before that rule gets None here."""
        current: DeploymentRevision | None = self.deployments.current(
            row["model_id"], row["environment"]
        )
        if current is None:
            return None
        want = _step_traffic(row, int(row["step_index"]))
        have = current.traffic
        if set(have) != set(want) or any(abs(have[v] - want[v]) > 1e-9 for v in want):
            return None
        return current

    def _interrupt_unseen(self, conn: Conn, row: dict[str, Any]) -> None:
        current = self.deployments.current(row["model_id"], row["environment"])
        assert current is not None  # a rollout starts against a deployment; none is deleted
        self._interrupt(conn, row, current, None)

    def _interrupt(
        self, conn: Conn, row: dict[str, Any], rev: DeploymentRevision, writer: str | None
    ) -> None:
        now = utcnow()
        text = interruption(rev, writer)
        model, env = row["model_id"], row["environment"]
        repo.update(conn, row["id"], status=RolloutStatus.INTERRUPTED.value, reason=text,
                    updated_at=now)  # fmt: skip
        audit.append(
            conn, actor=rev.actor, action="rollout.interrupted", target=row["id"], model_id=model,
            before={"status": row["status"], "step": int(row["step_index"]) + 1},
            after={"status": RolloutStatus.INTERRUPTED.value, "revision": rev.revision,
                   "kind": rev.kind, "traffic": rev.traffic, "writer": writer},
            reason=text,
        )  # fmt: skip
        repo.add_system_event(
            conn, now, "rollout.interrupted", "warning",
            f"{model} {env}: rollout of v{row['canary_version']} {text}", model, env,
            canonical_json({"rollout": row["id"], "revision": rev.revision, "kind": rev.kind,
                            "actor": rev.actor}),
        )  # fmt: skip

    def _set_weight(
        self,
        conn: Conn,
        row: dict[str, Any],
        index: int,
        actor: str,
        reason: str,
        expected: int,
    ) -> Any:
        return self.deployments.set_traffic(
            row["model_id"], _step_traffic(row, index), row["environment"], actor=actor,
            reason=reason, kind="rollout", expected_revision=expected, conn=conn,
            owner=_writer(row["id"]),
        )  # fmt: skip

    def _restore(
        self, conn: Conn, row: dict[str, Any], actor: str, reason: str, expected: int
    ) -> Any:
        return self.deployments.set_traffic(
            row["model_id"], json.loads(row["stable_traffic"]), row["environment"], actor=actor,
            reason=reason, kind="abort", expected_revision=expected, conn=conn,
            mark_unhealthy=reason, owner=_writer(row["id"]), preflight=False,
        )  # fmt: skip


def _writer(rollout_id: str) -> str:
    """How a rollout names itself as the writer of a revision (`TrafficOwner.writer`)."""
    return f"rollout:{rollout_id}"


def _step_traffic(row: dict[str, Any], index: int) -> dict[str, float]:
    """The map of step `index`: the canary at its weight, the stable map scaled to the rest."""
    weight = json.loads(row["steps"])[index] / 100.0
    stable = json.loads(row["stable_traffic"])
    canary = f"v{row['canary_version']}"
    traffic = {v: w * (1.0 - weight) for v, w in stable.items()}
    traffic[canary] = traffic.get(canary, 0.0) + weight
    return validate_traffic({v: w for v, w in traffic.items() if w > 0})


def _check_steps(steps: list[float]) -> list[float]:
    if not steps:
        raise InvalidInput("--steps needs at least one weight, e.g. 5,25,50,100")
    out = []
    for s in steps:
        if isinstance(s, bool) or not isinstance(s, int | float) or not 0 < s <= 100:
            raise InvalidInput(f"step {s!r} must be a percentage in (0, 100]")
        out.append(float(s))
    if any(b <= a for a, b in itertools.pairwise(out)):
        raise InvalidInput("--steps must increase, e.g. 5,25,50,100")
    if out[-1] != 100:
        raise InvalidInput(
            "the last step must be 100 (the rollout ends with the canary serving everything)"
        )
    return out


def _rollout(row: dict[str, Any]) -> Rollout:
    return Rollout(
        id=row["id"],
        model_id=row["model_id"],
        environment=Environment(row["environment"]),
        canary_version=f"v{row['canary_version']}",
        stable_traffic=json.loads(row["stable_traffic"]),
        steps=json.loads(row["steps"]),
        step_index=int(row["step_index"]),
        interval_s=float(row["interval_s"]),
        guardrails=json.loads(row["guardrails"]),
        failure_limit=int(row["failure_limit"]),
        min_samples=int(row["min_samples"]),
        status=RolloutStatus(row["status"]),
        started_at=as_utc(row["started_at"]),
        step_started_at=as_utc(row["step_started_at"]),
        actor=row["actor"],
        reason=row["reason"],
        failures=int(row["failures"]),
        analyses=json.loads(row["analyses"]),
    )
