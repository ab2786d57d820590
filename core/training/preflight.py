"""What `TrainingPipeline.trigger_training` checks before a job is queued (config against the
model, dataset schema, algorithm, parameters, search space, gate metrics) and the `JobSpec` it
hands the worker, with the champion it must beat and, for a feature-store training set, the
built rows (workers never open the store)."""

from __future__ import annotations

import secrets
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from core.clock import utcnow
from core.domain import ModelStatus
from core.errors import InvalidInput, NotFound
from core.registry import ModelRegistry
from core.training import validator
from core.training.config import TrainingConfig
from core.training.data import inspect_dataset, model_columns
from core.training.feature_source import FeatureSource
from core.training.spec import Champion, JobSpec

TRAINING_SET = "feature-store-training-set.parquet"


def preflight(
    registry: ModelRegistry,
    features: FeatureSource | None,
    cfg: TrainingConfig,
    model_name: str | None,
) -> tuple[JobSpec, dict[str, Any] | None]:
    """Everything `trigger_training` checks before any work starts, and the job it would run:
    the spec handed to the worker and, for a feature-store training set, its lineage."""
    # scikit-learn is imported here, by the first job, not when the owner starts
    from core.training.catalogue import algorithm as catalogue_algorithm
    from core.training.catalogue import build_pipeline
    from core.training.search import check_metric, parse_space
    from core.training.search.sklearn_api import check_params, model_step, param_names

    name = model_name or cfg.model
    if name is None:
        raise InvalidInput("name the model: mlc train MODEL --config FILE, or [model].name")
    if cfg.model is not None and model_name is not None and cfg.model != model_name:
        raise InvalidInput(f"config is for model {cfg.model!r}, not {model_name!r}")
    try:
        model = registry.get_model(name)
    except NotFound:
        raise NotFound(
            f"model {name!r} not found: create it first with"
            f" mlc models create {name} --task {cfg.task or 'classification|regression'}"
        ) from None
    if cfg.task is not None and cfg.task is not model.task:
        raise InvalidInput(f"config says task {cfg.task} but model {name!r} is {model.task}")
    if model.target is not None and model.target != cfg.data.target:
        raise InvalidInput(
            f"config's target {cfg.data.target!r} is not model {name!r}'s target {model.target!r}"
        )
    catalogue_algorithm(model.task.value, cfg.algorithm)
    rows: bytes | None = None
    lineage: dict[str, Any] | None = None
    if cfg.data.feature_refs:
        # Workers never open the store: the owner builds the training set and hands over
        # its bytes (the worker writes them to a file of its own).
        if features is None:
            raise InvalidInput("this engine has no feature store to read data.features from")
        built = features.training_set(
            cfg.data.path, cfg.data.feature_refs, timestamp=cfg.data.timestamp or "",
            target=cfg.data.target,
        )  # fmt: skip
        with tempfile.TemporaryDirectory(prefix="mlc-training-set-") as tmp:
            path = Path(tmp) / TRAINING_SET
            path.write_bytes(built.data)
            cfg = replace(
                cfg, data=replace(cfg.data, path=path, features=built.features, feature_refs=())
            )
            schema = inspect_dataset(cfg.data, model.task)
        rows, lineage = built.data, built.lineage
    else:
        schema = inspect_dataset(cfg.data, model.task)
    numeric, categorical = model_columns(schema.features)
    pipe = build_pipeline(model.task.value, cfg.algorithm, numeric, categorical, cfg.params)
    estimator = model_step(pipe)
    try:
        check_params(estimator)
    except (ValueError, TypeError) as e:
        raise InvalidInput(f"bad parameter for {cfg.algorithm}: {e}") from None
    if cfg.search.space:
        known = param_names(estimator)
        for param in cfg.search.space:
            if param not in known:
                raise InvalidInput(f"search.space: {cfg.algorithm} has no parameter {param!r}")
        parse_space(cfg.search.space)
        if cfg.search.metric:
            check_metric(model.task.value, cfg.search.metric)
    validator.check_gate_metrics(model.task.value, [*cfg.gates.minimums, *cfg.gates.maximums])
    if cfg.gates.champion_metric:
        validator.check_gate_metrics(model.task.value, [cfg.gates.champion_metric])
    spec = JobSpec(
        job_id=f"job-{utcnow():%Y%m%d-%H%M%S}-{secrets.token_hex(3)}",
        model=name,
        task=model.task,
        # Pin the feature list checked here: the worker must train on exactly these columns.
        config=replace(cfg, data=replace(cfg.data, features=tuple(schema.features))),
        declared_features={f.name: f.type.value for f in model.features},
        declared_target=model.target,
        champion=champion(registry, name),
        data=rows,
    )
    return spec, lineage


def champion(registry: ModelRegistry, model: str) -> Champion | None:
    """The version now in production, else the one the `champion` alias names."""
    versions = registry.list_versions(model)
    live = [v for v in versions if v.status is ModelStatus.PRODUCTION]
    chosen = live[-1] if live else next((v for v in versions if "champion" in v.aliases), None)
    if chosen is None:
        return None
    data = registry.artifacts.get_bytes(chosen.artifact_sha256)
    full = registry.get_version(model, chosen.version)
    features = (full.validation or {}).get("features")
    return Champion(chosen.version, data, list(chosen.signature.get("inputs") or []), features)
