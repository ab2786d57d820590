"""The analysis gate at the end of a rollout step: the canary's guardrails measured over the
step's window (`core.rollout.guardrails`), folded into a decision, with what broke named on an
abort and the canary pre-flighted before it takes more traffic."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from core.clock import as_utc
from core.errors import Conflict
from core.monitoring.window import errors_named, window_metrics
from core.rollout.guardrails import AnalysisResult, Decision, analyse, decide, parse_guardrail
from storage.store import Store


def measure(
    store: Store, registry: Any, deployments: Any, row: dict[str, Any], now: datetime
) -> tuple[Decision, int, str, AnalysisResult]:
    """(decision, failures so far, why, the analysis) for the rollout `row`'s current step,
    measured from its start to `now`."""
    model, env = row["model_id"], row["environment"]
    task = registry.get_model(model).task
    start = as_utc(row["step_started_at"])
    values = window_metrics(
        store, model, task, start, now, version=int(row["canary_version"]), environment=env
    )
    guardrails = [parse_guardrail(g) for g in json.loads(row["guardrails"])]
    result = analyse(guardrails, values, int(row["min_samples"]))
    decision, failures, why = decide(result, int(row["failures"]), int(row["failure_limit"]))
    if decision is Decision.ABORT:  # say what broke, not only that a number did
        named = errors_named(
            store, model, start, now, version=int(row["canary_version"]), environment=env
        )
        why = f"{why}; v{row['canary_version']} {named}" if named else why
    steps = json.loads(row["steps"])
    index = int(row["step_index"])
    if decision is Decision.PROMOTE_STEP and index + 1 < len(steps):
        # The guardrails held on what the canary served, but a step sends it more
        # traffic: it must load and answer now (its artifact may have changed since).
        try:
            deployments.preflight(model, [f"v{row['canary_version']}"])
        except Conflict as e:
            decision, why = Decision.ABORT, f"aborted before step {index + 2}: {e.message}"
    return decision, failures, why, result
