"""`DeploymentManager`: per model and environment, a history of traffic-map revisions.

Like a Kubernetes Deployment's revisions: every change (deploy, traffic split, rollout step,
abort, rollback) appends a revision `{version: weight}` with actor, time and reason; a rollback
is a new revision equal to an earlier one, so history is never rewritten. Concurrent changes
are compare-and-set on the revision number: exactly one wins, the others get `Conflict`.
Versions' statuses follow where they serve (production, staging, else back to validated).
Each revision names its writer (`owner`): a revision by anyone but the running A/B test or
active rollout owning that traffic ends the owner as interrupted, in the same transaction
(`core.deployments.owners`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from core import audit
from core.clock import as_utc, utcnow
from core.deployments.owners import OwnerHook, TrafficOwner
from core.domain import DeploymentRevision, Environment, ModelStatus
from core.errors import Conflict, IllegalTransition, InvalidInput, NotFound
from core.jsonable import canonical_json
from core.lifecycle import DEPLOYABLE
from core.names import version_number
from core.registry import ModelRegistry
from core.traffic import describe, validate_traffic
from storage.conn import Conn
from storage.repos import deployments as repo
from storage.repos import models as models_repo
from storage.repos import versions as versions_repo
from storage.store import Store

Listener = Callable[[DeploymentRevision], None]
Preflight = Callable[[str, list[str]], None]
"""(model, versions) → None, or raises naming the first version that cannot serve."""


def environment(name: str) -> Environment:
    try:
        return Environment(name)
    except ValueError:
        raise InvalidInput(f"unknown environment {name!r}: use staging or production") from None


class DeploymentManager:
    def __init__(self, store: Store, registry: ModelRegistry) -> None:
        self.store = store
        self.registry = registry
        self._listeners: list[Listener] = []
        self._owners: list[OwnerHook] = []
        self._lock = threading.Lock()
        self._preflight: Preflight | None = None

    def subscribe(self, listener: Listener) -> None:
        """Called after every committed revision (the serving cache listens)."""
        with self._lock:
            self._listeners.append(listener)

    def add_owner_hook(self, hook: OwnerHook) -> None:
        """An owner of traffic (A/B tests, rollouts): asked who owns a map, and told of every
        new revision inside its transaction."""
        with self._lock:
            self._owners.append(hook)

    def set_preflight(self, check: Preflight) -> None:
        """The check a version must pass before a revision sends it more traffic: load it
        afresh and have it answer smoke predictions (the serving cache provides it)."""
        self._preflight = check

    def preflight(self, model: str, versions: list[str]) -> None:
        """Raise (`Conflict`, naming the version and why) unless every one of `versions`
        can serve now. Callers that write a revision inside their own transaction call this
        before opening it, so no transaction waits on a model load."""
        if self._preflight is not None and versions:
            self._preflight(model, versions)

    # --- reads --------------------------------------------------------------------------

    def current(self, model: str, env: str) -> DeploymentRevision | None:
        e = environment(env)
        self.registry.get_model(model)
        with self.store.read() as conn:
            row = repo.current(conn, model, e.value)
        return None if row is None else _revision(row)

    def history(self, model: str, env: str | None = None) -> list[DeploymentRevision]:
        e = environment(env).value if env else None
        self.registry.get_model(model)
        with self.store.read() as conn:
            return [_revision(r) for r in repo.history(conn, model, e)]

    def all_current(self) -> list[DeploymentRevision]:
        with self.store.read() as conn:
            return [_revision(r) for r in repo.all_current(conn)]

    def revision(
        self, model: str, env: str, number: int, *, conn: Conn | None = None
    ) -> DeploymentRevision | None:
        """Revision `number` of a model's environment (in the caller's transaction with `conn`)."""
        if conn is not None:
            row = repo.get(conn, model, env, number)
        else:
            with self.store.read() as c:
                row = repo.get(c, model, env, number)
        return None if row is None else _revision(row)

    def traffic_owner(
        self, model: str, env: str, *, conn: Conn | None = None
    ) -> TrafficOwner | None:
        """The running A/B test or active rollout owning this traffic map, if any: a change
        by anyone else ends it as interrupted."""
        e = environment(env)
        if conn is not None:
            return self._owner(conn, model, e.value)
        self.registry.get_model(model)
        with self.store.read() as c:
            return self._owner(c, model, e.value)

    def _owner(self, conn: Conn, model: str, env: str) -> TrafficOwner | None:
        with self._lock:
            hooks = list(self._owners)
        for hook in hooks:
            if (owner := hook.traffic_owner(conn, model, env)) is not None:
                return owner
        return None

    # --- changes ------------------------------------------------------------------------

    def deploy(
        self, model: str, version: str, env: str, *, actor: str, reason: str = "",
        expected_revision: int | None = None,
    ) -> DeploymentRevision:  # fmt: skip
        """Send all of the environment's traffic to one version."""
        v = self.registry.get_version(model, version)
        return self.set_traffic(
            model, {v.version: 1.0}, env, actor=actor, reason=reason, kind="deploy",
            expected_revision=expected_revision,
        )  # fmt: skip

    def set_traffic(
        self,
        model: str,
        traffic: dict[str, float],
        env: str,
        *,
        actor: str,
        reason: str = "",
        kind: str = "traffic",
        expected_revision: int | None = None,
        conn: Conn | None = None,
        mark_unhealthy: str | None = None,
        owner: str | None = None,
        preflight: bool = True,
    ) -> DeploymentRevision:
        """Append a revision.

        With `conn`, the revision joins the caller's transaction and the caller must call
        `notify(rev)` after its commit (listeners must never see an uncommitted map).
        `owner` names the writer (`abtest:<id>`, `rollout:<id>`; None: an operator): the test
        or rollout owning this traffic is ended as interrupted unless it is the writer.
        Every version the new map gives more traffic than the current one must first pass
        `preflight`; only restoring a map that served before (an abort, the end of an A/B
        test) skips it (`preflight=False`), as nothing may stand in the way of ending an
        operation.
        """
        e = environment(env)
        normalised = self._normalise(model, traffic)
        if preflight and self._preflight is not None:
            if conn is not None:
                row = repo.current(conn, model, e.value)
            else:
                with self.store.read() as tx:
                    row = repo.current(tx, model, e.value)
            before: dict[str, float] = json.loads(row["traffic"]) if row else {}
            self.preflight(model, [v for v, w in normalised.items() if w > before.get(v, 0.0)])
        if conn is not None:
            return self._append(
                conn, model, e, normalised, actor, reason, kind, expected_revision, mark_unhealthy,
                owner,
            )  # fmt: skip
        with self.store.write() as tx:
            rev = self._append(
                tx, model, e, normalised, actor, reason, kind, expected_revision, mark_unhealthy,
                owner,
            )  # fmt: skip
        self.notify(rev)
        return rev

    def rollback(
        self,
        model: str,
        env: str,
        *,
        actor: str,
        reason: str,
        to_version: str | None = None,
        to_revision: int | None = None,
        dry_run: bool = False,
        expected_revision: int | None = None,
    ) -> DeploymentRevision:
        """Restore an earlier traffic map: `to_version` at 100%, revision `to_revision`'s map,
        or by default the last known good one before the current revision."""
        e = environment(env)
        if not reason.strip():
            raise InvalidInput("a rollback needs a reason (--reason)")
        if to_version is not None and to_revision is not None:
            raise InvalidInput("give --to VERSION or --revision N, not both")
        history = self.history(model, e.value)
        if not history:
            raise NotFound(f"{model} has never been deployed to {e.value}: nothing to roll back")
        current = history[-1]
        if to_version is not None:
            target = {self.registry.get_version(model, to_version).version: 1.0}
            source = f"{to_version} at 100%"
        elif to_revision is not None:
            match = next((r for r in history if r.revision == to_revision), None)
            if match is None:
                raise NotFound(f"{model} {e.value} has no revision {to_revision}")
            target = match.traffic
            source = f"revision {to_revision}"
        else:
            good = self._last_known_good(model, history)
            if good is None:
                raise Conflict(
                    f"{model} {e.value} has no earlier healthy revision to roll back to;"
                    " name one with --to VERSION or --revision N"
                )
            target, source = good.traffic, f"revision {good.revision} (last known good)"
        if target == current.traffic:
            raise Conflict(f"{model} {e.value} already serves {describe(target)}")
        text = f"rollback to {source}: {reason}"
        if dry_run:
            self._normalise(model, target)
            return DeploymentRevision(
                model_id=model, environment=e, revision=current.revision + 1, traffic=target,
                actor=actor, reason=text, created_at=utcnow(), kind="rollback",
            )  # fmt: skip
        return self.set_traffic(
            model, target, e.value, actor=actor, reason=text, kind="rollback",
            expected_revision=expected_revision if expected_revision is not None else current.revision,
            mark_unhealthy=f"rolled back: {reason}",
        )  # fmt: skip

    # --- internals ----------------------------------------------------------------------

    def _last_known_good(
        self, model: str, history: list[DeploymentRevision]
    ) -> DeploymentRevision | None:
        current = history[-1]
        statuses = {v.version: v.status for v in self.registry.list_versions(model)}
        for rev in reversed(history[:-1]):
            if not rev.healthy or rev.traffic == current.traffic:
                continue
            if all(statuses.get(v) in DEPLOYABLE for v in rev.traffic):
                return rev
        return None

    def _normalise(self, model: str, traffic: dict[str, float]) -> dict[str, float]:
        canonical: dict[str, float] = {}
        for ref, weight in traffic.items():
            number = version_number(str(ref))
            key = f"v{number}" if number is not None else str(ref)
            if key in canonical:
                raise InvalidInput(f"version {key} appears twice in the traffic map")
            canonical[key] = weight
        return validate_traffic(canonical)

    def _append(
        self,
        conn: Conn,
        model: str,
        env: Environment,
        traffic: dict[str, float],
        actor: str,
        reason: str,
        kind: str,
        expected_revision: int | None,
        mark_unhealthy: str | None,
        owner: str | None = None,
    ) -> DeploymentRevision:
        if models_repo.get(conn, model) is None:
            raise NotFound(f"model {model!r} not found")
        row = repo.current(conn, model, env.value)
        current_rev = int(row["revision"]) if row else 0
        if expected_revision is not None and expected_revision != current_rev:
            raise Conflict(
                f"{model} {env.value} changed meanwhile (revision {current_rev}, you expected"
                f" {expected_revision}); look at `mlc history {model}` and retry"
            )
        statuses = self._check_versions(conn, model, traffic)
        traffic = {v: w for v, w in traffic.items() if w > 0}  # a 0% arm is not serving
        before: dict[str, float] = json.loads(row["traffic"]) if row else {}
        if before == traffic and kind != "rollback":
            raise Conflict(f"{model} {env.value} already serves {describe(traffic)}")
        now = utcnow()
        if mark_unhealthy and row is not None:
            repo.mark_unhealthy(conn, model, env.value, current_rev, now, mark_unhealthy)
        new = {
            "model_id": model,
            "environment": env.value,
            "revision": current_rev + 1,
            "traffic": canonical_json(traffic),
            "kind": kind,
            "actor": actor,
            "reason": reason,
            "created_at": now,
        }
        repo.insert(conn, new)
        changed = self._sync_statuses(conn, model, statuses, now)
        audit.append(
            conn, actor=actor, action=f"deployment.{kind}", target=f"{model}/{env.value}",
            model_id=model, before={"revision": current_rev, "traffic": before} if row else None,
            after={"revision": current_rev + 1, "traffic": traffic, "statuses": changed},
            reason=reason,
        )  # fmt: skip
        rev = _revision({**new, "healthy": True})
        with self._lock:
            hooks = list(self._owners)
        for hook in hooks:
            hook.interrupt(conn, rev, owner)
        return rev

    def _check_versions(
        self, conn: Conn, model: str, traffic: dict[str, float]
    ) -> dict[str, ModelStatus]:
        statuses: dict[str, ModelStatus] = {}
        for version in traffic:
            row = versions_repo.get(conn, model, int(version[1:]))
            if row is None:
                raise NotFound(f"model {model!r} has no version {version}")
            status = ModelStatus(row["status"])
            if status not in DEPLOYABLE and traffic[version] > 0:
                why = {
                    ModelStatus.REJECTED: "a rejected version can never be deployed",
                    ModelStatus.REGISTERED: "a version must be validated before it is deployed",
                    ModelStatus.ARCHIVED: "an archived version must be restored to validated first",
                }[status]
                raise IllegalTransition(f"cannot deploy {model}:{version} ({status}): {why}")
            statuses[version] = status
        return statuses

    def _sync_statuses(
        self, conn: Conn, model: str, _checked: dict[str, ModelStatus], now: Any
    ) -> dict[str, str]:
        """Each version's status follows where it serves; returns what changed."""
        serving: dict[str, set[str]] = {}
        for env in Environment:
            row = repo.current(conn, model, env.value)
            serves: dict[str, float] = json.loads(row["traffic"]) if row else {}
            for version in serves:
                serving.setdefault(version, set()).add(env.value)
        changed: dict[str, str] = {}
        for row in versions_repo.list_for_model(conn, model):
            version = f"v{row['number']}"
            status = ModelStatus(row["status"])
            envs = serving.get(version, set())
            if "production" in envs:
                want = ModelStatus.PRODUCTION
            elif "staging" in envs:
                want = ModelStatus.STAGING
            elif status in (ModelStatus.PRODUCTION, ModelStatus.STAGING):
                want = ModelStatus.VALIDATED
            else:
                continue
            if want != status:
                versions_repo.set_status(
                    conn, model, int(row["number"]), want.value, "serving", now
                )
                changed[version] = want.value
        return changed

    def notify(self, rev: DeploymentRevision) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(rev)


def _revision(row: dict[str, Any]) -> DeploymentRevision:
    traffic = row["traffic"]
    return DeploymentRevision(
        model_id=row["model_id"],
        environment=Environment(row["environment"]),
        revision=int(row["revision"]),
        traffic=json.loads(traffic) if isinstance(traffic, str) else dict(traffic),
        actor=row["actor"],
        reason=row["reason"],
        created_at=as_utc(row["created_at"]),
        kind=row["kind"],
        healthy=bool(row.get("healthy", True)),
    )
