"""`mlc versions …`: register, inspect, tag, alias and move versions through their lifecycle."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from app.cli.output import emit, fields, state, success, table
from core import names
from core.domain import ModelVersion
from core.errors import InvalidInput
from core.inputs import read_input

app = typer.Typer(help="Model versions: immutable, numbered v1, v2, …", no_args_is_help=True)

VersionArg = Annotated[str, typer.Argument(help="v3, 3 or an alias such as champion.")]


def _json_object(text: str | None, what: str) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise InvalidInput(f"--{what} is not valid JSON: {e.msg} at column {e.colno}") from None
    if not isinstance(value, dict):
        raise InvalidInput(f"--{what} must be a JSON object, e.g. '{{\"accuracy\": 0.91}}'")
    return value


@app.command("register")
def register(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    artifact: Annotated[Path, typer.Argument(help="A fitted estimator saved with skops (.skops).")],
    algorithm: Annotated[str, typer.Option(help="Algorithm name, e.g. random_forest.")],
    metrics: Annotated[str | None, typer.Option(help='Metrics as JSON: {"roc_auc": 0.81}.')] = None,
    params: Annotated[str | None, typer.Option(help="Hyperparameters as JSON.")] = None,
    parent: Annotated[str | None, typer.Option(help="Parent version (lineage).")] = None,
    data_hash: Annotated[str | None, typer.Option(help="Hash of the training data.")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="KEY=VALUE; may repeat.")] = None,
    description: Annotated[str, typer.Option(help="Free text.")] = "",
) -> None:
    """Register a new immutable version from a skops artifact (status: registered)."""
    metric_values = _json_object(metrics, "metrics")
    param_values = _json_object(params, "params")
    tags = dict(names.tag(t) for t in tag or [])
    data = read_input(artifact, "artifact file")
    version = state(ctx).engine().register_version(
        model, data, algorithm=algorithm, parameters=param_values, metrics=metric_values,
        description=description, parent_version=parent, training_data_hash=data_hash, tags=tags,
    )  # fmt: skip
    emit(
        ctx,
        version,
        lambda: success(
            ctx,
            f"registered {version.id} ({version.algorithm}, sha256 {version.artifact_sha256[:12]})",
        ),
    )


@app.command("list")
def list_(ctx: typer.Context, model: Annotated[str, typer.Argument(help="Model name.")]) -> None:
    """A model's versions, oldest first."""
    versions = state(ctx).engine().list_versions(model)

    def human() -> None:
        table(
            ["VERSION", "STATUS", "ALGORITHM", "METRICS", "ALIASES", "CREATED"],
            [
                [v.version, v.status, v.algorithm, _key_metrics(v), v.aliases, v.created_at]
                for v in versions
            ],
        )

    emit(ctx, {"model": model, "versions": versions}, human)


@app.command("show")
def show(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    version: VersionArg,
) -> None:
    """One version: metrics, parameters, lineage, signature, tags and aliases."""
    v = state(ctx).engine().get_version(model, version)
    emit(ctx, v, lambda: _print_version(v))


@app.command("tag")
def tag_(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    version: VersionArg,
    pair: Annotated[str, typer.Argument(metavar="KEY=VALUE", help="The tag to set.")],
) -> None:
    """Set a tag on a version (tags are the one mutable part of a version)."""
    key, value = names.tag(pair)
    v = state(ctx).engine().tag_version(model, version, key, value)
    emit(ctx, v, lambda: success(ctx, f"tagged {v.id} {key}={value}"))


@app.command("alias")
def alias(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    version: VersionArg,
    name: Annotated[str, typer.Argument(metavar="ALIAS", help="e.g. champion, challenger.")],
    reason: Annotated[str, typer.Option(help="Why (goes to the audit log).")] = "",
) -> None:
    """Point an alias at a version (moving an alias is audited)."""
    v = state(ctx).engine().set_alias(model, version, name, reason=reason)
    emit(ctx, v, lambda: success(ctx, f"{model}@{name} → {v.version}"))


@app.command("transition")
def transition(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    version: VersionArg,
    status: Annotated[
        str,
        typer.Argument(help="validated, rejected, staging, production or archived."),
    ],
    reason: Annotated[str, typer.Option(help="Why (goes to the audit log).")] = "",
) -> None:
    """Move a version to another status; illegal moves are refused (exit 4)."""
    v = state(ctx).engine().transition_version(model, version, status, reason=reason)
    emit(ctx, v, lambda: success(ctx, f"{v.id} is now {v.status}"))


def _key_metrics(v: ModelVersion, limit: int = 3) -> str:
    items = list(v.performance_metrics.items())[:limit]
    return ", ".join(f"{k}={val:.4g}" for k, val in items) or "-"


def _print_version(v: ModelVersion) -> None:
    pairs: list[tuple[str, object]] = [
        ("version", v.id),
        ("status", f"{v.status}" + (f" ({v.status_reason})" if v.status_reason else "")),
        ("algorithm", v.algorithm),
        ("aliases", v.aliases),
        ("tags", v.tags),
        ("metrics", v.performance_metrics),
        ("parameters", v.parameters),
        ("parent", v.parent_version),
        ("training job", v.training_job_id),
        ("data hash", v.training_data_hash),
        ("artifact", f"sha256:{v.artifact_sha256} ({v.artifact_size:,} bytes)"),
        ("estimator", v.signature.get("estimator")),
        ("inputs", v.signature.get("inputs")),
        ("classes", v.signature.get("classes")),
        ("created", f"{v.created_at:%Y-%m-%d %H:%M:%S} by {v.created_by}"),
        ("description", v.description or None),
    ]
    if v.training:
        search = v.training.get("search") or {}
        store = v.training.get("feature_store")
        if store:  # trained on a point-in-time training set from the feature store
            views = ", ".join(f"{k} v{n}" for k, n in store["views"].items())
            pairs += [("feature views", views), ("entities", store["entities"])]
        pairs += [
            ("data rows", v.training.get("data_rows")),
            ("seed", v.training.get("seed")),
            (
                "search",
                f"{search.get('strategy')} over {search.get('trials')} trials, best"
                f" {search.get('metric')} {search.get('best_score') or 0:.4g}"
                if search
                else None,
            ),
        ]
    fields(pairs)
    if v.validation:
        champion = v.validation.get("champion_version")
        table(
            ["GATE", "RESULT", "REASON"],
            [
                [g["name"], "pass" if g["passed"] else "FAIL", g["reason"]]
                for g in v.validation["gates"]
            ],
            title="validation" + (f" (champion {champion})" if champion else ""),
        )
