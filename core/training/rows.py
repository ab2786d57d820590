"""`training_jobs` rows read as the seed's `TrainingJob`."""

from __future__ import annotations

import json
from typing import Any

from core.clock import as_utc
from core.domain import TrainingJob, TrainingStatus


def job_of(row: dict[str, Any]) -> TrainingJob:
    """The job a row records (times as UTC, the result version as `vN`)."""

    def t(v: Any) -> Any:
        return None if v is None else as_utc(v)

    return TrainingJob(
        id=row["id"],
        model_id=row["model_id"],
        status=TrainingStatus(row["status"]),
        created_at=as_utc(row["created_at"]),
        config=json.loads(row["config"]),
        progress=float(row["progress"]),
        message=row["message"],
        started_at=t(row["started_at"]),
        finished_at=t(row["finished_at"]),
        error=row["error"],
        result_version=f"v{row['result_version']}" if row["result_version"] is not None else None,
        outcome=row["outcome"],
        trials_done=int(row["trials_done"]),
        trials_total=int(row["trials_total"]),
        best_score=row["best_score"],
        actor=row["actor"],
        config_path=row["config_path"],
    )
