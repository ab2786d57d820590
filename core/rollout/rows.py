"""Rows of the `rollouts` table: the row a start writes, the step maps it implies, and the seed's
`Rollout` a caller sees."""

from __future__ import annotations

import itertools
import json
from datetime import datetime
from typing import Any, cast

from core.clock import as_utc
from core.domain import Environment, Rollout, RolloutStatus
from core.errors import InvalidInput
from core.jsonable import canonical_json
from core.traffic import validate_traffic


def step_traffic(row: dict[str, Any], index: int) -> dict[str, float]:
    """The map of step `index`: the canary at its weight, the stable map scaled to the rest."""
    weight = json.loads(row["steps"])[index] / 100.0
    stable = json.loads(row["stable_traffic"])
    canary = f"v{row['canary_version']}"
    traffic = {v: w * (1.0 - weight) for v, w in stable.items()}
    traffic[canary] = traffic.get(canary, 0.0) + weight
    return validate_traffic({v: w for v, w in traffic.items() if w > 0})


def check_steps(steps: list[float]) -> list[float]:
    """The step weights as floats, or InvalidInput: percentages in (0, 100], increasing, the
    last one 100."""
    if not steps:
        raise InvalidInput("--steps needs at least one weight, e.g. 5,25,50,100")
    out: list[float] = []
    for s in steps:
        # Checked although typed: callers outside the type checker may pass anything.
        if isinstance(s, bool) or not isinstance(cast(object, s), int | float) or not 0 < s <= 100:
            raise InvalidInput(f"step {s!r} must be a percentage in (0, 100]")
        out.append(float(s))
    if any(b <= a for a, b in itertools.pairwise(out)):
        raise InvalidInput("--steps must increase, e.g. 5,25,50,100")
    if out[-1] != 100:
        raise InvalidInput(
            "the last step must be 100 (the rollout ends with the canary serving everything)"
        )
    return out


def new_row(
    rollout_id: str, model: str, env: str, canary: int, stable: dict[str, float],
    steps: list[float], interval_s: float, guardrails: list[str], failure_limit: int,
    min_samples: int, actor: str, reason: str, now: datetime,
) -> dict[str, Any]:  # fmt: skip
    """The row of a rollout that starts now, running at its first step."""
    return {
        "id": rollout_id,
        "model_id": model,
        "environment": env,
        "canary_version": canary,
        "stable_traffic": canonical_json(stable),
        "steps": canonical_json(steps),
        "step_index": 0,
        "interval_s": float(interval_s),
        "guardrails": canonical_json(guardrails),
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


def rollout_of(row: dict[str, Any]) -> Rollout:
    """The seed's `Rollout` view of a row."""
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
