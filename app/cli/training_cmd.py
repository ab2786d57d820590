"""`mlc train`, `mlc validate` and `mlc jobs …`: run training jobs and follow them."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from app.cli.output import cell, console, emit, err_console, fields, line, state, success, table
from app.visible import visible
from core.domain import TrainingJob, TrainingStatus

if TYPE_CHECKING:
    from core.engine import Engine

jobs_app = typer.Typer(help="Training jobs: status, trials, logs, cancel.", no_args_is_help=True)

EXIT_REJECTED = 4


def train(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name (must exist).")],
    config: Annotated[Path, typer.Option("--config", "-c", help="Training config (TOML).")],
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="Follow the job until it ends.")
    ] = False,
) -> None:
    """Train, tune and validate a new version from a config; registers it validated or rejected.

    Exit 0 when the new version is validated, 4 when the gates rejected it, 1 when the job failed.
    """
    engine = state(ctx).engine()
    job = engine.trigger_training(str(config), model=model)
    if not wait and engine.owns_store:
        if not state(ctx).json:
            err_console.print(
                "note: no mlc server owns this store, so the job runs in this process; waiting",
                markup=False,
            )
        wait = True
    if not wait:
        emit(
            ctx,
            {"job": job},
            lambda: success(
                ctx, f"queued {job.id}; follow it with: mlc jobs logs {job.id} --follow"
            ),
        )
        return
    try:
        job = _follow(ctx, engine, job)
    except KeyboardInterrupt:
        job = engine.cancel_training(job.id)
        err_console.print(f"cancelled {job.id}", markup=False)
        raise typer.Exit(130) from None
    version = engine.get_version(model, job.result_version) if job.result_version else None
    emit(ctx, {"job": job, "version": version}, lambda: _print_outcome(job, version))
    if job.status is not TrainingStatus.SUCCEEDED:
        raise typer.Exit(1)
    if job.outcome == "rejected":
        raise typer.Exit(EXIT_REJECTED)


def _follow(ctx: typer.Context, engine: Engine, job: TrainingJob) -> TrainingJob:
    quiet = state(ctx).json
    seen = 0
    bar = None
    task = None
    if not quiet and console.is_terminal:
        bar = Progress(
            TextColumn("[bold]{task.fields[job]}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TextColumn("{task.description}", markup=False),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        bar.start()
        task = bar.add_task(visible(job.message or "queued"), total=1.0, job=job.id)
    try:
        while True:
            details = engine.job_details(job.id, after_log=seen)
            job = details.job
            for entry in details.logs:
                seen = max(seen, int(entry["seq"]))
                if not quiet:
                    # Above the live bar, if there is one (it prints through the same console).
                    line(_log_line(entry))
            if bar is not None and task is not None:
                best = f" best {job.best_score:.4g}" if job.best_score is not None else ""
                description = visible(f"{job.message}{best}")  # a Text: no console escapes it
                bar.update(task, completed=job.progress, description=description)
            if job.status.finished:
                return job
            time.sleep(0.25)
    finally:
        if bar is not None:
            bar.stop()


def _log_line(entry: dict) -> str:
    # One record per line: a newline in a message is shown as \n, never as a fake record.
    return f"{entry['logged_at']:%H:%M:%S} {entry['level']:<7} {cell(entry['message'])}"


def _print_outcome(job: TrainingJob, version: object) -> None:
    from core.domain import ModelVersion

    if job.status is not TrainingStatus.SUCCEEDED:
        err_console.print(f"error: {job.id} {job.status}: {job.error or job.message}", markup=False)
        return
    assert isinstance(version, ModelVersion)
    verdict = "validated" if job.outcome == "validated" else "REJECTED"
    console.print(f"{version.id} {verdict}", markup=False)
    _print_validation(version.validation, version.performance_metrics)


def _print_validation(validation: dict | None, metrics: dict[str, float]) -> None:
    table(["METRIC", "HOLDOUT"], [[k, v] for k, v in metrics.items()])
    if validation:
        table(
            ["GATE", "RESULT", "REASON"],
            [
                [g["name"], "pass" if g["passed"] else "FAIL", g["reason"]]
                for g in validation["gates"]
            ],
        )


def validate(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    version: Annotated[str, typer.Argument(help="v3, 3 or an alias.")],
    data: Annotated[Path, typer.Option("--data", help="Labelled CSV or Parquet file.")],
) -> None:
    """Score a version on labelled data, against its own absolute gates (exit 4 if one fails)."""
    result = state(ctx).engine().validate_model(model, version, str(data))

    def human() -> None:
        table(["METRIC", "VALUE"], [[k, v] for k, v in result.metrics.items()])
        if result.gates:
            table(
                ["GATE", "RESULT", "REASON"],
                [[g.name, "pass" if g.passed else "FAIL", g.reason] for g in result.gates],
            )

    emit(ctx, {"metrics": result.metrics, "gates": result.gates, "passed": result.passed}, human)
    if not result.passed:
        raise typer.Exit(EXIT_REJECTED)


@jobs_app.command("list")
def jobs_list(
    ctx: typer.Context,
    model: Annotated[str | None, typer.Option(help="Only this model's jobs.")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 50,
) -> None:
    """Training jobs, newest first."""
    jobs = state(ctx).engine().list_jobs(model=model, limit=limit)

    def human() -> None:
        table(
            ["JOB", "MODEL", "STATUS", "PROGRESS", "TRIALS", "BEST", "RESULT", "CREATED", "MESSAGE"],
            [
                [j.id, j.model_id, j.status, f"{j.progress:.0%}", f"{j.trials_done}/{j.trials_total}",
                 j.best_score, f"{j.result_version} {j.outcome}" if j.result_version else None,
                 j.created_at, j.error or j.message]
                for j in jobs
            ],
        )  # fmt: skip

    emit(ctx, {"jobs": jobs}, human)


@jobs_app.command("show")
def jobs_show(ctx: typer.Context, job_id: Annotated[str, typer.Argument(metavar="JOB")]) -> None:
    """A job's status, every search trial, and its result."""
    details = state(ctx).engine().job_details(job_id)
    job = details.job

    def human() -> None:
        fields(
            [
                ("job", job.id),
                ("model", job.model_id),
                ("status", job.status),
                ("progress", f"{job.progress:.0%} {job.message}"),
                ("config", job.config_path),
                ("algorithm", (job.config.get("algorithm") or {}).get("name")),
                ("result", f"{job.result_version} ({job.outcome})" if job.result_version else None),
                ("error", job.error),
                ("created", f"{job.created_at:%Y-%m-%d %H:%M:%S} by {job.actor}"),
                ("started", job.started_at),
                ("finished", job.finished_at),
            ]
        )
        if details.trials:
            table(
                ["TRIAL", "SCORE", "STD", "TIME S", "STATUS", "PARAMS"],
                [[t["number"], t["score"], t["std"], t["fit_time_s"], t["status"], t["params"]]
                 for t in details.trials],
                title="trials",
            )  # fmt: skip

    emit(ctx, {"job": job, "trials": details.trials}, human)


@jobs_app.command("logs")
def jobs_logs(
    ctx: typer.Context,
    job_id: Annotated[str, typer.Argument(metavar="JOB")],
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing until the job ends.")
    ] = False,
) -> None:
    """A job's log lines."""
    engine = state(ctx).engine()
    if follow and not state(ctx).json:
        _follow(ctx, engine, engine.get_training_status(job_id))
        return
    details = engine.job_details(job_id)

    def human() -> None:
        for entry in details.logs:
            line(_log_line(entry))

    emit(ctx, {"job": job_id, "logs": details.logs}, human)


@jobs_app.command("cancel")
def jobs_cancel(ctx: typer.Context, job_id: Annotated[str, typer.Argument(metavar="JOB")]) -> None:
    """Cancel a queued or running job (exit 4 if it has already ended)."""
    job = state(ctx).engine().cancel_training(job_id)
    emit(ctx, job, lambda: success(ctx, f"{job.id} {job.status}"))
