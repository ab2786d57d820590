"""Where traffic began: the first event of a model (or version) after a silence."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.conn import Conn


def onsets(
    conn: Conn,
    since: datetime,
    start: datetime,
    end: datetime,
    *,
    model_id: str | None = None,
    environment: str | None = None,
    by_version: bool = False,
) -> list[dict[str, Any]]:
    """`{"model_id", "version", "first"}` for each model (and version, `by_version`) whose
    first event in [since, end) falls in [start, end): its traffic began inside [start, end)
    after at least `start - since` of silence. Those with an event in [since, start), or
    none at all, are absent. One scan of the ts column over [since, end), pruned by its zone
    maps; `version` is null unless `by_version`."""
    where = ["ts >= $since", "ts < $end"]
    params: dict[str, Any] = {"since": since, "start": start, "end": end}
    if model_id is not None:
        where.append("model_id = $model")
        params["model"] = model_id
    if environment is not None:
        where.append("environment = $env")
        params["env"] = environment
    version = "version" if by_version else "NULL::INTEGER AS version"
    return conn.rows(
        f"""SELECT model_id, {version}, min(ts) AS first FROM prediction_events
            WHERE {" AND ".join(where)} GROUP BY ALL HAVING min(ts) >= $start""",
        params,
    )
