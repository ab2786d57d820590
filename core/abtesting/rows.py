"""Rows of the `abtests` table read as the engine's types, and the row fields it derives.

The config, split, versions and periods are stored as canonical JSON text; these turn them back
into `ABTestConfig` and the seed's `ABTest`, and close or time out a test's exposure periods.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from core.abtesting.config import METRICS, ABTestConfig
from core.clock import as_utc
from core.domain import ABTest, Environment, TestStatus
from core.jsonable import canonical_json


def higher(metric: str) -> bool:
    """Whether a larger value of `metric` is better (which way a forced promotion picks)."""
    return METRICS[metric].higher_is_better


def expired(row: dict[str, Any], cfg: ABTestConfig, now: datetime) -> bool:
    """The test has run for its `max_duration_s` (never, without one or before it starts)."""
    if cfg.max_duration_s is None or row["started_at"] is None:
        return False
    return (now - as_utc(row["started_at"])).total_seconds() >= cfg.max_duration_s


def closed(periods: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """`periods` with the open last one ended at `now` (changed in place and returned)."""
    if periods and periods[-1].get("end") is None:
        periods[-1]["end"] = now.isoformat()
    return periods


def config_of(row: dict[str, Any]) -> ABTestConfig:
    """The test's configuration as stored, with its current split and versions."""
    cfg = json.loads(row["config"])
    return ABTestConfig.from_row(row, cfg, json.loads(row["split"]), json.loads(row["versions"]))


def abtest_of(row: dict[str, Any]) -> ABTest:
    """The seed's `ABTest` view of a row (results are the frozen ones, if any)."""
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


def draft_row(
    test_id: str, cfg: ABTestConfig, actor: str, reason: str, now: datetime
) -> dict[str, Any]:
    """The row of a new test: a draft that owns nothing and has no exposure yet."""
    return {
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
