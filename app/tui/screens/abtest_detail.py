"""One A/B test: its arms and split, the results per metric (lift and interval, p-value or
chance to beat, significance), the sample-ratio check, the guardrails and the advice in
words; and the actions: split, promote, start/pause, stop (all confirmed)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from app.tui import fmt
from app.tui.actions.abtest import (
    split_words,
    start_promote,
    start_split,
    start_stop,
    start_toggle,
)
from app.tui.screens.abtests import status_cell
from app.tui.screens.base import ResourceScreen
from app.tui.widgets.safe_static import SafeStatic
from core.abtesting import METRICS, MetricComparison, TestResults
from core.domain import ABTest, DeploymentRevision, TestStatus
from core.errors import MlcError


@dataclass(frozen=True)
class TestDetail:
    __test__ = False

    test: ABTest
    current: DeploymentRevision | None
    started_at: datetime | None
    results: TestResults | None
    problem: str | None
    """Why there is no analysis (a draft), in the engine's words."""


def _signed(value: float, metric: str) -> str:
    if METRICS[metric].proportion:
        return f"{value * 100:+.1f}"
    return f"{value:+.3g}"


def lift_cell(c: MetricComparison) -> str:
    unit = " pp" if METRICS[c.metric].proportion else (" ms" if c.metric == "latency_ms" else "")
    lo, hi = c.ci
    text = f"{_signed(c.lift, c.metric)}{unit} [{_signed(lo, c.metric)}, {_signed(hi, c.metric)}]"
    if c.rel_lift is not None and math.isfinite(c.rel_lift):
        text += f"\n{c.rel_lift * 100:+.1f}% relative"
    return text


def p_text(p: float | None) -> str:
    if p is None or math.isnan(p):
        return "—"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def p_cell(c: MetricComparison) -> str:
    if c.p_value is None:
        return "—"
    text = p_text(c.p_value)
    if c.adjusted_p is not None and c.adjusted_p != c.p_value:
        text += f"\nadj {p_text(c.adjusted_p)}"
    return text


def verdict(c: MetricComparison) -> Text:
    if c.better is True:
        return Text("BETTER", style="bold green")
    if c.better is False:
        return Text("WORSE", style="bold red")
    if c.significant:
        return Text("significant", style="bold")
    return Text("not significant", style="dim")


def mean_text(value: float | None, metric: str) -> str:
    if value is None or math.isnan(value):
        return "—"
    return fmt.pct(value, 1) if METRICS[metric].proportion else f"{value:.4g}"


def results_table(r: TestResults) -> RenderableType:
    if not r.comparisons:
        return Text("no comparison yet: each arm needs at least two measured units", style="dim")
    # A p-value (fixed, sequential) or a chance to beat (Bayesian): only the columns that apply.
    with_p = any(c.p_value is not None for c in r.comparisons)
    with_beat = any(c.chance_to_beat is not None for c in r.comparisons)
    table = Table(box=None, expand=True, header_style="bold", pad_edge=False)
    table.add_column("ARM", no_wrap=True)
    table.add_column("METRIC")
    table.add_column("CONTROL → ARM")
    table.add_column(f"LIFT [{1 - r.alpha:.0%} CI]", no_wrap=True)
    if with_p:
        table.add_column("P", no_wrap=True)
    if with_beat:
        table.add_column("P(BEAT)", no_wrap=True)
    table.add_column("RESULT")
    rank = {"primary": 0, "secondary": 1, "guardrail": 2}
    for c in sorted(r.comparisons, key=lambda c: (rank.get(c.role, 3), c.treatment)):
        cells: list[RenderableType] = [
            c.treatment,
            f"{c.metric}\n{c.role}",
            f"{mean_text(c.control_mean, c.metric)} → {mean_text(c.treatment_mean, c.metric)}"
            f"\nn {c.control_n:,} / {c.treatment_n:,}",
            lift_cell(c),
        ]
        if with_p:
            cells.append(p_cell(c))
        if with_beat:
            cells.append(fmt.pct(c.chance_to_beat) if c.chance_to_beat is not None else "—")
        cells.append(verdict(c))
        table.add_row(*cells)
    return table


def srm_line(r: TestResults) -> Text:
    srm = r.srm
    observed = srm.get("observed") or {}
    if not sum(observed.values()):
        return Text("no units yet", style="dim")
    counts = " · ".join(f"{v} {n:,}" for v, n in observed.items())
    if srm.get("mismatch"):
        expected = " · ".join(f"{v} {n:,.0f}" for v, n in (srm.get("expected") or {}).items())
        return Text(
            f"MISMATCH (p = {p_text(srm.get('p_value'))}): observed {counts}; expected {expected}",
            style="bold red",
        )
    return Text(f"ok (p = {p_text(srm.get('p_value'))}): {counts}")


def guardrail_lines(r: TestResults) -> Text:
    if not r.guardrails:
        return Text("none configured", style="dim")
    text = Text()
    for i, g in enumerate(r.guardrails):
        style = {"broken": "bold red", "ok": "green"}.get(g.status, "dim")
        if i:
            text.append("\n")
        text.append(f"{g.treatment} {g.metric}: ")
        text.append(g.status.upper() if g.status == "broken" else g.status, style=style)
        text.append(f" ({g.detail})")
    return text


