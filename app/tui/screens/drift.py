"""Drift: the serving version's live traffic against its training reference, per feature
(method, score against its threshold, p-value, PSI, the share of values missing in the window,
categories the reference never had, a verdict in words), the dataset verdict
and prediction drift, and the selected feature's reference vs current distribution.

An analysis costs ~0.1–0.2 s, so the view refreshes every 10 s (`r` asks now), not every
second; moving the cursor loads the new feature's distribution at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Static

from app.tui.routes import find_route
from app.tui.screens.base import ResourceScreen
from app.tui.widgets.distribution_chart import DistributionChart
from app.tui.widgets.resource_table import ResourceTable
from app.tui.widgets.safe_static import SafeStatic
from core.errors import MlcError, NotFound
from core.monitoring.drift_report import DriftReport
from core.stats.drift import DATASET_SHARE, DriftAnalysis

if TYPE_CHECKING:
    from core.monitoring.drift import FeatureDistribution
    from core.stats.drift import FeatureDrift

WINDOWS: tuple[tuple[str, int], ...] = (("15m", 900), ("1h", 3600), ("24h", 86400))
DEFAULT_WINDOW = 1
BINS = 12
COLUMNS = (
    "FEATURE", "VERDICT", "SCORE", "THRESHOLD", "P-VALUE", "PSI", "MISSING", "METHOD", "NEW",
    "TYPE",
)  # fmt: skip
"""MISSING is the window's share of missing values, NEW the categories the reference never had.
At 80 columns the table shows up to MISSING; METHOD (also in the chart's title), NEW and TYPE
are a scroll away, and on screen from 100 columns."""
METHODS = {
    "ks": "KS",
    "chi2": "chi-square",
    "z": "z-test",
    "wasserstein": "wasserstein/sd",
    "jensen_shannon": "jensen-shannon",
}
INSUFFICIENT = "insufficient data"


@dataclass
class DriftData:
    report: DriftReport
    window_s: int
    features: dict[str, str] = field(default_factory=dict)
    """Every feature analysed (or, with no verdicts, declared by the version) → its type."""
    distribution: FeatureDistribution | None = None
    distribution_error: str = ""


@dataclass
class DistributionLoaded(Message):
    """The selected feature's distribution arrived (from a cursor move)."""

    feature: str
    window_s: int
    distribution: FeatureDistribution | None
    error: str = ""


def verdict(row: FeatureDrift | None, status: str = "ok") -> Text:
    if row is None and status == "no_reference":
        return Text("no reference", style="dim")
    if row is None:
        # Too little traffic (or, with a verdict for others, no values of this feature).
        return Text(INSUFFICIENT, style="yellow")
    if row.drifted:
        return Text("drifted", style="bold red")
    return Text("stable", style="green")


def score(value: float) -> str:
    if math.isinf(value):
        return "inf"
    return f"{value:.3f}" if abs(value) < 100 else f"{value:.4g}"


def p_value(value: float | None) -> str:
    if value is None:
        return "—"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def missing(share: float) -> str:
    if share == 0:
        return "0%"
    return "<0.1%" if share < 0.001 else f"{share:.1%}"


def unseen(row: FeatureDrift) -> str:
    """Categories the reference never had: "—" for numeric features, "?" when the reference
    kept only its top 50 categories and a current one is not among them."""
    if row.kind == "numeric":
        return "—"
    return "?" if row.unseen_categories is None else str(row.unseen_categories)


def threshold(row: FeatureDrift) -> str:
    # Tests drift when the p-value falls below the threshold; distances when they reach it.
    return f"p<{row.threshold:g}" if row.p_value is not None else f"≥{row.threshold:g}"


class DriftScreen(ResourceScreen):
    CRUMB = "drift"
    REFRESH_S = 10.0
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [  # pyright: ignore[reportIncompatibleVariableOverride] Textual: `ClassVar[…] | None`
        (0, "-short"),
        (34, "-tall"),
    ]
    BINDINGS: ClassVar = [
        Binding("w", "cycle_window", "Window", id="drift.window",
                tooltip="Next window: 15m → 1h → 24h"),
        Binding("r", "refresh", "Refresh", id="drift.refresh", tooltip="Analyse again now"),
        Binding("l", "live", "Live", id="drift.live", tooltip="Live charts of this model"),
    ]  # fmt: skip

    def __init__(self, model: str) -> None:
        super().__init__()
        self.model = model
        self.window_index = DEFAULT_WINDOW
        self.feature: str | None = None
        """The selected feature (read by the poll thread: a plain string)."""

    @property
    def window(self) -> tuple[str, int]:
        return WINDOWS[self.window_index]

    def compose_body(self) -> ComposeResult:
        yield SafeStatic("", id="drift-summary", markup=False)
        yield ResourceTable(id="drift-table")
        with VerticalScroll(id="drift-dist-box"):
            yield DistributionChart(id="drift-dist")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(ResourceTable).focus()

    def context(self) -> str:
        version = self.last_data.report.version if self.last_data is not None else "…"
        version = version or "(no version serving)"
        return f"{self.model} {version} · last {self.window[0]} · every {self.REFRESH_S:g} s"

    def selected_model(self) -> str | None:
        return self.model

    # --- data -----------------------------------------------------------------------------

    def fetch(self) -> DriftData:
        window_s = self.window[1]
        try:
            report = self.engine.detect_drift(self.model, window_s=window_s)
        except NotFound as e:
            self.engine.get_model(self.model)  # an unknown model stays an error
            # Nothing deployed and no traffic: nothing to judge yet, which is not an error.
            report = DriftReport(self.model, "", window_s, DriftAnalysis(
                features=[], drift_share=0.0, dataset_drift=False, prediction=None,
                status="insufficient_data", current_size=0, reason=str(e),
            ))  # fmt: skip
        data = DriftData(report=report, window_s=window_s)
        data.features = {f.feature: f.kind for f in report.analysis.features}
        if not data.features and report.version:
            # No verdicts (too little traffic, no reference): still list what is watched.
            version = self.engine.get_version(self.model, report.version)
            declared = (version.validation or {}).get("features") or {}
            inputs = version.signature.get("inputs") or list(declared)
            data.features = {name: str(declared.get(name, "")) for name in inputs}
        if not data.features:
            model = self.engine.get_model(self.model)
            data.features = {f.name: f.type.value for f in model.features}
        if not report.version:
            data.distribution_error = report.analysis.reason
            return data
        feature = self.feature if self.feature in data.features else None
        feature = feature or next(iter(sorted_features(data)), None)
        if feature is not None:
            data.distribution, data.distribution_error = self._distribution(
                feature, report.version, window_s, report.end
            )
        return data

    def _distribution(
        self, feature: str, version: str, window_s: int, end: datetime | None
    ) -> tuple[FeatureDistribution | None, str]:
        try:
            found = self.engine.feature_distribution(
                self.model, feature, version=version, window_s=window_s, bins=BINS, end=end
            )
        except MlcError as e:
            return None, str(e)
        return found, ""

    def show(self, data: DriftData) -> None:
        if data.window_s != self.window[1]:
            return  # a poll from before the window changed: the next one is on its way
        analysis = data.report.analysis
        by_name = {f.feature: f for f in analysis.features}
        rows = []
        for name in sorted_features(data):
            row = by_name.get(name)
            kind = row.kind if row is not None else data.features.get(name, "")
            if row is None:
                none = verdict(None, analysis.status)
                cells: tuple[str | Text, ...] = (name, none, *["—"] * 7, kind)
            else:
                cells = (
                    name, verdict(row), score(row.statistic), threshold(row),
                    p_value(row.p_value), "—" if row.psi is None else f"{row.psi:.3f}",
                    missing(row.missing_share), METHODS.get(row.method, row.method), unseen(row),
                    kind,
                )  # fmt: skip
            if self.matches(*cells):
                rows.append((name, cells))
        with self.app.batch_update():
            self.query_one("#drift-summary", Static).update(summary_text(data))
            table = self.query_one(ResourceTable)
            table.replace(COLUMNS, rows)
            if self.feature is None and rows:
                self.feature = rows[0][0]
            if data.distribution is not None and data.distribution.feature == self.feature:
                self._draw_distribution(data.distribution, data.distribution_error)
            elif self.feature is not None and data.distribution_error:
                self.query_one(DistributionChart).draw(None, data.distribution_error)

    def _draw_distribution(self, dist: FeatureDistribution | None, error: str = "") -> None:
        note = error
        if dist is not None and dist.status == "insufficient_data":
            note = f"insufficient data: {dist.current_count:,} current values in the last " \
                   f"{self.window[0]}; a verdict needs more"  # fmt: skip
        self.query_one(DistributionChart).draw(dist, note)

    @on(DataTable.RowHighlighted, "#drift-table")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        # A refresh re-fills the table: ignore the highlights it passes through on its way back.
        if key is None or key == self.feature or event.cursor_row != event.data_table.cursor_row:
            return
        self.feature = str(key)
        data = self.last_data
        if data is not None and data.report.version:
            # Up to the verdicts' end, so the histogram counts the events they judged.
            report = data.report
            self._load_distribution(self.feature, report.version, self.window[1], report.end)

    @work(thread=True, exclusive=True, group="distribution", exit_on_error=False)
    def _load_distribution(
        self, feature: str, version: str, window_s: int, end: datetime | None
    ) -> None:
        found, error = self._distribution(feature, version, window_s, end)
        self.post_message(DistributionLoaded(feature, window_s, found, error))

    @on(DistributionLoaded)
    def _on_distribution(self, message: DistributionLoaded) -> None:
        message.stop()
        if message.feature == self.feature and message.window_s == self.window[1]:
            self._draw_distribution(message.distribution, message.error)

    # --- keys -----------------------------------------------------------------------------

    def action_cycle_window(self) -> None:
        self.window_index = (self.window_index + 1) % len(WINDOWS)
        self.update_crumbs()
        self.poll_now()

    def action_refresh(self) -> None:
        self.poll_now()

    def action_live(self) -> None:
        route = find_route("live")
        assert route is not None
        self.console.open_route(route, self.model)


def sorted_features(data: DriftData) -> list[str]:
    """Drifted features first (largest score first), then the others by name."""
    by_name = {f.feature: f for f in data.report.analysis.features}

    def key(name: str) -> tuple[int, float, str]:
        row = by_name.get(name)
        if row is not None and row.drifted:
            return (0, -row.statistic if not math.isinf(row.statistic) else -math.inf, name)
        return (1, 0.0, name)

    return sorted(data.features, key=key)


def summary_text(data: DriftData) -> Text:
    """The dataset verdict with the share of drifted features against its threshold, the
    sample size, and prediction drift, in words (the version and window are in the crumbs)."""
    analysis = data.report.analysis
    events = f"{analysis.current_size:,} events"
    text = Text()
    if analysis.status == "insufficient_data":
        text.append(f"{events} · ")
        text.append(INSUFFICIENT, style="bold yellow")
        text.append(f": {analysis.reason}; no verdict yet")
        return text
    if analysis.status == "no_reference":
        text.append("no reference", style="bold yellow")
        text.append(f": {analysis.reason} · {events}")
        return text
    if analysis.dataset_drift:
        text.append("DATASET DRIFT", style="bold red")
    else:
        text.append("no dataset drift", style="green")
    drifted = sum(1 for f in analysis.features if f.drifted)
    text.append(f" · {drifted} of {len(analysis.features)} features drifted "
                f"({analysis.drift_share:.0%}, threshold {DATASET_SHARE:.0%}) · {events}")  # fmt: skip
    p = analysis.prediction
    text.append("\nprediction drift: ")
    if p is None:
        text.append("not measured", style="dim")
    else:
        what = "score" if p.feature == "__score__" else "predictions"
        text.append(
            "drifted" if p.drifted else "stable", style="bold red" if p.drifted else "green"
        )
        text.append(f" ({what}: {METHODS.get(p.method, p.method)} {score(p.statistic)}, "
                    f"threshold {threshold(p)})")  # fmt: skip
    return text
