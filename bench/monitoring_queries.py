"""Monitoring speed: in-process ingest, and the dashboard queries over many stored events.

    uv run python bench/monitoring_queries.py [--events 10000000] [--runs 5]

1. Ingest: 1,000-event frames through `EventWriter`: buffered (queued without waiting, as
   `track_prediction` does, then one flush), buffered with client-supplied request ids (each
   checked against event_keys), and durable one frame at a time; next to the baseline of
   inserting the same frames straight into an un-indexed copy of the table, a commit each.
2. Dashboards over N stored events (24 h of traffic, two versions, 20% labelled), generated in
   SQL: "last 5 minutes per version", "last hour per minute" and "24 h per minute" through
   `get_performance_metrics` (per-minute ones read the sealed rollups), next to the baseline of the same aggregation in Polars over the
   same rows already in memory (read back once, not timed).
Prints medians of `--runs`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.domain import Task  # noqa: E402
from core.engine import LocalEngine  # noqa: E402
from core.events.frames import events_frame  # noqa: E402
from storage.repos import events as repo  # noqa: E402


def median_time(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _frames(tag: str, frames: int) -> list[pl.DataFrame]:
    return [
        events_frame("m", Task.CLASSIFICATION, {}, [
            {"request_id": f"{tag}{b}-{i}", "version": "v1", "prediction": i % 2, "score": 0.4, "latency_ms": 3.0}
            for i in range(1000)
        ])
        for b in range(frames)
    ]  # fmt: skip


def _rate(engine: LocalEngine, batches: list[pl.DataFrame], *, wait: bool, dedup: bool) -> float:
    t0 = time.perf_counter()
    for frame in batches:
        engine.writer.write("prediction_events", frame, wait=wait, dedup=dedup)
    engine.writer.flush()
    return len(batches) * 1000 / (time.perf_counter() - t0)


def bench_ingest(engine: LocalEngine, frames: int = 300) -> dict[str, float]:
    """Events/s through EventWriter, each figure on fresh request ids."""
    out = {
        "buffered": _rate(engine, _frames("a", frames), wait=False, dedup=False),
        "buffered, client ids": _rate(engine, _frames("b", frames), wait=False, dedup=True),
        "durable per frame": _rate(engine, _frames("c", frames), wait=True, dedup=False),
    }
    with engine.store.write() as conn:
        conn.execute(
            "CREATE TABLE plain_copy AS SELECT * EXCLUDE (event_key) FROM prediction_events LIMIT 0"
        )
    batches = _frames("d", frames)
    t0 = time.perf_counter()
    for frame in batches:
        with engine.store.write() as conn:
            conn.insert_frame("plain_copy", frame.select(list(repo.EVENT_COLUMNS)))
    out["baseline"] = frames * 1000 / (time.perf_counter() - t0)
    return out


def generate(engine: LocalEngine, n: int, end: datetime) -> None:
    start = (end - timedelta(hours=24)).replace(tzinfo=None)
    step_us = int(24 * 3600 * 1e6 / n)
    with engine.store.write() as conn:
        conn.execute(
            f"""INSERT INTO prediction_events
            SELECT md5_number('m' || chr(31) || 'g' || i), 'm', 'g' || i,
                   ?::TIMESTAMP + to_microseconds(i * {step_us}),
                   1 + (i % 10 = 0)::INTEGER, 'production', NULL, NULL, NULL,
                   (hash(i) % 2)::VARCHAR, NULL, (hash(i) % 1000) / 1000.0,
                   (hash(i * 7) % 5000) / 100.0, CASE WHEN i % 97 = 0 THEN 'err' END, 'bench'
            FROM range({n}) t(i)""",
            [start],
        )
        conn.execute(
            f"""INSERT INTO actuals
            SELECT md5_number('m' || chr(31) || 'g' || i), 'm', 'g' || i,
                   ?::TIMESTAMP + to_microseconds(i * {step_us}), (hash(i * 3) % 2)::VARCHAR, NULL
            FROM range(0, {n}, 5) t(i)""",
            [start],
        )
    engine.store.checkpoint()


def polars_baseline(
    frame: pl.DataFrame, start: datetime, end: datetime, every: str
) -> pl.DataFrame:
    return (
        frame.filter(pl.col("ts").is_between(start, end, closed="left"))
        .group_by(pl.col("ts").dt.truncate(every).alias("bucket"), "version")
        .agg(
            pl.len().alias("requests"),
            pl.col("error").is_not_null().mean().alias("error_rate"),
            pl.col("latency_ms").quantile(0.5).alias("p50"),
            pl.col("latency_ms").quantile(0.95).alias("p95"),
            pl.col("latency_ms").quantile(0.99).alias("p99"),
            (pl.col("label") == pl.col("actual_label")).mean().alias("accuracy"),
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = LocalEngine.open(Path(tmp) / "store")
        try:
            engine.create_model("m", "classification")
            rates = bench_ingest(engine)
            base = rates.pop("baseline")
            print(
                "in-process ingest, frames of 1,000 (baseline: plain INSERT of each frame into an"
                f" un-indexed copy, one commit each: {base:,.0f} events/s)"
            )
            for name, rate in rates.items():
                print(f"  {name:<22} {rate:>10,.0f} events/s   ratio {rate / base:.2f}")
            end = datetime.now(UTC).replace(second=0, microsecond=0)
            t0 = time.perf_counter()
            generate(engine, args.events, end)
            print(f"generated {args.events:,} events over 24 h in {time.perf_counter() - t0:.1f} s")
            t0 = time.perf_counter()
            chunks = engine.rollups.catch_up("m")
            print(
                f"sealed the per-minute rollups of all of them in {time.perf_counter() - t0:.1f} s"
                f" ({chunks} chunks; one-off: a live owner seals each minute as it passes)"
            )
            with engine.store.read() as conn:
                frame = conn.frame(
                    "SELECT e.ts, e.version, e.label, e.latency_ms, e.error, a.label AS actual_label"
                    " FROM prediction_events e LEFT JOIN actuals a USING (event_key) WHERE e.model_id = 'm'"
                )
            naive_end = end.replace(tzinfo=None)
            for name, span, bucket, every in (
                ("last 5 minutes per version", timedelta(minutes=5), 300, "5m"),
                ("last hour per minute", timedelta(hours=1), 60, "1m"),
                ("24 h per minute", timedelta(hours=24), 60, "1m"),
            ):
                ours_t = median_time(
                    lambda span=span, bucket=bucket: engine.get_performance_metrics(
                        "m", start=end - span, end=end, bucket_s=bucket), args.runs)  # fmt: skip
                base_t = median_time(
                    lambda span=span, every=every: polars_baseline(
                        frame, naive_end - span, naive_end, every), args.runs)  # fmt: skip
                print(
                    f"{name:<28} mlc {ours_t * 1000:8.1f} ms   polars in memory {base_t * 1000:8.1f} ms"
                    f"   ratio {ours_t / base_t:.2f}"
                )
        finally:
            engine.close()


if __name__ == "__main__":
    main()
