"""The body of a training job, run in a worker process.

The worker never opens the store: the owner hands it a `JobSpec` (the parsed config, the
model's schema, the champion's artifact bytes) and the worker sends back messages — logs,
progress, trials and finally the result with the artifact bytes — which the owner writes.
"""

from __future__ import annotations

import tempfile
import time
import traceback
from collections.abc import Callable, Generator
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import skops.io as sio  # pyright: ignore[reportMissingTypeStubs]  # skops ships no stubs

from core.domain import FeatureType, Task
from core.errors import MlcError
from core.jsonable import to_jsonable
from core.training import profile, validator
from core.training.catalogue import build_pipeline
from core.training.data import (
    PreparedData,
    infer_feature_type,
    load_dataset,
    model_columns,
    to_model_frame,
)
from core.training.search import HyperparameterOptimizer, Trial
from core.training.search.sklearn_api import fit
from core.training.spec import JobSpec, Send
from core.trusted_types import TRUSTED_TYPES
from storage.artifacts import load_bytes


def default_search_metric(task: Task, n_classes: int) -> str:
    if task is Task.REGRESSION:
        return "neg_root_mean_squared_error"
    return "roc_auc" if n_classes == 2 else "accuracy"


def default_champion_metric(task: Task, n_classes: int) -> str:
    if task is Task.REGRESSION:
        return "rmse"
    return "roc_auc" if n_classes == 2 else "accuracy"


def run_job(spec: JobSpec, send: Send) -> None:
    """Train, tune, validate and profile; send the result (never raises)."""
    try:
        with _data_file(spec) as ready:
            send({"type": "result", **_train(ready, send)})
    except MlcError as e:
        send({"type": "error", "message": e.message})
    except Exception as e:  # a worker must always report, whatever broke
        send(
            {
                "type": "error",
                "message": f"{type(e).__name__}: {e}",
                "trace": traceback.format_exc(),
            }
        )


@contextmanager
def _data_file(spec: JobSpec) -> Generator[JobSpec, None, None]:
    """`spec` reading its handed-over rows from a temporary file, if it has any."""
    if spec.data is None:
        yield spec
        return
    with tempfile.TemporaryDirectory(prefix="mlc-worker-") as tmp:
        path = Path(tmp) / spec.config.data.path.name
        path.write_bytes(spec.data)
        data = replace(spec.config.data, path=path)
        yield replace(spec, config=replace(spec.config, data=data), data=None)


