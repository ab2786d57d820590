"""Jobs: training jobs with their progress, the selected job's last log lines; start one from
a config, cancel a running one. Refreshes every second while a job runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from app.tui import fmt
from app.tui.routes import find_route
from app.tui.screens.base import ResourceScreen
from app.tui.screens.confirm import ConfirmScreen
from app.tui.screens.form import Field, FormScreen, Values
from app.tui.widgets.resource_table import ResourceTable
from app.tui.widgets.safe_static import SafeStatic
from core.domain import TrainingJob
from core.training.pipeline import JobDetails

COLUMNS = ("JOB", "MODEL", "STATUS", "PROGRESS", "RESULT", "STARTED", "DURATION")
STATUS_STYLE = {"running": "bold green", "queued": "yellow", "failed": "bold red",
                "cancelled": "dim", "succeeded": ""}  # fmt: skip
BUSY_REFRESH_S = 1.0
IDLE_REFRESH_S = 5.0
LOG_LINES = 15


@dataclass(frozen=True)
class JobsData:
    jobs: list[TrainingJob]
    details: JobDetails | None
    """Trials and log of the selected job."""


def progress_bar(job: TrainingJob, width: int = 8) -> str:
    """`█████░░░  60%`, with `3/8` trials while a search runs."""
    filled = round(min(max(job.progress, 0.0), 1.0) * width)
    text = "█" * filled + "░" * (width - filled) + f" {fmt.pct(job.progress):>4}"
    if job.trials_total and not job.status.finished:
        text += f" {job.trials_done}/{job.trials_total}"
    return text


def duration(job: TrainingJob, now: datetime | None = None) -> str:
    if job.started_at is None:
        return "—"
    return fmt.ago(job.started_at, job.finished_at or now or datetime.now(UTC))


def result(job: TrainingJob) -> Text:
    if job.result_version:
        rejected = job.outcome == "rejected"
        return Text(
            f"{job.result_version} {job.outcome or ''}".strip(),
            style="bold red" if rejected else "bold green",
        )
    if job.status == "failed":
        return Text("failed", style="bold red")
    return Text("—", style="dim")


def details_text(job: TrainingJob, details: JobDetails | None, height: int) -> Text:
    out = Text(f"{job.id} · {job.model_id} · ", style="bold")
    out.append(str(job.status).upper(), style=STATUS_STYLE.get(str(job.status), "bold"))
    if job.message:
        out.append(f" · {job.message}")
    out.append(f"\nconfig   {job.config_path or '—'} · by {job.actor or '—'}")
    out.append(f" · created {fmt.clock(job.created_at)}")
    lines = 2
    if job.trials_total:
        best = f" · best {job.best_score:.4g}" if job.best_score is not None else ""
        out.append(f"\ntrials   {job.trials_done} of {job.trials_total}{best}")
        lines += 1
    if job.error:
        out.append(f"\nerror    {job.error}", style="bold red")
        lines += 1
    if details is None or details.job.id != job.id:
        return out
    room = max(min(LOG_LINES, height - lines - 1), 1)
    logs = details.logs[-room:]
    out.append(f"\nlog, last {len(logs)} of {len(details.logs)}:", style="dim")
    for entry in logs:
        level = str(entry.get("level", ""))
        at = fmt.clock(entry.get("logged_at"))[11:]
        style = "bold red" if level == "error" else "yellow" if level == "warning" else ""
        # One record per line: a newline in a message must not pass for another record.
        message = fmt.shown(str(entry.get("message", "")), cell=True)
        out.append(f"\n{at} {level:<7} {message}", style=style)
    return out


def check_config_path(values: Values) -> str | None:
    text = values["path"]
    if not text:
        return "give the path of a training config (TOML)"
    path = Path(text).expanduser()
    if not path.exists():
        return f"no file at {path}"
    if not path.is_file():
        return f"{path} is not a file"
    return None


class JobsScreen(ResourceScreen):
    CRUMB = "jobs"
    REFRESH_S = IDLE_REFRESH_S
    MUTATING = frozenset({"new_job", "cancel_job"})
    BINDINGS: ClassVar = [
        Binding("enter", "open", "Model", id="jobs.open", tooltip="The job's model"),
        Binding("n", "new_job", "New job", id="jobs.new",
                tooltip="Train from a TOML config"),
        Binding("c", "cancel_job", "Cancel job", id="jobs.cancel",
                tooltip="Stop the selected job"),
    ]  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self._selected: str | None = None
        """The job whose log to load (read by the poll thread)."""
        self._jump_to: str | None = None
        """A job just started here: put the cursor on it once it is listed."""

    def compose_body(self) -> ComposeResult:
        yield ResourceTable(id="jobs-table")
        yield SafeStatic("", id="jobs-details")

    def context(self) -> str:
        data: JobsData | None = self.last_data
        if data is None:
            return ""
        busy = sum(not j.status.finished for j in data.jobs)
        return f"{len(data.jobs)} jobs · {busy} running or queued"

    def fetch(self) -> JobsData:
        jobs = self.engine.list_jobs(limit=50)
        wanted = self._jump_to or self._selected or (jobs[0].id if jobs else None)
        listed = any(j.id == wanted for j in jobs)
        details = self.engine.job_details(wanted) if wanted and listed else None
        return JobsData(jobs, details)

    def show(self, data: JobsData) -> None:
        busy = any(not j.status.finished for j in data.jobs)
        # The poll's pace follows the work: every second only while something runs.
        self.REFRESH_S = BUSY_REFRESH_S if busy else IDLE_REFRESH_S  # type: ignore[misc]
        rows = []
        for job in data.jobs:
            cells = (
                job.id,
                job.model_id,
                Text(str(job.status), style=STATUS_STYLE.get(str(job.status), "")),
                progress_bar(job),
                result(job),
                fmt.ago(job.created_at if job.started_at is None else job.started_at),
                duration(job),
            )
            if self.matches(*cells):
                rows.append((job.id, cells))
        table = self.table
        table.replace(COLUMNS, rows)
        if self._jump_to is not None and self._jump_to in {key for key, _ in rows}:
            table.move_cursor(row=table.get_row_index(self._jump_to), animate=False)
            self._jump_to = None
        self._selected = table.selected_key
        self.show_details()

    def show_details(self) -> None:
        data: JobsData | None = self.last_data
        panel = self.query_one("#jobs-details", Static)
        job = self.selected_job()
        if data is None or job is None:
            panel.update(
                Text("no training jobs yet: n starts one from a config (TOML)", style="dim")
            )
            return
        panel.update(details_text(job, data.details, panel.size.height))

    @property
    def table(self) -> ResourceTable:
        return self.query_one("#jobs-table", ResourceTable)

    def selected_job(self) -> TrainingJob | None:
        data: JobsData | None = self.last_data
        key = self.table.selected_key
        if data is None or key is None:
            return None
        return next((j for j in data.jobs if j.id == key), None)

    def selected_model(self) -> str | None:
        job = self.selected_job()
        return job.model_id if job else None

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        # Read the cursor now, not the event's row: a redraw highlights rows on its way.
        key = self.table.selected_key
        if key != self._selected:
            self._selected = key
            self.show_details()
            self.poll_now()

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    # --- keys ---------------------------------------------------------------------------

    def action_open(self) -> None:
        model = self.selected_model()
        if model is None:
            self.flash("no job selected", "warning")
            return
        route = find_route("model")
        assert route is not None
        self.console.open_route(route, model)

    def action_new_job(self) -> None:
        engine = self.engine

        def start(values: Values | None) -> None:
            if values is None:
                self.flash("no job started")
                return
            path = str(Path(values["path"]).expanduser())

            def started(job: TrainingJob) -> str:
                self._jump_to = job.id
                return f"started {job.id}: training {job.model_id}"

            self.act(lambda: engine.trigger_training(path), started)

        form = FormScreen(
            "Start a training job",
            [Field("path", "Training config (TOML)", "", "sample_data/credit/credit.toml")],
            note="The config names the model ([model].name). Training runs in a worker\n"
            "process of the store's owner; a passing model is registered as validated.",
            validate=check_config_path,
            submit_label="Start",
        )
        self.app.push_screen(form, start)

    def action_cancel_job(self) -> None:
        job = self.selected_job()
        if job is None:
            self.flash("no job selected", "warning")
            return
        if job.status.finished:
            self.flash(f"job {job.id} already {job.status}: nothing to cancel", "warning")
            return
        engine, job_id = self.engine, job.id

        def done(reason: str | None) -> None:
            if reason is None:
                self.flash(f"job {job_id} keeps running")
                return
            self.act(
                lambda: engine.cancel_training(job_id),
                lambda j: f"job {j.id} {j.status}: nothing is registered",
            )

        dialog = ConfirmScreen(
            f"Cancel training job {job_id}?",
            [
                f"model    {job.model_id}",
                f"job      {job_id} ({job.status}, {progress_bar(job)})",
                "",
                "The worker is stopped; nothing is registered.",
            ],
            action_label="Cancel job",
        )
        self.app.push_screen(dialog, done)
