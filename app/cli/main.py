"""The `mlc` command tree: the root options, and one sub-app per command group."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from typer._click.core import Context  # the vendored click's: what `invoke` is handed
from typer.core import TyperGroup

from app.cli import (
    ab_cmd,
    alerts_cmd,
    audit_cmd,
    console_cmd,
    demo_cmd,
    deploy_cmd,
    drift_cmd,
    features_cmd,
    models_cmd,
    monitoring_cmd,
    retrain_cmd,
    rollout_cmd,
    serve_cmd,
    status_cmd,
    tokens_cmd,
    training_cmd,
    versions_cmd,
)
from app.cli.output import fail
from app.cli.state import CliState
from core.errors import MlcError


class MlcGroup(TyperGroup):
    """Maps the engine's errors to one line on stderr and the documented exit code."""

    def invoke(self, ctx: Context) -> Any:
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
    server: Annotated[
        str | None,
        typer.Option(
            "--server",
            envvar="MLC_SERVER",
            help="Talk to the mlc server at this URL (http://host:8765) instead of a local store.",
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token", envvar="MLC_TOKEN", help="API token for --server (mlc tokens create)."
        ),
    ] = None,
) -> None:
    state = CliState(store=store, json=json_output, server=server, token=token)
    ctx.obj = state
    ctx.call_on_close(state.close)


app.add_typer(models_cmd.app, name="models")
app.add_typer(versions_cmd.app, name="versions")
app.add_typer(audit_cmd.app, name="audit")
app.add_typer(training_cmd.jobs_app, name="jobs")
app.command("train")(training_cmd.train)
app.command("validate")(training_cmd.validate)
app.add_typer(tokens_cmd.app, name="tokens")
app.command("serve")(serve_cmd.serve)
app.command("console")(console_cmd.console)
app.command("demo")(demo_cmd.demo)
app.command("deploy")(deploy_cmd.deploy)
app.command("history")(deploy_cmd.history)
app.command("traffic")(deploy_cmd.traffic)
app.command("rollback")(deploy_cmd.rollback)
app.command("predict")(deploy_cmd.predict)
app.add_typer(rollout_cmd.app, name="rollout")
app.command("ingest")(monitoring_cmd.ingest)
app.command("actuals")(monitoring_cmd.actuals)
app.command("metrics")(monitoring_cmd.metrics)
app.command("drift")(drift_cmd.drift)
app.add_typer(alerts_cmd.app, name="alerts")
app.add_typer(retrain_cmd.app, name="retrain-policies")
app.add_typer(ab_cmd.app, name="ab")
app.command("status")(status_cmd.status)
app.add_typer(features_cmd.app, name="features")


def run() -> None:
    app()
