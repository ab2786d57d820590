"""Train the credit-default sample end to end through mlc and print the time of each stage.

Baseline, in the same run: the same random search done with plain scikit-learn
(`RandomizedSearchCV` over the same pipeline, space, folds and seed) in this process, so the
ratio shows what mlc's worker process, trial recording and validation cost on top.

    uv run python bench/train_credit.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "sample_data" / "credit" / "credit.toml"


def run_mlc() -> dict[str, float]:
    from core.engine import LocalEngine

    with tempfile.TemporaryDirectory() as tmp:
        engine = LocalEngine.open(Path(tmp) / "store", actor="bench")
        try:
            engine.create_model("credit-default", "classification", target="default")
            t0 = time.perf_counter()
            job = engine.trigger_training(CONFIG, model="credit-default")
            while not (job := engine.get_training_status(job.id)).status.finished:
                time.sleep(0.05)
            wall = time.perf_counter() - t0
            assert job.result_version, job.error
            version = engine.get_version("credit-default", job.result_version)
            timings = dict((version.validation or {})["timings"])
            logs = engine.job_details(job.id).logs
            register = next(
                float(m.group(1))
                for e in logs
                if (m := re.search(r"\(([0-9.]+) s to register\)", e["message"]))
            )
            assert job.started_at is not None
            first_log = logs[1]["logged_at"]  # the worker's first message: it has imported
            return {
                "spawn_s": (first_log - job.started_at).total_seconds(),
                **timings,
                "register_s": register,
                "end_to_end_s": wall,
            }
        finally:
            engine.close()


def run_baseline() -> float:
    import polars as pl
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import RandomizedSearchCV, StratifiedKFold

    from core.domain import Task
    from core.training.catalogue import build_pipeline
    from core.training.config import load_config
    from core.training.data import inspect_dataset, model_columns, to_model_frame
    from core.training.search import parse_space

    cfg = load_config(CONFIG)
    t0 = time.perf_counter()
    schema = inspect_dataset(cfg.data, Task.CLASSIFICATION)
    frame = pl.read_parquet(cfg.data.path).sort(cfg.data.timestamp)
    train = frame.head(frame.height - round(frame.height * cfg.split.holdout))
    numeric, categorical = model_columns(schema.features)
    pipe = build_pipeline("classification", cfg.algorithm, numeric, categorical, cfg.params)
    space = {f"model__{k}": v for k, v in parse_space(cfg.search.space).items()}
    search = RandomizedSearchCV(
        pipe, space, n_iter=cfg.search.trials, scoring=cfg.search.metric, n_jobs=1, refit=True,
        cv=StratifiedKFold(cfg.search.cv, shuffle=True, random_state=cfg.search.seed),
        random_state=cfg.search.seed,
    )  # fmt: skip
    search.fit(to_model_frame(train, schema.features), train["default"].to_numpy())
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    runs = []
    baselines = []
    for i in range(args.repeat):
        runs.append(run_mlc())
        baselines.append(run_baseline())
        print(
            f"run {i + 1}: mlc {runs[-1]['end_to_end_s']:.2f} s, sklearn baseline {baselines[-1]:.2f} s"
        )
    print(f"\ncredit-default ({CONFIG.relative_to(ROOT)}), median of {args.repeat} runs:")
    for stage in runs[0]:
        print(f"  {stage:<14} {statistics.median(r[stage] for r in runs):8.3f} s")
    base = statistics.median(baselines)
    total = statistics.median(r["end_to_end_s"] for r in runs)
    print(f"  {'baseline':<14} {base:8.3f} s  (plain RandomizedSearchCV + refit, in-process)")
    print(f"  mlc end-to-end / baseline = {total / base:.2f}x")


if __name__ == "__main__":
    main()
