"""`mlc ingest`, `mlc actuals` and `mlc metrics`: events in, metrics over time out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from app.cli.output import emit, state, success, table
from app.cli.tables import read_table
from core.domain import Ingested
from core.errors import InvalidInput
from core.timeparse import parse_duration, parse_since

if TYPE_CHECKING:
    import polars as pl

CHUNK = 10_000


def _chunks(frame: pl.DataFrame) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, frame.height, CHUNK):
        rows = frame.slice(start, CHUNK).to_dicts()
        for row in rows:
            for key, value in list(row.items()):
                if hasattr(value, "isoformat"):
                    row[key] = value.isoformat()
        yield rows


def _events(frame: pl.DataFrame, columns: set[str]) -> pl.DataFrame:
    """Columns that are not event fields are the features (a flat file has no nesting)."""
    import polars as pl

    if "features" in frame.columns or not (set(frame.columns) - columns):
        return frame
    feature_cols = [c for c in frame.columns if c not in columns]
    return frame.select(
        [*[c for c in frame.columns if c in columns], pl.struct(feature_cols).alias("features")]
    )


EVENT_FIELDS = {
    "request_id",
    "ts",
    "version",
    "environment",
    "unit_id",
    "arm",
    "prediction",
    "score",
    "latency_ms",
    "error",
}


def ingest(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    file: Annotated[Path, typer.Argument(help="Events: Parquet, CSV or JSON lines.")],
) -> None:
    """Log prediction events from a file (request_id, prediction, …; other columns are features)."""
    engine = state(ctx).engine()
    frame = _events(read_table(file, json_lines=True), EVENT_FIELDS)
    found = [engine.log_events(model, rows) for rows in _chunks(frame)]
    _report(ctx, model, found, "logged", "events")


def actuals(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    file: Annotated[
        Path, typer.Argument(help="request_id and actual columns: Parquet, CSV or JSON lines.")
    ],
) -> None:
    """Attach late labels to logged predictions by request id."""
    engine = state(ctx).engine()
    frame = read_table(file, json_lines=True)
    missing = {"request_id", "actual"} - set(frame.columns)
    if missing:
        raise InvalidInput(f"{file} lacks column(s) {', '.join(sorted(missing))}")
    found = [
        engine.record_actuals(model, rows)
        for rows in _chunks(
            frame.select("request_id", "actual", *(["ts"] if "ts" in frame.columns else []))
        )
    ]
    _report(ctx, model, found, "recorded", "actuals")


def _report(ctx: typer.Context, model: str, found: list[Ingested], verb: str, what: str) -> None:
    received, new = sum(f.received for f in found), sum(f.new for f in found)
    again = (
        f" ({received - new:,} already stored: request ids seen before)" if new < received else ""
    )
    emit(
        ctx,
        {"model": model, "received": received, "new": new, "duplicates": received - new},
        lambda: success(ctx, f"{verb} {new:,} new {what} for {model}{again}"),
    )


def metrics(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    version: Annotated[str | None, typer.Option(help="Only this version.")] = None,
    since: Annotated[
        str, typer.Option(help="A duration back from now (1h) or an ISO time.")
    ] = "1h",
    bucket: Annotated[str, typer.Option(help="Bucket width, e.g. 1m, 5m, 1h.")] = "1m",
) -> None:
    """Traffic, errors, latency and quality per time bucket and version."""
    start = parse_since(since)
    bucket_s = int(parse_duration(bucket).total_seconds())
    result = (
        state(ctx)
        .engine()
        .get_performance_metrics(model, start=start, bucket_s=bucket_s, version=version)
    )

    def human() -> None:
        table(
            ["BUCKET", "VERSION", "REQ", "ERR", "P50 MS", "P99 MS", "PRED", "LABELLED", "ACC", "F1", "MAE", "RMSE"],
            [
                [b.bucket, b.version, b.requests, b.error_rate, b.latency_p50_ms, b.latency_p99_ms,
                 b.prediction_mean, b.labelled, b.accuracy, b.f1, b.mae, b.rmse]
                for b in result.buckets
            ],
        )  # fmt: skip
        if not result.buckets:
            success(ctx, f"no events for {model} since {start:%Y-%m-%d %H:%M:%S}")

    emit(ctx, result, human)
