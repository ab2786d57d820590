"""`mlc models …`: create, list and show models."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.output import emit, fields, state, success, table
from core import names
from core.domain import Model

app = typer.Typer(
    help="Models: a name, a task, a target and a feature schema.", no_args_is_help=True
)


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A slug: lowercase letters, digits and hyphens.")],
    task: Annotated[str, typer.Option(help="classification or regression.")],
    target: Annotated[str | None, typer.Option(help="The label column.")] = None,
    features: Annotated[
        str | None, typer.Option(help="Feature schema: name:type,… (numeric, categorical, binary).")
    ] = None,
    description: Annotated[str, typer.Option(help="What the model is for.")] = "",
) -> None:
    """Create a model (no versions yet)."""
    feats = names.features_spec(features) if features else []
    model = (
        state(ctx)
        .engine()
        .create_model(name, task, target=target, features=feats, description=description)
    )
    emit(ctx, model, lambda: success(ctx, f"created model {model.id} ({model.task})"))


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """Every model, with its version count."""
    models = state(ctx).engine().list_models()

    def human() -> None:
        table(
            ["MODEL", "TASK", "TARGET", "FEATURES", "VERSIONS", "LATEST", "CREATED"],
            [
                [m.id, m.task, m.target, len(m.features), m.version_count, m.latest_version,
                 m.created_at]
                for m in models
            ],
        )  # fmt: skip

    emit(ctx, {"models": models}, human)


@app.command("show")
def show(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Model name.")]) -> None:
    """A model's schema and its versions."""
    engine = state(ctx).engine()
    model = engine.get_model(name)
    versions = engine.list_versions(name)

    def human() -> None:
        _print_model(model)
        if versions:
            table(
                ["VERSION", "STATUS", "ALGORITHM", "ALIASES", "CREATED"],
                [[v.version, v.status, v.algorithm, v.aliases, v.created_at] for v in versions],
                title="versions",
            )
        else:
            success(ctx, "no versions yet")

    emit(ctx, {"model": model, "versions": versions}, human)


def _print_model(model: Model) -> None:
    fields(
        [
            ("model", model.id),
            ("task", model.task),
            ("target", model.target),
            ("features", [f"{f.name}:{f.type}" for f in model.features]),
            ("description", model.description or None),
            ("created", f"{model.created_at:%Y-%m-%d %H:%M:%S} by {model.created_by}"),
        ]
    )
