"""The console's per-second call: `fleet_status` over a store of ~1M prediction events.

    uv run python bench/fleet_status.py [--events 1000000] [--models 3] [--rate 300] [--runs 20]

Trains the credit sample once per model (a quick config), deploys v1, then stores `--events`
events in time order ending now — `--rate` events per second across the models, so the
newest minute holds rate x 60 of them — with their features, 20% labelled. Prints the
time of one `fleet_status()` call (the console's, over the last 60 s; drift over 5 min) with
the drift cache cold (a new engine: every model's drift is analysed) and warm (median of
`--runs`), and the parts: one model's metrics query, the scan for where traffic began, and
one drift analysis. Also the live summary's `health_by_version`, `feature_distribution` and
the chart series' metrics query.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.engine import LocalEngine  # noqa: E402
from core.monitoring.series import bucket_for_window, chart_series  # noqa: E402
from storage.repos import events as repo  # noqa: E402

CREDIT = ROOT / "sample_data" / "credit"
CONFIG = """
[model]
name = "{name}"
task = "classification"
[data]
path = "{data}"
target = "default"
timestamp = "applied_at"
exclude = ["application_id"]
[split]
method = "time"
holdout = 0.2
seed = 42
[algorithm]
name = "hist_gradient_boosting"
params = {{ max_iter = 40 }}
[search]
strategy = "random"
trials = 1
cv = 2
seed = 7
metric = "roc_auc"
[search.space]
learning_rate = {{ low = 0.05, high = 0.3, log = true }}
[gates]
min = {{ roc_auc = 0.6 }}
"""


def median_time(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def train(engine: LocalEngine, names: list[str], tmp: Path) -> None:
    for name in names:
        config = tmp / f"{name}.toml"
        config.write_text(CONFIG.format(name=name, data=CREDIT / "credit.parquet"))
        engine.create_model(name, "classification", target="default")
        job = engine.trigger_training(config, model=name)
        while not (job := engine.get_training_status(job.id)).status.finished:
            time.sleep(0.1)
        assert job.outcome == "validated", job.error
        engine.deploy(name, "v1")


def generate(engine: LocalEngine, names: list[str], n: int, rate: float, end: datetime) -> None:
    rows = pl.read_parquet(CREDIT / "credit_current.parquet")
    features = rows.select(
        pl.struct(pl.exclude("application_id", "applied_at", "default")).struct.json_encode()
    ).to_series()
    chunk = 100_000
    naive_end = end.replace(tzinfo=None)
    for lo in range(0, n, chunk):
        i = pl.int_range(lo, min(n, lo + chunk), eager=True).alias("i")
        back = (n - 1 - pl.col("i")).cast(pl.Float64) / rate  # oldest first, as the gateway
        frame = pl.DataFrame(i).select(
            pl.Series("model_id", [names[k % len(names)] for k in i.to_list()]),
            ("b" + pl.col("i").cast(pl.String)).alias("request_id"),
            (
                pl.lit(naive_end).cast(pl.Datetime("us"))
                - pl.duration(microseconds=(back * 1e6).cast(pl.Int64))
            ).alias("ts"),
            pl.lit(1).alias("version"),
            pl.lit("production").alias("environment"),
            pl.lit(None, pl.String).alias("unit_id"),
            pl.lit(None, pl.String).alias("arm"),
            features.gather(i % features.len()).alias("features"),
            (pl.col("i") % 7 == 0).cast(pl.Int8).cast(pl.String).alias("label"),
            pl.lit(None, pl.Float64).alias("value"),
            ((pl.col("i") % 100).cast(pl.Float64) / 100).alias("score"),
            (2.0 + (pl.col("i") % 50).cast(pl.Float64) / 10).alias("latency_ms"),
            pl.when(pl.col("i") % 97 == 0).then(pl.lit("err")).alias("error"),
            pl.lit("bench").alias("source"),
        )
        frame = frame.select([pl.col(c).cast(t) for c, t in repo.EVENT_COLUMNS.items()])
        labelled = frame.filter(pl.int_range(pl.len()) % 5 == 0).select(
            "model_id",
            "request_id",
            pl.col("ts") + pl.duration(seconds=1),
            pl.lit("0").alias("label"),
            pl.lit(None, pl.Float64).alias("value"),
        )
        with engine.store.write() as conn:
            repo.insert_frame(conn, "prediction_events", frame, dedup=False)
            repo.insert_frame(conn, "actuals", labelled, dedup=False)
    engine.store.checkpoint()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--models", type=int, default=3)
    parser.add_argument("--rate", type=float, default=300.0)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--trained", type=Path, help="Copy the trained models from this store (made if missing)."
    )
    args = parser.parse_args()
    names = [f"credit-{k}" for k in range(args.models)]
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "store"
        if args.trained is not None and args.trained.exists():
            shutil.copytree(args.trained, home)
        engine = LocalEngine.open(home, actor="bench")
        try:
            if not engine.list_models():
                t0 = time.perf_counter()
                train(engine, names, Path(tmp))
                print(f"trained {len(names)} models in {time.perf_counter() - t0:.1f} s")
                if args.trained is not None:
                    engine.store.checkpoint()
                    shutil.copytree(home, args.trained)
            names = [m.id for m in engine.list_models()]
            end = datetime.now(UTC)
            t0 = time.perf_counter()
            generate(engine, names, args.events, args.rate, end)
            span = args.events / args.rate
            print(
                f"stored {args.events:,} events over the last {span / 60:.0f} min"
                f" ({args.rate:g}/s) in {time.perf_counter() - t0:.1f} s"
            )
        finally:
            engine.close()

        engine = LocalEngine.open(home, actor="bench")
        try:
            t0 = time.perf_counter()
            rows = engine.fleet_status()
            cold = time.perf_counter() - t0
            print(f"fleet_status(60), drift cache cold:  {cold * 1000:8.1f} ms")
            for r in rows:
                print(
                    f"  {r.name}: {r.requests:,} req ({r.requests_per_s:.0f}/s over"
                    f" {r.rate_s:g} s), err {r.error_rate:.3f}, p99 {r.latency_p99_ms:.1f} ms,"
                    f" acc {r.accuracy:.3f} on {r.labelled:,}, drift {r.drift_share}"
                    f" ({r.drift_status}, {r.drift_window_s:g} s)"
                )
            warm = median_time(engine.fleet_status, args.runs)
            print(f"fleet_status(60), drift cache warm:  {warm * 1000:8.1f} ms (median)")
            warm_5m = median_time(lambda: engine.fleet_status(300), args.runs)
            print(f"fleet_status(300), cache warm:       {warm_5m * 1000:8.1f} ms (median)")
            warm_1h = median_time(lambda: engine.fleet_status(3600), args.runs)
            print(f"fleet_status(3600), cache warm:      {warm_1h * 1000:8.1f} ms (median)")
            model = names[0]
            now = datetime.now(UTC)
            first = engine.get_model(model)
            # The parts, interleaved round by round so a busy host weighs on each alike;
            # process CPU (DuckDB's threads included), which another agent's load inflates
            # far less than wall time.
            start = now - timedelta(seconds=60)
            parts: dict[str, Callable[[], object]] = {
                "one model's  60 s metrics query": lambda: engine.monitor.window_summary(
                    first, start, now, environment="production"
                ),
                "one model's 300 s metrics query": lambda: engine.monitor.window_summary(
                    first, now - timedelta(seconds=300), now, environment="production"
                ),
                "where traffic began, every model": lambda: engine.fleet._onsets(
                    start, now, environment="production"
                ),
                "health_by_version (live summary)": lambda: engine.health_by_version(
                    model, end=now
                ),
            }
            cpu: dict[str, list[float]] = {name: [] for name in parts}
            while engine.drift._refreshing:  # a drift refresh's thread would count too
                time.sleep(0.05)
            for _ in range(args.runs):
                for name, fn in parts.items():
                    c0 = time.process_time()
                    fn()
                    cpu[name].append(time.process_time() - c0)
            for name, times in cpu.items():
                print(f"  {name}: {statistics.median(times) * 1000:8.1f} ms CPU (median)")
            drift = median_time(
                lambda: engine.drift.detect_drift(model, window=timedelta(seconds=300)), 3
            )
            print(f"  one model's 5-minute drift analysis: {drift * 1000:8.1f} ms")
            for feature in ("annual_income", "loan_purpose"):
                took = median_time(
                    lambda f=feature: engine.feature_distribution(model, f, window_s=300), 5
                )
                print(f"feature_distribution({feature}, 5 min): {took * 1000:8.1f} ms")
            for window in (300, 3600):
                bucket = bucket_for_window(window)
                took = median_time(
                    lambda w=window, b=bucket: chart_series(
                        engine.get_performance_metrics(
                            model, start=datetime.now(UTC) - timedelta(seconds=w), bucket_s=b
                        )
                    ),
                    args.runs,
                )
                print(
                    f"live series, {window}s window in {bucket}s buckets:"
                    f" {took * 1000:8.1f} ms (metrics query + chart_series)"
                )
        finally:
            engine.close()


if __name__ == "__main__":
    main()
