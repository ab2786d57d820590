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

Beside this file: `transitions` (which status allows what), `traffic_map` (what a test writes
to the map besides its split: interruption, restore, promotion) and `rows` (stored rows read
as `ABTestConfig` and `ABTest`).
"""

# Over 400 lines: one class whose methods are the test's lifecycle (create, start, pause,
# resume, change the split, stop, promote), each under the same ownership and transaction
# rules above; what could stand alone already does, in the modules named above.

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from core import audit
from core.abtesting import traffic_map
from core.abtesting.analysis import analyse, arm_sums
from core.abtesting.config import ABTestConfig, check_split
from core.abtesting.results import TestResults
from core.abtesting.rows import abtest_of, closed, config_of, draft_row, expired, higher
from core.abtesting.transitions import ALLOWED, check_free, checked
from core.clock import as_utc, utcnow
from core.deployments.owners import TrafficOwner
from core.domain import ABTest, DeploymentRevision, TestStatus
from core.errors import Conflict, IllegalTransition, InvalidInput, NotFound
from core.jsonable import canonical_json, to_jsonable
from core.lifecycle import DEPLOYABLE
from core.traffic import validate_traffic
from storage.conn import Conn
from storage.repos import abtests as repo
from storage.store import Store

log = logging.getLogger(__name__)


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
        return traffic_map.owner(conn, model, environment)

    def interrupt(self, conn: Conn, rev: DeploymentRevision, writer: str | None) -> None:
        """A new revision: unless this model's running test wrote it, the test ends here."""
        row = repo.active_for_model(conn, rev.model_id, rev.environment.value)
        if row is None or row["status"] != TestStatus.RUNNING.value:
            return
        if writer == traffic_map.writer_of(row["id"]):
            return
        traffic_map.interrupt(conn, row, rev, writer, self._now())

    # --- reads --------------------------------------------------------------------------

    def get(self, test_id: str) -> ABTest:
        return abtest_of(self._row(test_id))

    def get_config(self, test_id: str) -> ABTestConfig:
        return config_of(self._row(test_id))

    def list_tests(self, *, model: str | None = None) -> list[ABTest]:
        if model is not None:
            self.registry.get_model(model)
        with self.store.read() as conn:
            return [abtest_of(r) for r in repo.list_all(conn, model)]

    def analyze_test_results(self, test_id: str) -> TestResults:
        """Fresh analysis of a draft/running/paused test; the frozen one once it has ended."""
        row = self._row(test_id)
        status = TestStatus(row["status"])
        if status is TestStatus.DRAFT:
            raise IllegalTransition(f"A/B test {test_id} is a draft: start it before analysing")
        return self._analyse(row)

    # --- commands -----------------------------------------------------------------------

    def create_ab_test(self, config: ABTestConfig, *, actor: str, reason: str = "") -> ABTest:
        # Checked although typed: callers outside the type checker may pass anything.
        if not isinstance(cast(object, config), ABTestConfig):
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
        row = draft_row(test_id, cfg, actor, reason, now)
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
        if TestStatus(pending["status"]) in ALLOWED["start"]:
            serving = [v for v, p in (config_of(pending).split or {}).items() if p > 0]
            self.deployments.preflight(pending["model_id"], serving)
        now = self._now()
        rev = None
        with self.store.write() as conn:
            row = checked(conn, test_id, "start")
            cfg = config_of(row)
            model, env = row["model_id"], row["environment"]
            resuming = TestStatus(row["status"]) is TestStatus.PAUSED
            current = self.deployments.current(model, env)
            check_free(conn, test_id, model, env)
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
                    conn=conn, owner=traffic_map.writer_of(test_id),
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
            new = check_split(list(config_of(pending).versions), dict(split_percent))
            self.deployments.preflight(pending["model_id"], [v for v, p in new.items() if p > 0])
        now = self._now()
        rev = None
        interrupted = None
        with self.store.write() as conn:
            row = checked(conn, test_id, "split")
            cfg = config_of(row)
            new = check_split(list(cfg.versions), dict(split_percent))
            if new == cfg.split:
                return False
            status = TestStatus(row["status"])
            update: dict[str, Any] = {"split": canonical_json(new), "updated_at": now}
            outside = (
                traffic_map.outside(self.deployments, conn, row)
                if status is TestStatus.RUNNING
                else None
            )
            if outside is not None:
                interrupted = traffic_map.interrupt(conn, row, outside, None, self._now())
            elif status is TestStatus.RUNNING:
                rev = self.deployments.set_traffic(
                    row["model_id"], {v: p / 100.0 for v, p in new.items()}, row["environment"],
                    actor=actor, reason=f"A/B test {test_id} split" + (f": {reason}" if reason else ""),
                    kind="ab-test", expected_revision=row["owned_revision"], conn=conn,
                    owner=traffic_map.writer_of(test_id),
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
        # A running test whose map someone else changed has ended.
        traffic_map.reconcile(self.store, self.deployments, self._now, test_id)
        row = self._row(test_id)
        if TestStatus(row["status"]) not in ALLOWED["promote"]:
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
            cfg = config_of(row)
            sign = 1 if higher(cfg.primary_metric) else -1
            means = {v: a[cfg.primary_metric].mean for v, a in results.arms.items()}
            known = {v: m for v, m in means.items() if m is not None}
            if not known:
                raise IllegalTransition(f"cannot promote A/B test {test_id}: no data on any arm")
            winner = max(known, key=lambda v: sign * known[v])
        self.deployments.preflight(row["model_id"], [winner])  # it takes everything
        now = self._now()
        interrupted = ""
        with self.store.write() as conn:
            fresh = checked(conn, test_id, "promote")
            if fresh["periods"] != row["periods"] or fresh["status"] != row["status"]:
                raise Conflict(f"A/B test {test_id} changed during the analysis; retry")
            outside = None
            if TestStatus(fresh["status"]) is TestStatus.RUNNING:
                outside = traffic_map.outside(self.deployments, conn, fresh)
            if outside is not None:
                # Raised only after the block: the interruption must commit.
                interrupted = traffic_map.interrupt(conn, fresh, outside, None, self._now())
                rev = None
            else:
                rev = traffic_map.promote(
                    self.deployments, conn, fresh, winner, results, force, actor, reason, now
                )
        if rev is None:
            raise IllegalTransition(f"A/B test {test_id} was {interrupted}; nothing promoted")
        self.deployments.notify(rev)
        return rev

    def tick(self) -> list[ABTest]:
        """For a controller loop: stop tests past max_duration_s that reached no decision,
        promote winners of tests with auto_promote, and end as interrupted a running test
        whose map someone else changed unseen. Returns the tests it changed."""
        with self.store.read() as conn:
            rows = repo.running(conn)
        changed: list[ABTest] = []
        for row in rows:
            try:
                if traffic_map.reconcile(self.store, self.deployments, self._now, row["id"]):
                    changed.append(self.get(row["id"]))
                    continue
                cfg = config_of(row)
                results = self._analyse(row)
                if cfg.auto_promote and results.winner is not None:
                    self.promote_winner(row["id"], actor="controller")
                elif results.recommendation.startswith(("stop:", "blocked:")) and (
                    results.recommendation.startswith("stop: guardrail")
                    or expired(row, cfg, self._now())
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

    def _end(
        self, test_id: str, action: str, status: TestStatus, actor: str, reason: str
    ) -> ABTest:
        now = self._now()
        row = self._row(test_id)
        if row["status"] == TestStatus.INTERRUPTED.value:
            return abtest_of(row)  # ended already: nothing to pause or stop, nothing to restore
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
                return abtest_of(fresh)  # interrupted meanwhile
            fresh = checked(conn, test_id, action)
            if fresh["periods"] != row["periods"]:
                frozen = None  # changed meanwhile: do not freeze a stale analysis
            was = TestStatus(fresh["status"])
            outside = (
                traffic_map.outside(self.deployments, conn, fresh)
                if was is TestStatus.RUNNING
                else None
            )
            if outside is not None:
                # Someone else's map serves: end the test over it, never restore over it.
                traffic_map.interrupt(conn, fresh, outside, None, self._now())
                return abtest_of(repo.get(conn, test_id) or fresh)
            update: dict[str, Any] = {"status": status.value, "updated_at": now}
            if was is TestStatus.RUNNING:
                current = self.deployments.current(fresh["model_id"], fresh["environment"])
                rev = traffic_map.restore(self.deployments, conn, fresh, current, actor, f"A/B test {test_id} {action}"
                                    + (f": {reason}" if reason else ""))  # fmt: skip
                update["periods"] = canonical_json(closed(json.loads(fresh["periods"]), now))
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

    def _analyse(self, row: dict[str, Any]) -> TestResults:
        cfg = config_of(row)
        task = self.registry.get_model(row["model_id"]).task
        now = self._now()
        periods = json.loads(row["periods"])
        with self.store.read() as conn:
            sums = arm_sums(conn, cfg, task, periods, now)
        started = as_utc(row["started_at"]) if row["started_at"] else None
        return analyse(row["id"], cfg, sums, periods, now=now, started_at=started)


__all__ = ["ABTestingEngine"]