def progress_text(r: TestResults) -> str:
    power = r.power
    progress = power.get("progress")
    remaining = int(power.get("remaining_per_arm") or 0)
    text = f"{fmt.pct(progress)} of the planned sample"
    if remaining:
        text += f" (about {remaining:,} more units per arm)"
    return text


def header(d: TestDetail) -> RenderableType:
    t = d.test
    control = t.model_versions[0]
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    title = Text.assemble((t.name, "bold"), f"  {t.id}  ", status_cell(t.status))
    grid.add_row("test", title)
    if t.status in (TestStatus.STOPPED, TestStatus.COMPLETED, TestStatus.INTERRUPTED) and t.reason:
        ended = f"ended {fmt.clock(t.ended_at)}: " if t.ended_at else ""
        style = "bold red" if t.status is TestStatus.INTERRUPTED else ""
        grid.add_row("why", Text(ended + t.reason, style=style))
    started = f"started {fmt.clock(d.started_at)}" if d.started_at else "not started"
    grid.add_row("model", f"{t.model_id}   {started}")
    grid.add_row("arms", f"{', '.join(t.model_versions)}   control {control}")
    grid.add_row("split", split_words(t.traffic_split, control))
    now = "nothing deployed"
    if d.current is not None:
        now = f"{fmt.traffic(d.current.traffic)}  (revision {d.current.revision}, {d.current.kind})"
    grid.add_row(str(t.environment), now)
    r = d.results
    if r is None:
        grid.add_row("results", Text(d.problem or "no analysis", style="dim"))
        return grid
    grid.add_row("method", f"{r.method}, alpha {r.alpha:g}, unit {r.unit}")
    grid.add_row("progress", progress_text(r))
    grid.add_row("SRM", srm_line(r))
    style = "bold green" if r.winner else ("bold red" if "blocked" in r.recommendation else "bold")
    grid.add_row("advice", Text(r.recommendation, style=style))
    grid.add_row("guardrails", guardrail_lines(r))
    for note in r.notes:
        grid.add_row("note", Text(note, style="dim"))
    return grid


class ABTestDetailScreen(ResourceScreen):
    REFRESH_S = 5.0
    """The analysis scans the test's events: heavier than a list, so every 5 s."""
    MUTATING = frozenset({"split", "promote", "toggle_test", "stop"})
    BINDINGS: ClassVar = [
        Binding("s", "split", "Split", id="ab.split", tooltip="Change the split (sums to 100)"),
        Binding(
            "P", "promote", "Promote", id="ab.promote", tooltip="100% of production to the winner"
        ),
        Binding("space", "toggle_test", "Start/pause", id="ab.toggle", tooltip="Start or pause"),
        Binding("S", "stop", "Stop", id="ab.stop", tooltip="End the test, restore traffic"),
    ]

    def __init__(self, test_id: str) -> None:
        super().__init__()
        self.test_id = test_id

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "filter":
            return False  # one test: nothing to filter (and the footer has no room to spare)
        return super().check_action(action, parameters)

    def crumb(self) -> str:
        data: TestDetail | None = self.last_data
        return data.test.name if data else self.test_id

    def context(self) -> str:
        data: TestDetail | None = self.last_data
        if data is None:
            return "loading…"
        return f"{data.test.model_id} · {data.test.status}"

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="abd-body"):
            yield SafeStatic("loading…", id="abd-head")
            yield SafeStatic("", id="abd-results")

    def fetch(self) -> TestDetail:
        test = self.engine.get_ab_test(self.test_id)
        current = self.engine.get_deployment(test.model_id, environment=test.environment)
        starts = [r for r in self.engine.list_audit(action="abtest.start") if r.target == test.id]
        results, problem = None, None
        if test.status is not TestStatus.DRAFT:
            try:
                results = self.engine.analyze_test_results(test.id)
            except MlcError as e:
                problem = str(e)
        else:
            problem = "a draft: start it (space) to send it traffic and see results"
        started = starts[0].at if starts else None
        return TestDetail(test, current, started, results, problem)

    def show(self, data: TestDetail) -> None:
        self.query_one("#abd-head", Static).update(header(data))
        body: RenderableType = Text("")
        if data.results is not None:
            body = Group(Text("results per metric", style="bold"), results_table(data.results))
        self.query_one("#abd-results", Static).update(body)

    def selected_model(self) -> str | None:
        data: TestDetail | None = self.last_data
        return data.test.model_id if data else None

    def action_split(self) -> None:
        start_split(self, self.test_id)

    def action_promote(self) -> None:
        start_promote(self, self.test_id)

    def action_toggle_test(self) -> None:
        # Not `action_toggle`: that name is DOMNode's own `toggle(attribute)` action.
        start_toggle(self, self.test_id)

    def action_stop(self) -> None:
        start_stop(self, self.test_id)
