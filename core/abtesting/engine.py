"""`ABTestingEngine`: experiments between versions of one model on real prediction logs.

A running test owns the model's traffic map in its environment: `start` sets it to the
split (kind "ab-test") and records the map it replaced as the one to return to (a resume takes
whatever serves then), `update_traffic_split` changes it compare-and-set on the revision the
test last wrote, `pause`/`stop` return to that map, `promote_winner` sends 100% to the winner
(kind "promote"). Every change and its audit record commit in one transaction.

A revision by anyone else (a deploy, a traffic change, a rollback, a rollout) ends the running
test as `interrupted` inside that revision's own transaction (the engine is an owner hook of
`DeploymentManager`, `core.deployments.owners`), naming the revision, its kind and actor: the
test never writes its old split back over the newer map. A paused test owns nothing (the map
it returned to is anyone's to change) and is left alone. Pause and stop always work: on an
interrupted test they change nothing; on a running test whose map changed without the hook
seeing it (a store written before this rule) they end it as interrupted instead of restoring.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from core import audit
from core.abtesting.analysis import TestResults, analyse, arm_sums
from core.abtesting.config import ABTestConfig, check_split
from core.clock import as_utc, utcnow
from core.deployments.owners import TrafficOwner, interruption
from core.domain import ABTest, DeploymentRevision, Environment, TestStatus
from core.errors import Conflict, IllegalTransition, InvalidInput, NotFound
from core.jsonable import canonical_json, to_jsonable
from core.lifecycle import DEPLOYABLE
from core.serving.splitter import describe, validate_traffic
from storage.conn import Conn
from storage.repos import abtests as repo
from storage.repos import rollouts as rollouts_repo
from storage.store import Store

log = logging.getLogger(__name__)

_ALLOWED = {
    "start": {TestStatus.DRAFT, TestStatus.PAUSED},
    "pause": {TestStatus.RUNNING},
    "stop": {TestStatus.DRAFT, TestStatus.RUNNING, TestStatus.PAUSED},
    "split": {TestStatus.DRAFT, TestStatus.RUNNING, TestStatus.PAUSED},
    "promote": {TestStatus.RUNNING, TestStatus.PAUSED},
}


class ABTestingEngine:
    def __init__(
        self,
        store: Store,
        registry: Any,
        deployments: Any,
        *,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.registry = registry
        self.deployments = deployments
        self._now = now
        deployments.add_owner_hook(self)

    # --- as the owner of traffic (called by DeploymentManager) --------------------------

    def traffic_owner(self, conn: Conn, model: str, environment: str) -> TrafficOwner | None:
        """The running test of this model and environment (a paused one owns nothing)."""
        row = repo.active_for_model(conn, model, environment)
        if row is None or row["status"] != TestStatus.RUNNING.value:
            return None
        split = json.loads(row["split"])
        traffic = {v: p / 100.0 for v, p in split.items() if p > 0}
        return TrafficOwner(
            kind="abtest", id=row["id"], status=row["status"], model_id=model,
            environment=environment, traffic=traffic,
            summary=f"A/B test {row['id']} \"{row['name']}\" (running, {describe(traffic)})",
        )  # fmt: skip

    def interrupt(self, conn: Conn, rev: DeploymentRevision, writer: str | None) -> None:
        """A new revision: unless this model's running test wrote it, the test ends here."""
        row = repo.active_for_model(conn, rev.model_id, rev.environment.value)
        if row is None or row["status"] != TestStatus.RUNNING.value:
            return
        if writer == _writer(row["id"]):
            return
        self._interrupt(conn, row, rev, writer)

    # --- reads --------------------------------------------------------------------------

    def get(self, test_id: str) -> ABTest:
        return _abtest(self._row(test_id))

    def get_config(self, test_id: str) -> ABTestConfig:
        return _config(self._row(test_id))

    def list_tests(self, model: str | None = None) -> list[ABTest]:
        if model is not None:
            self.registry.get_model(model)
        with self.store.read() as conn:
            return [_abtest(r) for r in repo.list_all(conn, model)]

    def analyze_test_results(self, test_id: str) -> TestResults:
        """Fresh analysis of a draft/running/paused test; the frozen one once it has ended."""
        row = self._row(test_id)
        status = TestStatus(row["status"])
        if status is TestStatus.DRAFT:
            raise IllegalTransition(f"A/B test {test_id} is a draft: start it before analysing")
        return self._analyse(row)

    # --- commands -----------------------------------------------------------------------

    def create_ab_test(self, config: ABTestConfig, *, actor: str, reason: str = "") -> ABTest:
        if not isinstance(config, ABTestConfig):
            raise InvalidInput("create_ab_test needs an ABTestConfig")
        model = self.registry.get_model(config.model)  # NotFound
        cfg = config.checked(model.task)
        for v in cfg.versions:
            mv = self.registry.get_version(cfg.model, v)  # NotFound
            if mv.status not in DEPLOYABLE:
                raise IllegalTransition(
                    f"{cfg.model}:{v} is {mv.status}: only validated versions can be A/B tested"
                )
        self.deployments.preflight(cfg.model, list(cfg.versions))  # each arm loads and answers
        now = self._now()
        test_id = f"ab-{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
        row = {
            "id": test_id,
            "model_id": cfg.model,
            "name": cfg.name,
            "environment": cfg.environment,
            "versions": canonical_json(cfg.versions),
            "split": canonical_json(cfg.split),
            "config": canonical_json(cfg.to_json()),
            "status": TestStatus.DRAFT.value,
            "pre_test_traffic": None,
            "periods": "[]",
            "results": None,
            "winner": None,
            "owned_revision": None,
            "created_by": actor,
            "reason": reason,
            "created_at": now,
            "started_at": None,
            "ended_at": None,
            "updated_at": now,
        }
        with self.store.write() as conn:
            repo.insert(conn, row)
            audit.append(
                conn, actor=actor, action="abtest.create", target=test_id, model_id=cfg.model,
                after={"name": cfg.name, "versions": cfg.versions, "split": cfg.split,
                       **cfg.to_json()}, reason=reason, at=now,
            )  # fmt: skip
        return self.get(test_id)

    def start(self, test_id: str, *, actor: str = "system", reason: str = "") -> ABTest:
        """Draft → running (takes over the traffic map); paused → running (resumes)."""
        pending = self._row(test_id)  # its arms load and answer before the transaction
        if TestStatus(pending["status"]) in _ALLOWED["start"]:
            serving = [v for v, p in (_config(pending).split or {}).items() if p > 0]
            self.deployments.preflight(pending["model_id"], serving)
        now = self._now()
        rev = None
        with self.store.write() as conn:
            row = self._check(conn, test_id, "start")
            cfg = _config(row)
            model, env = row["model_id"], row["environment"]
            resuming = TestStatus(row["status"]) is TestStatus.PAUSED
            current = self.deployments.current(model, env)
            other = repo.active_for_model(conn, model, env)
            if other is not None and other["id"] != test_id:
                raise Conflict(
                    f"{model} {env} already has A/B test {other['id']} ({other['status']});"
                    " stop it first"
                )
            ro = rollouts_repo.latest(conn, model, env)
            if ro is not None and ro["status"] in ("running", "paused"):
                raise Conflict(f"{model} {env} has rollout {ro['id']} in progress ({ro['status']})")
            target = {v: p / 100.0 for v, p in (cfg.split or {}).items()}
            serving = {v: w for v, w in validate_traffic(target).items() if w > 0}
            if current is not None and current.traffic == serving:
                owned = current  # the split serves already: the test takes it over as it is
            else:
                rev = owned = self.deployments.set_traffic(
                    model, target, env, actor=actor,
                    reason=f"A/B test {test_id} {'resumed' if resuming else 'started'}"
                           + (f": {reason}" if reason else ""),
                    kind="ab-test", expected_revision=current.revision if current else 0,
                    conn=conn, owner=_writer(test_id),
                )  # fmt: skip
            periods = json.loads(row["periods"])
            periods.append({"start": now.isoformat(), "end": None, "split": cfg.split})
            # What pause and stop return to: the map this start or resume replaced (a paused
            # test owns nothing, so by a resume that may be someone else's newer map).
            update: dict[str, Any] = {
                "status": TestStatus.RUNNING.value,
                "periods": canonical_json(periods),
                "owned_revision": owned.revision,
                "pre_test_traffic": canonical_json(current.traffic) if current else None,
                "updated_at": now,
            }
            if not resuming:
                update["started_at"] = now
            repo.update(conn, test_id, **update)
            audit.append(
                conn, actor=actor, action="abtest.resume" if resuming else "abtest.start",
                target=test_id, model_id=model, before={"traffic": current.traffic if current else None},
                after={"traffic": owned.traffic, "revision": owned.revision}, reason=reason, at=now,
            )  # fmt: skip
        if rev is not None:
            self.deployments.notify(rev)
        return self.get(test_id)

    def pause(self, test_id: str, *, actor: str = "system", reason: str = "") -> ABTest:
        """Running → paused: exposure stops (the map from before the test, or from before the
        last resume, serves again); `start` resumes. An interrupted test is left as it is."""
        return self._end(test_id, "pause", TestStatus.PAUSED, actor, reason)

    def stop(self, test_id: str, *, actor: str = "system", reason: str = "") -> ABTest:
        """→ stopped: returns to the map from before the test and freezes the results. An
        interrupted test is left as it is (it has ended already)."""
        return self._end(test_id, "stop", TestStatus.STOPPED, actor, reason)

    def update_traffic_split(
        self,
        test_id: str,
        split_percent: dict[str, float],
        *,
        actor: str = "system",
        reason: str = "",
    ) -> bool:
        """Change the split (percent per version). Returns False when it is already in force."""
        pending = self._row(test_id)
        if TestStatus(pending["status"]) is TestStatus.RUNNING:  # its arms serve at once
            new = check_split(list(_config(pending).versions), dict(split_percent))
            self.deployments.preflight(pending["model_id"], [v for v, p in new.items() if p > 0])
        now = self._now()
        rev = None
        interrupted = None
        with self.store.write() as conn:
            row = self._check(conn, test_id, "split")
            cfg = _config(row)
            new = check_split(list(cfg.versions), dict(split_percent))
            if new == cfg.split:
                return False
            status = TestStatus(row["status"])
            update: dict[str, Any] = {"split": canonical_json(new), "updated_at": now}
            outside = self._outside(conn, row) if status is TestStatus.RUNNING else None
            if outside is not None:
                interrupted = self._interrupt(conn, row, outside, None)
            elif status is TestStatus.RUNNING:
                rev = self.deployments.set_traffic(
                    row["model_id"], {v: p / 100.0 for v, p in new.items()}, row["environment"],
                    actor=actor, reason=f"A/B test {test_id} split" + (f": {reason}" if reason else ""),
                    kind="ab-test", expected_revision=row["owned_revision"], conn=conn,
                    owner=_writer(test_id),
                )  # fmt: skip
                periods = json.loads(row["periods"])
                periods[-1]["end"] = now.isoformat()
                periods.append({"start": now.isoformat(), "end": None, "split": new})
                update.update(periods=canonical_json(periods), owned_revision=rev.revision)
            if interrupted is None:
                repo.update(conn, test_id, **update)
                audit.append(
                    conn, actor=actor, action="abtest.split", target=test_id,
                    model_id=row["model_id"], before={"split": cfg.split}, after={"split": new},
                    reason=reason, at=now,
                )  # fmt: skip
        if interrupted is not None:
            raise IllegalTransition(
                f"A/B test {test_id} was {interrupted}; its split was not changed"
            )
        if rev is not None:
            self.deployments.notify(rev)
        return True

    def promote_winner(
        self, test_id: str, *, actor: str = "system", force: bool = False, reason: str = ""
    ) -> DeploymentRevision:
        """100% to the winner, test completed with frozen results. Only when the analysis
        recommends it (primary significant for the winner, guardrails hold, no SRM); with
        `force` (a reason is then required) the arm with the best observed primary mean."""
        self._reconcile(test_id)  # a running test whose map someone else changed has ended
        row = self._row(test_id)
        if TestStatus(row["status"]) not in _ALLOWED["promote"]:
            was = row["status"] == TestStatus.INTERRUPTED.value
            raise IllegalTransition(
                f"A/B test {test_id} {'was ' + row['reason'] if was else 'is ' + row['status']}:"
                " only a running or paused test can be promoted"
            )
        results = self._analyse(row)
        winner = results.winner
        if winner is None:
            if not force:
                raise IllegalTransition(
                    f"cannot promote A/B test {test_id}: {results.recommendation}"
                    " (use force with a reason to override)"
                )
            if not reason.strip():
                raise InvalidInput("a forced promotion needs a reason")
            cfg = _config(row)
            sign = 1 if _higher(cfg.primary_metric) else -1
            means = {v: a[cfg.primary_metric].mean for v, a in results.arms.items()}
            known = {v: m for v, m in means.items() if m is not None}
            if not known:
                raise IllegalTransition(f"cannot promote A/B test {test_id}: no data on any arm")
            winner = max(known, key=lambda v: sign * known[v])
        self.deployments.preflight(row["model_id"], [winner])  # it takes everything
        now = self._now()
        interrupted = None
        with self.store.write() as conn:
            fresh = self._check(conn, test_id, "promote")
            if fresh["periods"] != row["periods"] or fresh["status"] != row["status"]:
                raise Conflict(f"A/B test {test_id} changed during the analysis; retry")
            outside = None
            if TestStatus(fresh["status"]) is TestStatus.RUNNING:
                outside = self._outside(conn, fresh)
            if outside is not None:
                interrupted = self._interrupt(conn, fresh, outside, None)
            else:
                rev = self._promote(conn, fresh, winner, results, force, actor, reason, now)
        if interrupted is not None:
            raise IllegalTransition(f"A/B test {test_id} was {interrupted}; nothing promoted")
        self.deployments.notify(rev)
        return rev

    def _promote(
        self, conn: Conn, row: dict[str, Any], winner: str, results: TestResults, force: bool,
        actor: str, reason: str, now: datetime,
    ) -> DeploymentRevision:  # fmt: skip
        test_id, model = row["id"], row["model_id"]
        current = self.deployments.current(model, row["environment"])
        text = f"A/B test {test_id} promoted {winner}: {results.recommendation}"
        if force:
            text += f" (forced: {reason})"
        rev: DeploymentRevision = self.deployments.set_traffic(
            model, {winner: 1.0}, row["environment"], actor=actor, reason=text, kind="promote",
            expected_revision=current.revision if current else 0, conn=conn, owner=_writer(test_id),
        )  # fmt: skip
        repo.update(
            conn, test_id, status=TestStatus.COMPLETED.value, winner=winner,
            periods=canonical_json(_closed(json.loads(row["periods"]), now)),
            results=canonical_json(to_jsonable(results)), owned_revision=rev.revision,
            ended_at=now, updated_at=now, reason=text,
        )  # fmt: skip
        audit.append(
            conn, actor=actor, action="abtest.promote", target=test_id, model_id=model,
            before={"traffic": current.traffic if current else None},
            after={"winner": winner, "revision": rev.revision, "forced": force,
                   "recommendation": results.recommendation}, reason=reason or text, at=now,
        )  # fmt: skip
        return rev

    def tick(self) -> list[ABTest]:
        """For a controller loop: stop tests past max_duration_s that reached no decision,
        promote winners of tests with auto_promote, and end as interrupted a running test
        whose map someone else changed unseen. Returns the tests it changed."""
        with self.store.read() as conn:
            rows = repo.running(conn)
        changed = []
        for row in rows:
            try:
                if self._reconcile(row["id"]):
                    changed.append(self.get(row["id"]))
                    continue
                cfg = _config(row)
                results = self._analyse(row)
                if cfg.auto_promote and results.winner is not None:
                    self.promote_winner(row["id"], actor="controller")
                elif results.recommendation.startswith(("stop:", "blocked:")) and (
                    results.recommendation.startswith("stop: guardrail")
                    or _expired(row, cfg, self._now())
                ):
                    self.stop(row["id"], actor="controller", reason=results.recommendation)
                else:
                    continue
                changed.append(self.get(row["id"]))
            except Exception:
                log.exception("A/B test %s: tick failed", row["id"])
        return changed

    # --- internals ----------------------------------------------------------------------

    def _row(self, test_id: str) -> dict[str, Any]:
        with self.store.read() as conn:
            row = repo.get(conn, test_id)
        if row is None:
            raise NotFound(f"no A/B test {test_id!r}")
        return row

    def _check(self, conn: Conn, test_id: str, action: str) -> dict[str, Any]:
        row = repo.get(conn, test_id)
        if row is None:
            raise NotFound(f"no A/B test {test_id!r}")
        status = TestStatus(row["status"])
        if status not in _ALLOWED[action]:
            allowed = " or ".join(sorted(s.value for s in _ALLOWED[action]))
            verb = {"split": "change the split of", "start": "start"}.get(action, action)
            if status is TestStatus.INTERRUPTED:
                raise IllegalTransition(
                    f"cannot {verb} A/B test {test_id}: it was {row['reason']}; it has ended"
                )
            raise IllegalTransition(
                f"cannot {verb} A/B test {test_id}: it is {status.value} (needs {allowed})"
            )
        return row

    def _outside(self, conn: Conn, row: dict[str, Any]) -> DeploymentRevision | None:
        """The first revision someone else wrote over this running test's map, if any (the
        owner hook ends the test in that revision's transaction, so this finds only changes
        made before that rule: the test is then ended here instead)."""
        owned = row["owned_revision"]
        current = self.deployments.current(row["model_id"], row["environment"])
        if owned is None or current is None or current.revision == owned:
            return None
        first = self.deployments.revision(
            row["model_id"], row["environment"], int(owned) + 1, conn=conn
        )
        return first or current

    def _interrupt(
        self, conn: Conn, row: dict[str, Any], rev: DeploymentRevision, writer: str | None
    ) -> str:
        """End a running test as interrupted by `rev`; returns the reason it records."""
        now = self._now()
        text = interruption(rev, writer)
        test_id, model, env = row["id"], row["model_id"], row["environment"]
        # Exposure under the test ended with that revision, not when this runs.
        end = min(now, rev.created_at)
        repo.update(
            conn, test_id, status=TestStatus.INTERRUPTED.value,
            periods=canonical_json(_closed(json.loads(row["periods"]), end)), ended_at=end,
            updated_at=now, reason=text,
        )  # fmt: skip
        audit.append(
            conn, actor=rev.actor, action="abtest.interrupted", target=test_id, model_id=model,
            before={"status": row["status"], "revision": row["owned_revision"]},
            after={"status": TestStatus.INTERRUPTED.value, "revision": rev.revision,
                   "kind": rev.kind, "traffic": rev.traffic, "writer": writer},
            reason=text, at=now,
        )  # fmt: skip
        rollouts_repo.add_system_event(
            conn, now, "abtest.interrupted", "warning",
            f"{model} {env}: A/B test {test_id} ({row['name']}) {text}", model, env,
            canonical_json({"test": test_id, "revision": rev.revision, "kind": rev.kind,
                            "actor": rev.actor}),
        )  # fmt: skip
        return text

    def _reconcile(self, test_id: str) -> bool:
        """End a running test whose map someone else changed unseen; True if it did."""
        with self.store.read() as conn:
            row = repo.get(conn, test_id)
            if row is None or row["status"] != TestStatus.RUNNING.value:
                return False
            if self._outside(conn, row) is None:
                return False
        with self.store.write() as conn:
            row = repo.get(conn, test_id)
            if row is None or row["status"] != TestStatus.RUNNING.value:
                return False
            outside = self._outside(conn, row)
            if outside is None:
                return False
            self._interrupt(conn, row, outside, None)
            return True

    def _end(
        self, test_id: str, action: str, status: TestStatus, actor: str, reason: str
    ) -> ABTest:
        now = self._now()
        row = self._row(test_id)
        if row["status"] == TestStatus.INTERRUPTED.value:
            return _abtest(row)  # ended already: nothing to pause or stop, nothing to restore
        frozen = None
        if status is TestStatus.STOPPED and row["status"] != TestStatus.DRAFT.value:
            try:
                frozen = canonical_json(to_jsonable(self._analyse(row)))
            except Exception:  # a test without data still stops
                log.exception("A/B test %s: final analysis failed", test_id)
        rev = None
        with self.store.write() as conn:
            fresh = repo.get(conn, test_id)
            if fresh is not None and fresh["status"] == TestStatus.INTERRUPTED.value:
                return _abtest(fresh)  # interrupted meanwhile
            fresh = self._check(conn, test_id, action)
            if fresh["periods"] != row["periods"]:
                frozen = None  # changed meanwhile: do not freeze a stale analysis
            was = TestStatus(fresh["status"])
            outside = self._outside(conn, fresh) if was is TestStatus.RUNNING else None
            if outside is not None:
                # Someone else's map serves: end the test over it, never restore over it.
                self._interrupt(conn, fresh, outside, None)
                return _abtest(repo.get(conn, test_id) or fresh)
            update: dict[str, Any] = {"status": status.value, "updated_at": now}
            if was is TestStatus.RUNNING:
                current = self.deployments.current(fresh["model_id"], fresh["environment"])
                rev = self._restore(conn, fresh, current, actor, f"A/B test {test_id} {action}"
                                    + (f": {reason}" if reason else ""))  # fmt: skip
                update["periods"] = canonical_json(_closed(json.loads(fresh["periods"]), now))
                if rev is not None:
                    update["owned_revision"] = rev.revision
            if status is TestStatus.STOPPED:
                update.update(ended_at=now, results=frozen, reason=reason)
            repo.update(conn, test_id, **update)
            audit.append(
                conn, actor=actor, action=f"abtest.{action}", target=test_id,
                model_id=fresh["model_id"], before={"status": was.value},
                after={"status": status.value, "traffic": rev.traffic if rev else None},
                reason=reason, at=now,
            )  # fmt: skip
        if rev is not None:
            self.deployments.notify(rev)
        return self.get(test_id)

    def _restore(
        self, conn: Conn, row: dict[str, Any], current: DeploymentRevision | None, actor: str,
        reason: str,
    ) -> DeploymentRevision | None:  # fmt: skip
        """Back to the map the test replaced; if a version of it can no longer serve (archived
        meanwhile, say), the control at 100%, so that pause and stop still work."""
        before = json.loads(row["pre_test_traffic"]) if row["pre_test_traffic"] else None
        control = {json.loads(row["versions"])[0]: 1.0}
        targets = [before, control] if before and before != control else [control]
        text = reason
        for i, target in enumerate(targets):
            if current is not None and current.traffic == target:
                return None
            try:
                rev: DeploymentRevision = self.deployments.set_traffic(
                    row["model_id"], target, row["environment"], actor=actor, reason=text,
                    kind="ab-test", expected_revision=current.revision if current else 0,
                    conn=conn, owner=_writer(row["id"]), preflight=False,
                )  # fmt: skip
                return rev
            except (IllegalTransition, NotFound) as e:
                if i == len(targets) - 1:
                    raise
                text = (
                    f"{reason} (the map from before the test, {describe(target)}, cannot serve:"
                    f" {e.message}; the control takes 100%)"
                )
        return None

    def _analyse(self, row: dict[str, Any]) -> TestResults:
        cfg = _config(row)
        task = self.registry.get_model(row["model_id"]).task
        now = self._now()
        periods = json.loads(row["periods"])
        with self.store.read() as conn:
            sums = arm_sums(conn, cfg, task, periods, now)
        started = as_utc(row["started_at"]) if row["started_at"] else None
        return analyse(row["id"], cfg, sums, periods, now=now, started_at=started)


