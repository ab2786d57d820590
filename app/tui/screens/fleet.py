"""Fleet: every model, what serves its production traffic, and whether it is healthy."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from app.tui import fmt
from app.tui.actions.rollback import start_rollback
from app.tui.routes import find_route
from app.tui.screens.base import ResourceScreen
from app.tui.widgets.resource_table import ResourceTable
from app.tui.widgets.safe_static import SafeStatic
from core.fleet import DRIFT_WINDOW_S, window_text

if TYPE_CHECKING:
    from core.fleet import ModelHealth

WINDOW_S = 60
"""Every figure of a row is over the last minute of production traffic (drift: its own,
longer interval, named in the context line)."""
COLUMNS = (
    "MODEL",
    "PRODUCTION",
    "REQ/S",
    "ERR",
    "P99 ms",
    "ACC/MAE",
    "DRIFT",
    "ALERTS",
    "ACTIVITY",
)


def quality(row: ModelHealth) -> str:
    if row.accuracy is not None:
        return fmt.ratio(row.accuracy)
    if row.mae is not None:
        return fmt.num(row.mae, 2)
    return "—"


def drift_cell(row: ModelHealth) -> Text:
    if row.drift_share is None:
        return Text({"insufficient_data": "few ev", "no_reference": "no ref"}.get(
            row.drift_status, "—"), style="dim")  # fmt: skip
    text = fmt.pct(row.drift_share)
    return Text(text, style="bold red" if row.drift_share >= 0.5 else "")


def alerts_cell(row: ModelHealth) -> Text:
    if not row.firing_alerts:
        return Text("ok", style="green")
    severity = str(row.max_severity or "warning")
    style = "bold red" if severity == "critical" else "bold yellow"
    # Short, so the column fits at 80 columns; the word survives a 16-colour terminal.
    short = {"critical": "CRIT", "warning": "WARN", "info": "INFO"}.get(severity, severity)
    return Text(f"{row.firing_alerts} {short}", style=style)


def activity(row: ModelHealth) -> str:
    parts = []
    if row.rollout is not None:
        r = row.rollout
        parts.append(
            f"rollout {r.canary_version} {r.canary_weight:g}% ({r.status}, step {r.step}/{len(r.steps)})"
        )
    for test in row.ab_tests:
        parts.append(f"A/B {test.name} ({test.status})")
    return "; ".join(parts) or "—"


def error_cell(row: ModelHealth) -> Text:
    if row.error_rate is None:
        return Text("—", style="dim")
    return Text(fmt.pct(row.error_rate, 1), style="bold red" if row.error_rate >= 0.02 else "")


class FleetScreen(ResourceScreen):
    CRUMB = "fleet"
    REFRESH_S = 1.0
    MUTATING = frozenset({"rollback"})
    BINDINGS: ClassVar = [
        Binding("enter", "open", "Model", id="fleet.open", tooltip="Versions and deployments"),
        Binding("l", "view('live')", "Live", id="fleet.live", tooltip="Live charts"),
        Binding("d", "view('drift')", "Drift", id="fleet.drift", tooltip="Feature drift"),
        Binding("o", "view('rollout')", "Rollout", id="fleet.rollout", tooltip="Rollout"),
        Binding("a", "view('ab')", "A/B", id="fleet.ab", tooltip="A/B tests"),
        Binding(
            "R",
            "rollback",
            "Rollback",
            id="fleet.rollback",
            tooltip="Roll production back to the last good revision",
        ),
    ]

    def compose_body(self) -> ComposeResult:
        yield ResourceTable(id="fleet-table")
        yield SafeStatic("", id="fleet-selected", markup=False)
        yield SafeStatic("", id="fleet-summary", markup=False)

    def context(self) -> str:
        drift = max(WINDOW_S, DRIFT_WINDOW_S)
        return f"production, last {window_text(WINDOW_S)} · drift: last {window_text(drift)}"

    def fetch(self) -> list[ModelHealth]:
        return self.engine.fleet_status(window_s=WINDOW_S)

    def show(self, data: list[ModelHealth]) -> None:
        self.console.known_models = [row.name for row in data]
        rows = []
        for row in data:
            cells = (
                Text(row.name, style="bold"),
                fmt.traffic(row.production),
                fmt.num(row.requests_per_s),
                error_cell(row),
                fmt.num(row.latency_p99_ms),
                quality(row),
                drift_cell(row),
                alerts_cell(row),
                activity(row),
            )
            if self.matches(*cells):
                rows.append((row.name, cells))
        self.query_one(ResourceTable).replace(COLUMNS, rows)
        firing = sum(r.firing_alerts for r in data)
        summary = f"{len(data)} model{'s' * (len(data) != 1)} · {firing} firing alert{'s' * (firing != 1)}"
        if not data:
            summary = "no models yet: mlc models create NAME, then mlc train NAME --config FILE"
        self.query_one("#fleet-summary", Static).update(summary)
        self._describe_selected()

    def _describe_selected(self) -> None:
        # The selected model in words: what the table's right-hand columns hold, readable
        # even at 80 columns where they scroll out of view.
        rows = {row.name: row for row in self.last_data or []}
        row = rows.get(self.selected_model() or "")
        text = ""
        if row is not None:
            parts = [f"{row.name}: production {fmt.traffic(row.production)}"]
            if row.staging:
                parts.append(f"staging {fmt.traffic(row.staging)}")
            if row.rate_s < row.window_s:
                # Why REQ/S is more than requests / window (core.fleet.rate_seconds).
                parts.append(f"traffic began inside the window: req/s over {row.rate_s:.0f} s")
            if row.invalid:  # refused input: the clients' errors, in no version's ERR
                parts.append(f"{row.invalid} invalid ({fmt.pct(row.invalid_rate, 1)} refused)")
            if row.firing_alerts:
                parts.append(f"{row.firing_alerts} FIRING ({row.max_severity})")
            if activity(row) != "—":
                parts.append(activity(row))
            text = " · ".join(parts)
        self.query_one("#fleet-selected", Static).update(text)

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._describe_selected()

    def selected_model(self) -> str | None:
        return self.query_one(ResourceTable).selected_key

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        self.action_view("model")

    def action_view(self, name: str) -> None:
        route = find_route(name)
        assert route is not None
        model = self.selected_model()
        if route.takes_model and model is None:
            self.flash("no model selected", "warning")
            return
        self.console.open_route(route, model if route.takes_model else None)

    def action_rollback(self) -> None:
        model = self.selected_model()
        if model is None:
            self.flash("no model selected", "warning")
            return
        start_rollback(self, model)
