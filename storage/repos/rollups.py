"""Per-minute rollups of prediction traffic, kept up to date beside the events.

Sealing rolls up whole minutes older than `SEAL_GUARD` (by wall clock) and moves the model's
watermark; an event that arrives later for a sealed minute marks that minute dirty (in the
same transaction as the event), and queries read dirty minutes from the events until
`reroll_dirty` rebuilds them. So a per-minute query is exact at any moment: rollups where
they are known to be complete, events everywhere else, and labels always joined fresh.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import polars as pl

from storage.conn import Conn, naive_utc
from storage.repos import events
from storage.repos.late_marks import SEAL_GUARD, wall_clock

MINUTE = timedelta(minutes=1)


def _floor(t: datetime) -> datetime:
    return t.replace(second=0, microsecond=0)


def _ceil(t: datetime) -> datetime:
    floor = _floor(t)
    return floor if floor == t else floor + MINUTE


def _roll(conn: Conn, model_id: str, start: datetime, end: datetime, positive: str | None) -> None:
    conn.execute(
        """INSERT INTO event_rollups
        SELECT model_id, minute, version, requests, errors, q[1], q[2], q[3],
               value_sum, value_n, score_sum, score_n, label_n, positive_n
        FROM (
            SELECT model_id, date_trunc('minute', ts) AS minute, version,
                   count(*) AS requests, count(error) AS errors,
                   quantile_cont(latency_ms, [0.5, 0.95, 0.99]) AS q,
                   sum(value) AS value_sum, count(value) AS value_n,
                   sum(score) AS score_sum, count(score) AS score_n,
                   count(label) AS label_n, count(*) FILTER (label = $pos) AS positive_n
            FROM prediction_events
            WHERE model_id = $model AND ts >= $start AND ts < $end
            GROUP BY ALL
        )""",
        {"model": model_id, "start": start, "end": end, "pos": positive},
    )


def seal(
    conn: Conn,
    model_id: str,
    positive: str | None,
    *,
    now: datetime | None = None,
    max_span: timedelta = timedelta(hours=6),
) -> datetime | None:
    """Roll up the whole minutes from the watermark to `now` - SEAL_GUARD, at most
    `max_span` of them per call (one call is one short transaction); return the new
    watermark, or None when the model has no events yet. A changed positive class drops
    the model's rollups and starts over."""
    limit = _floor((min(naive_utc(now), wall_clock()) if now else wall_clock()) - SEAL_GUARD)
    mark = _mark(conn, model_id)
    if mark is not None and mark["positive"] != positive:
        forget(conn, model_id)
        mark = None
    start = None if mark is None else mark["sealed_until"]
    # Jump over minutes without events: a quiet model costs one probe, not a roll per chunk.
    first = conn.scalar(
        "SELECT min(ts) FROM prediction_events WHERE model_id = ? AND ts >= ?",
        [model_id, start or datetime.min],
    )
    if first is None or _floor(first) >= limit:
        if start is None or start >= limit:
            return start
        end = limit
    else:
        begin = _floor(first)
        end = min(limit, begin + max_span)
        _roll(conn, model_id, begin, end, positive)
    conn.execute(
        "INSERT OR REPLACE INTO rollup_watermarks VALUES (?, ?, ?)", [model_id, end, positive]
    )
    return end


def reroll_dirty(conn: Conn, model_id: str, positive: str | None, *, limit: int = 120) -> int:
    """Rebuild up to `limit` dirty minutes of the model; return how many."""
    minutes = [
        r["minute"]
        for r in conn.rows(
            "SELECT minute FROM rollup_dirty WHERE model_id = ? ORDER BY minute LIMIT ?",
            [model_id, limit],
        )
    ]
    for minute in minutes:
        conn.execute(
            "DELETE FROM event_rollups WHERE model_id = ? AND minute = ?", [model_id, minute]
        )
        _roll(conn, model_id, minute, minute + MINUTE, positive)
        conn.execute(
            "DELETE FROM rollup_dirty WHERE model_id = ? AND minute = ?", [model_id, minute]
        )
    return len(minutes)


