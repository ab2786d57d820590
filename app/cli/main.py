"""The `mlc` command tree: the root options, and one sub-app per command group."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from app.cli import audit_cmd, models_cmd, training_cmd, versions_cmd
from app.cli.output import fail
from app.cli.state import CliState
from core.errors import MlcError


class MlcGroup(TyperGroup):
    """Maps the engine's errors to one line on stderr and the documented exit code."""

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MlcError as e:
            raise typer.Exit(fail(ctx.obj, e)) from e


app = typer.Typer(
    name="mlc",
    cls=MlcGroup,
    help="mlc, the model lifecycle console: train, register, deploy, monitor and roll back models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def root(
    ctx: typer.Context,
    store: Annotated[
        Path | None,
        typer.Option(
            "--store",
            envvar="MLC_HOME",
            help="Store directory (default $MLC_HOME, else $XDG_DATA_HOME/mlc, else ~/.local/share/mlc).",
            file_okay=False,
        ),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON document instead of a table.")
    ] = False,
) -> None:
    state = CliState(store=store, json=json_output)
    ctx.obj = state
    ctx.call_on_close(state.close)


app.add_typer(models_cmd.app, name="models")
app.add_typer(versions_cmd.app, name="versions")
app.add_typer(audit_cmd.app, name="audit")
app.add_typer(training_cmd.jobs_app, name="jobs")
app.command("train")(training_cmd.train)
app.command("validate")(training_cmd.validate)


def run() -> None:
    app()
