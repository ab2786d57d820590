"""Write the feature-store sample: the credit applications as feature histories over time.

Derived deterministically from `../credit/credit.parquet` (fixed seed, byte-for-byte
reproducible). Run from the repository root: `uv run python sample_data/features/generate.py`.

Each application becomes a customer (`customer_id`) whose features change over time:

- `profile_history.parquet` (view `customer_profile`, ingested into the store): an old
  snapshot a year or so before the application, the values at the application (a few weeks
  before it), and a snapshot months *after* it in which defaulters have lost income and
  their job — the future a point-in-time join must never show a model.
- `bureau_history.parquet` (view `credit_bureau`, a file read in place): a bureau report
  weeks before the application, some of them corrected later with the same `as_of` and a
  newer `reported_at` (the correction must win), a stale report over a year old for every
  customer (outside the 365-day TTL: customers with only that one get nulls), and a report
  after the application in which defaulters have three more late payments.
- `applications.parquet` (view `loan_application`, ingested): the loan itself, at `applied_at`.
- `labels.parquet`: `customer_id`, `applied_at`, `default` — the entity rows to train on.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl

HERE = Path(__file__).resolve().parent
CREDIT = HERE.parent / "credit" / "credit.parquet"
SEED = 20260
APPLICATIONS = 12_000
"""The first half of 2025's applications: enough to train on, small enough to ship."""
STALE_ONLY = 0.05
"""Share of customers whose recent bureau report is missing (only the stale one is left)."""
CORRECTED = 0.10
"""Share of bureau reports that were corrected later."""


def _days(rng: np.random.Generator, low: int, high: int, n: int) -> pl.Series:
    """Whole hours between `low` and `high` days (snapshots are taken on the hour)."""
    hours = rng.integers(low * 24, high * 24, n)
    return pl.Series(hours * 3_600_000_000).cast(pl.Duration("us"))


def _hundreds(expr: pl.Expr) -> pl.Expr:
    return (expr / 100).round(0) * 100


def _write(frame: pl.DataFrame, name: str) -> None:
    frame.write_parquet(HERE / name, compression="zstd", compression_level=19, statistics=False)


def main() -> None:
    rng = np.random.default_rng(SEED)
    credit = (
        pl.read_parquet(CREDIT)
        .head(APPLICATIONS)
        .with_columns(pl.col("application_id").str.replace("app_", "cus_").alias("customer_id"))
    )
    n = credit.height
    defaulted = pl.col("default") == 1
    on_the_hour = pl.col("applied_at").dt.truncate("1h")

    before_old = credit.with_columns(as_of=on_the_hour - _days(rng, 200, 400, n))
    at_application = credit.with_columns(as_of=on_the_hour - _days(rng, 1, 60, n))
    after = credit.with_columns(as_of=on_the_hour + _days(rng, 30, 200, n))
    profile_cols = ["customer_id", "as_of", "age", "annual_income", "months_employed",
                    "home_ownership"]  # fmt: skip
    profile = pl.concat(
        [
            before_old.with_columns(
                (pl.col("age") - 1).alias("age"),
                _hundreds(pl.col("annual_income") * 0.95).alias("annual_income"),
                (pl.col("months_employed") - 12).clip(0).alias("months_employed"),
            ).select(profile_cols),
            at_application.select(profile_cols),
            after.with_columns(
                _hundreds(pl.when(defaulted).then(pl.col("annual_income") * 0.7)
                          .otherwise(pl.col("annual_income"))).alias("annual_income"),
                pl.when(defaulted).then(0).otherwise(pl.col("months_employed") + 4)
                .alias("months_employed"),
            ).select(profile_cols),
        ]
    ).sort("as_of", "customer_id")  # fmt: skip

    bureau_cols = ["customer_id", "as_of", "reported_at", "debt_to_income", "credit_utilization",
                   "num_late_payments_12m", "num_open_accounts"]  # fmt: skip
    recent = credit.with_columns(as_of=on_the_hour - _days(rng, 20, 80, n))
    recent = recent.with_columns(reported_at=pl.col("as_of") + timedelta(days=2))
    corrected = pl.Series(rng.random(n) < CORRECTED)
    stale_only = pl.Series(rng.random(n) < STALE_ONLY)
    wrong_first = recent.filter(corrected).with_columns(
        (pl.col("credit_utilization") + 0.25).clip(0, 1).alias("credit_utilization"),
        (pl.col("num_late_payments_12m") + 2).alias("num_late_payments_12m"),
    )
    fixed = recent.filter(corrected).with_columns(reported_at=pl.col("as_of") + timedelta(days=12))
    kept = recent.filter(~corrected)
    stale = credit.with_columns(as_of=on_the_hour - _days(rng, 400, 500, n))
    stale = stale.with_columns(
        reported_at=pl.col("as_of") + timedelta(days=2),
        credit_utilization=(pl.col("credit_utilization") * 0.8).round(3),
    )
    later = credit.with_columns(as_of=on_the_hour + _days(rng, 30, 120, n))
    later = later.with_columns(
        reported_at=pl.col("as_of") + timedelta(days=2),
        num_late_payments_12m=pl.when(defaulted).then(pl.col("num_late_payments_12m") + 3)
        .otherwise(pl.col("num_late_payments_12m")),
    )  # fmt: skip
    missing = credit.filter(stale_only).get_column("customer_id")
    recent_rows = pl.concat([wrong_first, fixed, kept]).filter(
        ~pl.col("customer_id").is_in(missing.implode())
    )
    bureau = pl.concat([p.select(bureau_cols) for p in (recent_rows, stale, later)])
    bureau = bureau.sort("as_of", "reported_at", "customer_id")

    applications = credit.select(
        "customer_id", "applied_at", "loan_amount", "loan_purpose", "region", "has_cosigner"
    )
    labels = credit.select("customer_id", "applied_at", "default")
    _write(profile, "profile_history.parquet")
    _write(bureau, "bureau_history.parquet")
    _write(applications, "applications.parquet")
    _write(labels, "labels.parquet")
    for name, frame in (("profile", profile), ("bureau", bureau), ("applications", applications),
                        ("labels", labels)):  # fmt: skip
        print(f"{name}: {frame.height:,} rows")


if __name__ == "__main__":
    main()