def watermark(conn: Conn, model_id: str) -> datetime | None:
    """The end of the model's sealed minutes, None before the first seal."""
    mark = _mark(conn, model_id)
    return None if mark is None else mark["sealed_until"]


def _mark(conn: Conn, model_id: str) -> dict[str, Any] | None:
    return conn.row(
        "SELECT sealed_until, positive FROM rollup_watermarks WHERE model_id = ?", [model_id]
    )


def forget(conn: Conn, model_id: str) -> None:
    for table in ("event_rollups", "rollup_watermarks", "rollup_dirty"):
        conn.execute(f"DELETE FROM {table} WHERE model_id = ?", [model_id])


def per_minute(
    conn: Conn,
    model_id: str,
    start: datetime,
    end: datetime,
    *,
    version: int | None = None,
    positive: str | None = None,
) -> pl.DataFrame | None:
    """What `events.bucketed(..., 60)` returns over [start, end), all environments, read
    from the rollups where they are complete; None when none of the range is sealed."""
    start, end = naive_utc(start), naive_utc(end)
    mark = _mark(conn, model_id)
    if mark is None or mark["positive"] != positive:
        return None
    lo, hi = _ceil(start), min(_floor(end), mark["sealed_until"])
    if hi <= lo:
        return None
    dirty = [
        r["minute"]
        for r in conn.rows(
            "SELECT minute FROM rollup_dirty WHERE model_id = ? AND minute >= ? AND minute < ?",
            [model_id, lo, hi],
        )
    ]
    raw: dict[str, Any] = {"version": version, "positive": positive}
    parts = [_sealed(conn, model_id, lo, hi, version, positive)]
    for a, b in [(start, lo), (hi, end), *((m, m + MINUTE) for m in dirty)]:
        if a < b:
            parts.append(events.bucketed(conn, model_id, a, b, 60, **raw))
    found = [p for p in parts if p.height]
    if not found:
        return parts[0]
    return pl.concat(found, how="vertical_relaxed").sort("bucket", "version", nulls_last=True)


def _sealed(
    conn: Conn,
    model_id: str,
    lo: datetime,
    hi: datetime,
    version: int | None,
    positive: str | None,
) -> pl.DataFrame:
    """Rollup rows of the clean sealed minutes in [lo, hi), with quality from the labels."""
    filt = "" if version is None else " AND version = $version"
    efilt = "" if version is None else " AND e.version = $version"
    sql = f"""
        WITH r AS (
            SELECT * FROM event_rollups
            WHERE model_id = $model AND minute >= $lo AND minute < $hi{filt}
              AND minute NOT IN (SELECT minute FROM rollup_dirty WHERE model_id = $model)
        ), q AS (
            SELECT date_trunc('minute', e.ts) AS minute, e.version,
                   {events.quality_columns("e.error IS NULL", positive)}
            FROM prediction_events e
            JOIN (SELECT * FROM actuals WHERE model_id = $model AND ts >= $lo) a
                USING (event_key)
            WHERE e.model_id = $model AND e.ts >= $lo AND e.ts < $hi{efilt}
            GROUP BY ALL
        )
        SELECT r.minute AS bucket, r.version, r.requests,
               r.errors / r.requests AS error_rate,
               [r.latency_p50, r.latency_p95, r.latency_p99] AS latency,
               r.value_sum / nullif(r.value_n, 0) AS prediction_mean,
               r.score_sum / nullif(r.score_n, 0) AS score_mean,
               {"r.positive_n / nullif(r.label_n, 0)" if positive is not None else "NULL::DOUBLE"}
                   AS positive_rate,
               coalesce(q.tp, 0) AS tp, coalesce(q.fp, 0) AS fp, coalesce(q.fn, 0) AS fn,
               coalesce(q.labelled, 0) AS labelled, q.accuracy, q.mae, q.rmse
        FROM r LEFT JOIN q ON r.minute = q.minute AND r.version IS NOT DISTINCT FROM q.version
        ORDER BY bucket, version
    """
    params: dict[str, Any] = {"model": model_id, "lo": lo, "hi": hi}
    if version is not None:
        params["version"] = version
    if positive is not None:
        params["pos"] = positive
    return conn.frame(sql, params)
