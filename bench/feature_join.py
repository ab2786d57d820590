"""Point-in-time join: `get_historical_features` (DuckDB ASOF JOIN over the store) against a
plain Polars `join_asof` of the same data in memory.

    uv run python bench/feature_join.py [--scale 1.0] [--runs 3] [--tie-break]

At scale 1: 100,000 entities × 100 updates = 10M feature rows (ingested into a view kept in
the store, through `mlc features ingest`'s path), and 1M label rows, each asking for three
features at its own time, with a 30-day TTL. The baseline does the same work in Polars: sort
both sides by time, `join_asof(by=entity, strategy="backward")`, null the values older than
the TTL and put the rows back in the labels' order. Both answers are checked to be equal.
`--tie-break` also times a view whose rows share event times (the created-timestamp
tie-break deduplicates before joining).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from core.engine import LocalEngine

UPDATES = 100
TTL = timedelta(days=30)
START = datetime(2025, 1, 1)
YEAR_S = 365 * 86400
TIERS = np.array(["bronze", "silver", "gold", "platinum"])

DEFINITIONS = """
[entities.customer]
join_key = "customer_id"
value_type = "int"

[views.activity]
entity = "customer"
timestamp = "ts"
ttl = "30d"
features = { spend = "numeric", visits = "numeric", tier = "categorical" }

[views.activity_corrected]
entity = "customer"
timestamp = "ts"
created_timestamp = "created"
ttl = "30d"
features = { spend = "numeric", visits = "numeric", tier = "categorical" }
"""


def feature_rows(entities: int, seed: int = 0) -> pl.DataFrame:
    """`UPDATES` rows per entity at distinct times: one random instant in each of as many
    equal slots of the year (so no two rows of an entity share an event time)."""
    rng = np.random.default_rng(seed)
    n = entities * UPDATES
    slot = YEAR_S // UPDATES
    offsets = np.tile(np.arange(UPDATES) * slot, entities) + rng.integers(0, slot, n)
    frame = pl.DataFrame(
        {
            "customer_id": np.repeat(np.arange(entities, dtype=np.int64), UPDATES),
            "ts": pl.Series(offsets * 1_000_000).cast(pl.Duration("us")) + START,
            "spend": rng.gamma(2.0, 40.0, n).round(2),
            "visits": rng.poisson(3, n).astype(np.float64),
            "tier": TIERS[rng.integers(0, len(TIERS), n)],
        }
    )
    return frame.sample(fraction=1.0, shuffle=True, seed=seed)  # arrival order is not time order


def label_rows(entities: int, n: int, seed: int = 1) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame(
        {
            "customer_id": rng.integers(0, entities, n),
            "ts": pl.Series(rng.integers(0, YEAR_S + 40 * 86400, n) * 1_000_000).cast(
                pl.Duration("us")
            )
            + START,
            "label": rng.integers(0, 2, n),
        }
    )


def polars_join(labels: pl.DataFrame, features: pl.DataFrame) -> pl.DataFrame:
    """The baseline: the same point-in-time join, in Polars."""
    right = features.rename({"ts": "event_ts"}).sort("event_ts")
    joined = (
        labels.with_row_index("row")
        .sort("ts")
        .join_asof(
            right,
            left_on="ts",
            right_on="event_ts",
            by="customer_id",
            strategy="backward",
            check_sortedness=False,
        )
    )
    fresh = pl.col("event_ts") >= pl.col("ts") - TTL
    return (
        joined.with_columns(
            [pl.when(fresh).then(pl.col(c)).alias(c) for c in ("spend", "visits", "tier")]
        )
        .sort("row")
        .drop("row", "event_ts")
    )


def median_time(fn, runs: int) -> tuple[float, pl.DataFrame]:
    times, out = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    assert out is not None
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0, help="1.0: 10M feature rows, 1M labels")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--tie-break", action="store_true", help="also time the tie-break path")
    args = ap.parse_args()
    entities = max(10, round(100_000 * args.scale))
    n_labels = max(10, round(1_000_000 * args.scale))

    with tempfile.TemporaryDirectory(prefix="mlc-bench-features-") as tmp:
        root = Path(tmp)
        (root / "features.toml").write_text(DEFINITIONS)
        features = feature_rows(entities)
        labels = label_rows(entities, n_labels)
        features.write_parquet(root / "activity.parquet")
        print(f"{features.height:,} feature rows ({entities:,} entities × {UPDATES}),"
              f" {labels.height:,} label rows, 3 features, TTL {TTL.days} days")  # fmt: skip

        engine = LocalEngine.open(root / "store", actor="bench")
        try:
            engine.apply_features(root / "features.toml")
            t0 = time.perf_counter()
            engine.ingest_features("activity", root / "activity.parquet")
            print(f"ingest (checked, one transaction): {time.perf_counter() - t0:.2f} s")

            refs = ["activity:spend", "activity:visits", "activity:tier"]
            ours_s, ours = median_time(
                lambda: engine.get_historical_features(labels, refs, timestamp="ts"), args.runs
            )
            base_s, base = median_time(lambda: polars_join(labels, features), args.runs)
            assert ours.equals(base), "the two joins disagree"
            print(f"get_historical_features (DuckDB ASOF JOIN): median {ours_s:.2f} s")
            print(f"polars join_asof baseline (sorts + join + TTL + order): median {base_s:.2f} s")
            print(f"ratio ours / polars: {ours_s / base_s:.2f}")

            if args.tie_break:
                # The same rows plus a later correction of 1% of them, with a created time.
                fixes = features.sample(fraction=0.01, seed=3).with_columns(pl.col("spend") + 1.0)
                both = pl.concat([features.with_columns(created=pl.col("ts")),
                                  fixes.with_columns(created=pl.col("ts") + timedelta(days=1))])  # fmt: skip
                both.write_parquet(root / "corrected.parquet")
                del both
                engine.ingest_features("activity_corrected", root / "corrected.parquet")
                refs = [r.replace("activity:", "activity_corrected:") for r in refs]
                tie_s, _ = median_time(
                    lambda: engine.get_historical_features(labels, refs, timestamp="ts"),
                    args.runs,
                )
                print(f"with the created-timestamp tie-break (rows share event times):"
                      f" median {tie_s:.2f} s")  # fmt: skip
        finally:
            engine.close()


if __name__ == "__main__":
    main()
