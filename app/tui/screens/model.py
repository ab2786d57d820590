"""Model: its versions, the selected one's lineage and validation gates, and the revision
history of staging and production. Deploy, start a rollout, roll back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from app.tui import fmt
from app.tui.actions.deploy import start_deploy
from app.tui.actions.rollback import start_rollback
from app.tui.actions.rollout import start_rollout_form
from app.tui.routes import find_route
from app.tui.screens.base import ResourceScreen
from app.tui.widgets.resource_table import ResourceTable
from app.tui.widgets.safe_static import SafeLabel, SafeStatic
from core.domain import DeploymentRevision, Model, ModelVersion

VERSION_COLUMNS = ("VERSION", "STATUS", "SERVING", "KEY METRICS", "ALGORITHM", "CREATED", "ALIASES")
HISTORY_COLUMNS = ("ENV", "REV", "KIND", "TRAFFIC", "STATE", "WHEN", "ACTOR", "REASON")
KEY_METRICS = {"classification": ("roc_auc", "accuracy", "f1"), "regression": ("mae", "rmse", "r2")}
SHORT = {"roc_auc": "auc", "accuracy": "acc"}
ENV_SHORT = {"production": "prod", "staging": "stg"}
STATUS_STYLE = {"production": "bold green", "staging": "cyan", "rejected": "bold red"}


@dataclass(frozen=True)
class ModelData:
    model: Model
    versions: list[ModelVersion]
    history: list[DeploymentRevision]
    """Both environments, oldest first."""
    full: dict[str, ModelVersion] = field(default_factory=dict)
    """Versions loaded in full this poll (training and validation never change, so once)."""

    def current(self, environment: str) -> DeploymentRevision | None:
        revs = [r for r in self.history if r.environment == environment]
        return revs[-1] if revs else None


def key_metrics(v: ModelVersion, task: str) -> str:
    metrics = v.performance_metrics
    names = [m for m in KEY_METRICS.get(task, ()) if m in metrics][:2] or list(metrics)[:2]
    return " ".join(f"{SHORT.get(m, m)} {metrics[m]:.3f}" for m in names) or "—"


def serving(v: ModelVersion, data: ModelData) -> Text:
    parts = []
    for env in ("production", "staging"):
        rev = data.current(env)
        if rev is not None and v.version in rev.traffic:
            parts.append(f"{ENV_SHORT[env]} {fmt.pct(rev.traffic[v.version])}")
    return Text(" ".join(parts) or "—", style="bold" if parts else "dim")


def version_lines(v: ModelVersion) -> Text:
    """Lineage, config and the validation gates of one version."""
    out = Text()
    status = Text(str(v.status).upper(), style=STATUS_STYLE.get(str(v.status), "bold"))
    out.append_text(Text(f"{v.version}  ", style="bold") + status)
    out.append(f"  {v.algorithm} · by {v.created_by} {fmt.clock(v.created_at)}")
    if v.status_reason:
        out.append(
            f"\nreason   {v.status_reason}", style="bold red" if v.status == "rejected" else ""
        )
    data_hash = (v.training_data_hash or "—")[:12]
    out.append(
        f"\nlineage  job {v.training_job_id or '—'} · data {data_hash} · parent"
        f" {v.parent_version or '—'}"
    )
    training = v.training or {}
    if training:
        config = training.get("config") or {}
        search = training.get("search") or {}
        # `data_path` is the file the job was started from (the config); the data is in it.
        source = _name(training.get("data_path"))
        line = f"\nconfig   {source} · data {_name((config.get('data') or {}).get('path'))}"
        if rows := training.get("data_rows"):
            line += f" ({rows:,} rows)"
        if search:
            line += f" · search {search.get('strategy')} ×{search.get('trials')} on {search.get('metric')}"
        if training.get("seed") is not None:
            line += f" · seed {training['seed']}"
        if params := (config.get("algorithm") or {}).get("params"):
            line += " · " + ", ".join(f"{k}={val}" for k, val in params.items())
        out.append(line)
    else:
        out.append("\nconfig   — (registered by hand, not trained by mlc)", style="dim")
    metrics = " · ".join(f"{k} {val:.4g}" for k, val in v.performance_metrics.items())
    out.append(f"\nmetrics  {metrics or '—'}")
    validation = v.validation
    if not validation:
        out.append("\ngates    — (no validation record)", style="dim")
        return out
    champion = validation.get("champion_version")
    verdict = "PASSED" if validation.get("passed") else "REJECTED"
    out.append("\ngates    ")
    out.append(verdict, style="bold green" if validation.get("passed") else "bold red")
    out.append(f" vs champion {champion}" if champion else " (no champion to compare)")
    for gate in validation.get("gates", []):
        passed = bool(gate.get("passed"))
        out.append("\n  ")
        out.append("pass" if passed else "FAIL", style="green" if passed else "bold red")
        out.append(f"  {gate.get('name', '?'):<14} {gate.get('reason', '')}")
    return out


def _name(path: object) -> str:
    """The file name of a stored path (`credit.parquet`), `—` when there is none."""
    return str(path).rsplit("/", 1)[-1] if path else "—"


def revision_lines(rev: DeploymentRevision, current: bool) -> Text:
    out = Text(f"{rev.environment} revision {rev.revision}", style="bold")
    out.append(f" · {rev.kind}")
    if current:
        out.append(" · serving now", style="bold green")
    if not rev.healthy:
        out.append(" · UNHEALTHY (rolled back or aborted; never a rollback target)", "bold red")
    out.append(f"\ntraffic  {fmt.traffic(rev.traffic)}")
    out.append(f"\nby       {rev.actor} at {fmt.clock(rev.created_at)}")
    out.append(f"\nreason   {rev.reason or '—'}")
    return out


class ModelScreen(ResourceScreen):
    REFRESH_S = 2.0
    MUTATING = frozenset({"deploy", "start_rollout", "rollback"})
    BINDINGS: ClassVar = [
        Binding("D", "deploy", "Deploy", id="model.deploy",
                tooltip="Deploy the selected version"),
        Binding("O", "start_rollout", "Start rollout", id="model.start_rollout",
                tooltip="Canary rollout of the selected version"),
        Binding("R", "rollback", "Rollback", id="model.rollback",
                tooltip="Roll production back (or the selected staging revision's)"),
        Binding("l", "view('live')", "Live", id="model.live", tooltip="Live charts"),
        Binding("d", "view('drift')", "Drift", id="model.drift", tooltip="Feature drift"),
        Binding("o", "view('rollout')", "Rollout", id="model.rollout",
                tooltip="This model's rollout"),
    ]  # fmt: skip

    def __init__(self, model: str) -> None:
        super().__init__()
        self.model = model
        self._info: Model | None = None
        self._full: dict[str, ModelVersion] = {}

    def crumb(self) -> str:
        return self.model

    def selected_model(self) -> str | None:
        return self.model

    def compose_body(self) -> ComposeResult:
        yield SafeLabel("versions  (tab: deployments)", classes="model-section")
        yield ResourceTable(id="model-versions")
        yield SafeStatic("", id="model-details")
        yield SafeLabel("deployments: production and staging revisions", classes="model-section")
        yield ResourceTable(id="model-history")

    def context(self) -> str:
        data: ModelData | None = self.last_data
        if data is None:
            return ""
        now = [
            f"{env} {fmt.traffic(rev.traffic)}"
            for env in ("production", "staging")
            if (rev := data.current(env)) is not None
        ]
        return f"{data.model.task} · " + (" · ".join(now) or "not deployed")

    # --- data ---------------------------------------------------------------------------

    def fetch(self) -> ModelData:
        model = self._info or self.engine.get_model(self.model)
        versions = self.engine.list_versions(self.model)
        full = {
            v.version: self.engine.get_version(self.model, v.version)
            for v in versions
            if v.version not in self._full
        }
        history = self.engine.deployment_history(self.model)
        return ModelData(model, versions, sorted(history, key=lambda r: r.created_at), full)

    def show(self, data: ModelData) -> None:
        self._info = data.model
        self._full.update(data.full)
        task = str(data.model.task)
        rows = []
        for v in reversed(data.versions):
            cells = (
                Text(v.version, style="bold"),
                Text(str(v.status), style=STATUS_STYLE.get(str(v.status), "")),
                serving(v, data),
                key_metrics(v, task),
                v.algorithm,
                fmt.ago(v.created_at),
                ", ".join(v.aliases) or "—",
            )
            if self.matches(*cells):
                rows.append((v.version, cells))
        self.versions_table.replace(VERSION_COLUMNS, rows)
        current = {(r.environment, r.revision) for env in ("production", "staging")
                   if (r := data.current(env)) is not None}  # fmt: skip
        history = []
        for rev in sorted(data.history, key=lambda r: r.created_at, reverse=True):
            is_current = (rev.environment, rev.revision) in current
            state = (
                Text("current", style="bold green")
                if is_current
                else Text("UNHEALTHY", style="bold red")
                if not rev.healthy
                else Text("")
            )
            cells = (
                str(rev.environment),
                str(rev.revision),
                rev.kind,
                fmt.traffic(rev.traffic),
                state,
                fmt.ago(rev.created_at),
                rev.actor,
                rev.reason or "—",
            )
            if self.matches(*cells):
                history.append((f"{rev.environment}:{rev.revision}", cells))
        self.history_table.replace(HISTORY_COLUMNS, history)
        self.show_details()

    def show_details(self) -> None:
        data: ModelData | None = self.last_data
        panel = self.query_one("#model-details", Static)
        if data is None:
            return
        if self.focused is self.history_table and (key := self.history_table.selected_key):
            env, _, number = key.partition(":")
            rev = next(
                (r for r in data.history if r.environment == env and str(r.revision) == number),
                None,
            )
            if rev is not None:
                current = data.current(env)
                panel.update(
                    revision_lines(rev, current is not None and current.revision == rev.revision)
                )
                return
            panel.update("")
            return
        version = self.selected_version()
        if version is None:
            panel.update(Text("no versions yet: mlc train MODEL --config FILE", style="dim"))
            return
        full = self._full.get(version)
        panel.update(version_lines(full) if full is not None else Text(version))

    @property
    def versions_table(self) -> ResourceTable:
        return self.query_one("#model-versions", ResourceTable)

    @property
    def history_table(self) -> ResourceTable:
        return self.query_one("#model-history", ResourceTable)

    def selected_version(self) -> str | None:
        return self.versions_table.selected_key

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_details()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        self.show_details()

    # --- keys ---------------------------------------------------------------------------

    def action_view(self, name: str) -> None:
        route = find_route(name)
        assert route is not None
        self.console.open_route(route, self.model)

    def _version_or_flash(self) -> str | None:
        version = self.selected_version()
        if version is None:
            self.flash("no version selected", "warning")
        return version

    def action_deploy(self) -> None:
        if (version := self._version_or_flash()) is not None:
            start_deploy(self, self.model, version)

    def action_start_rollout(self) -> None:
        if (version := self._version_or_flash()) is not None:
            start_rollout_form(self, self.model, version)

    def action_rollback(self) -> None:
        environment = "production"
        key = self.history_table.selected_key
        if self.focused is self.history_table and key is not None:
            environment = key.partition(":")[0]
        start_rollback(self, self.model, environment)