def _higher(metric: str) -> bool:
    from core.abtesting.config import METRICS

    return METRICS[metric].higher_is_better


def _expired(row: dict[str, Any], cfg: ABTestConfig, now: datetime) -> bool:
    if cfg.max_duration_s is None or row["started_at"] is None:
        return False
    return (now - as_utc(row["started_at"])).total_seconds() >= cfg.max_duration_s


def _closed(periods: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    if periods and periods[-1].get("end") is None:
        periods[-1]["end"] = now.isoformat()
    return periods


def _config(row: dict[str, Any]) -> ABTestConfig:
    cfg = json.loads(row["config"])
    return ABTestConfig.from_row(row, cfg, json.loads(row["split"]), json.loads(row["versions"]))


def _abtest(row: dict[str, Any]) -> ABTest:
    cfg = json.loads(row["config"])
    results = json.loads(row["results"]) if row["results"] else None
    return ABTest(
        id=row["id"],
        name=row["name"],
        model_id=row["model_id"],
        model_versions=json.loads(row["versions"]),
        traffic_split=json.loads(row["split"]),
        success_metrics=[cfg["primary_metric"], *cfg["secondary_metrics"]],
        status=TestStatus(row["status"]),
        created_at=as_utc(row["created_at"]),
        results=results,
        environment=Environment(row["environment"]),
        reason=row["reason"] or "",
        ended_at=as_utc(row["ended_at"]) if row["ended_at"] else None,
    )


def _writer(test_id: str) -> str:
    """How a test names itself as the writer of a revision (`TrafficOwner.writer`)."""
    return f"abtest:{test_id}"


__all__ = ["ABTestingEngine"]