def _train(spec: JobSpec, send: Send) -> dict[str, Any]:
    cfg = spec.config
    timings: dict[str, float] = {}

    def log(message: str, level: str = "info") -> None:
        send({"type": "log", "level": level, "message": message})

    def progress(value: float, message: str) -> None:
        send({"type": "progress", "progress": value, "message": message})

    t0 = time.perf_counter()
    progress(0.01, "loading data")
    data = load_dataset(cfg.data, cfg.split, spec.task)
    timings["load_s"] = time.perf_counter() - t0
    log(
        f"loaded {data.rows:,} labelled rows from {cfg.data.path.name} (sha256 {data.data_hash[:12]});"
        f" {data.X_train.height:,} train / {data.X_holdout.height:,} holdout ({cfg.split.method} split)"
    )
    if data.dropped_unlabelled:
        log(f"dropped {data.dropped_unlabelled:,} rows without a label", "warning")
    numeric, categorical = model_columns(data.schema.features)
    n_classes = len(data.schema.classes or [])
    pipeline = build_pipeline(spec.task, cfg.algorithm, numeric, categorical, cfg.params)

    t0 = time.perf_counter()
    best_params: dict[str, Any] = {}
    search_doc: dict[str, Any] | None = None
    if cfg.search.space:
        metric = cfg.search.metric or default_search_metric(spec.task, n_classes)
        total = cfg.search.trials
        progress(0.05, f"search: 0 of {total} trials")

        def on_trial(trial: Trial, expected: int) -> None:
            send({"type": "trial", "trial": to_jsonable(asdict(trial)), "expected": expected})
            done = trial.number
            progress(
                0.05 + 0.8 * min(done / max(expected, 1), 1.0),
                f"search: trial {done} of {expected}",
            )

        optimizer = HyperparameterOptimizer(
            strategy=cfg.search.strategy,
            trials=cfg.search.trials,
            time_limit_s=cfg.search.time_limit_s,
            cv=cfg.search.cv,
            seed=cfg.search.seed,
            metric=metric,
            space=cfg.search.space,
            on_trial=on_trial,
        )
        result = optimizer.optimize(pipeline, data.X_train, data.y_train, spec.task.value)
        best_params = dict(result.best_params)
        search_doc = {
            "strategy": result.strategy,
            "metric": result.metric,
            "best_params": best_params,
            "best_score": result.best_score,
            "best_trial": result.best_trial,
            "trials": len(result.trials),
            "stopped": result.stopped,
        }
        if result.stopped:
            log(result.stopped, "warning")
        log(f"search done: best {metric} {result.best_score:.4g} with {_short(best_params)}")
    timings["search_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    progress(0.86, "fitting the final model")
    params = {**cfg.params, **best_params}
    final = build_pipeline(spec.task, cfg.algorithm, numeric, categorical, params)
    fit(final, data.X_train, data.y_train)
    timings["fit_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    progress(0.92, "validating on the holdout")
    metrics, predictions, scores = validator.evaluate(
        spec.task.value, final, data.X_holdout, data.y_holdout
    )
    validation = _validate(spec, data, metrics, n_classes, log)
    timings["validate_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    progress(0.96, "profiling the reference data")
    reference = profile.build_profile(
        data.X_train,
        {k: v.value for k, v in data.schema.features.items()},
        predictions=predictions,
        task=spec.task.value,
        scores=scores,
    )
    samples = profile.reference_sample(data.X_train, numeric, seed=cfg.split.seed)
    artifact = sio.dumps(final)
    timings["profile_s"] = time.perf_counter() - t0

    return {
        "artifact": artifact,
        "algorithm": cfg.algorithm,
        "parameters": to_jsonable(params),
        "metrics": metrics,
        "validation": validation,
        "search": search_doc,
        "profile": reference,
        "samples": samples,
        "data_hash": data.data_hash,
        "data_rows": data.rows,
        "features": {k: v.value for k, v in data.schema.features.items()},
        "timings": timings,
        "holdout_rows": data.X_holdout.height,
        "prediction_mean": float(np.mean(predictions)) if spec.task is Task.REGRESSION else None,
    }


def _validate(
    spec: JobSpec,
    data: PreparedData,
    metrics: dict[str, float],
    n_classes: int,
    log: Callable[..., None],
) -> dict[str, Any]:
    cfg = spec.config
    gates = validator.absolute_gates(metrics, cfg.gates.minimums, cfg.gates.maximums)
    champion_metric = cfg.gates.champion_metric or default_champion_metric(spec.task, n_classes)
    champion_metrics = None
    if spec.champion is not None:
        champion_metrics = _score_champion(spec, data)
        if champion_metrics is None:
            gates.append(
                validator.GateResult(
                    name="champion",
                    passed=False,
                    reason=(
                        f"champion {spec.champion.version} needs features"
                        f" {', '.join(spec.champion.inputs)} that this holdout lacks: cannot"
                        " show there is no regression"
                    ),
                    metric=champion_metric,
                )
            )
        else:
            log(f"champion {spec.champion.version} on the same holdout: {_short(champion_metrics)}")
    if spec.champion is None or champion_metrics is not None:
        gates.append(
            validator.champion_gate(
                metrics,
                champion_metrics,
                spec.champion.version if spec.champion else None,
                champion_metric,
                cfg.gates.champion_tolerance,
            )
        )
    gates.append(
        validator.schema_gate(
            spec.declared_features,
            {k: v.value for k, v in data.schema.features.items()},
            spec.declared_target,
            cfg.data.target,
        )
    )
    results = validator.ValidationResults(
        metrics=metrics,
        gates=gates,
        champion_version=spec.champion.version if spec.champion else None,
        champion_metrics=champion_metrics,
    )
    for gate in gates:
        log(f"gate {gate.name}: {'pass' if gate.passed else 'FAIL'} — {gate.reason}")
    return {
        "passed": results.passed,
        "reasons": results.reasons,
        "metrics": metrics,
        "gates": [to_jsonable(asdict(g)) for g in gates],
        "champion_version": results.champion_version,
        "champion_metrics": champion_metrics,
        "holdout_rows": data.X_holdout.height,
    }


def _score_champion(spec: JobSpec, data: PreparedData) -> dict[str, float] | None:
    """The champion's metrics on this job's holdout, or None if it cannot read these rows."""
    assert spec.champion is not None
    champion = load_bytes(spec.champion.artifact, TRUSTED_TYPES, origin="champion artifact")
    holdout = data.holdout_raw
    if not set(spec.champion.inputs) <= set(holdout.columns):
        return None
    known = spec.champion.features or {}
    types = {
        c: FeatureType(known[c]) if c in known else infer_feature_type(c, holdout[c].dtype)
        for c in spec.champion.inputs
    }
    X = to_model_frame(holdout, types)
    metrics, _, _ = validator.evaluate(spec.task.value, champion, X, data.y_holdout)
    return metrics


def _short(params: dict[str, Any]) -> str:
    return ", ".join(
        f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items()
    )
