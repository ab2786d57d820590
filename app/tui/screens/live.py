"""Live: one model's traffic per version, refreshed every second — requests/s, latency
p50/p99, error rate and accuracy (MAE for regression) as labels arrive — charted over a 5m,
1h or 24h window, with a one-line summary per version above the charts whose figures all
come from one interval, the last `SUMMARY_S` seconds (named in its header)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from app.tui import fmt
from app.tui.routes import find_route
from app.tui.screens.base import ResourceScreen
from app.tui.widgets.metric_chart import Line, MetricChart, version_color
from app.tui.widgets.safe_static import SafeStatic
from core.clock import utcnow
from core.domain import Task
from core.fleet import WINDOW_S, VersionsHealth, window_text
from core.monitoring.series import (
    VersionSeries,
    aligned_start,
    bucket_for_window,
    chart_series,
    with_tail,
)

if TYPE_CHECKING:
    from core.monitoring.metrics import PerformanceMetrics

WINDOWS: tuple[tuple[str, int], ...] = (("5m", 300), ("1h", 3600), ("24h", 86400))
SUMMARY_S = WINDOW_S
"""The summary lines' interval, whatever the charts' window: a drop shows within it."""
WHOLE_EVERY_S = 15.0
"""Each poll reads only from the bucket the last one ended in; the whole window is read again
this often, for the labels (and late events) that arrived in older buckets meanwhile."""

ACCURACY = ("accuracy", (Line("accuracy"),), "no labels yet")
MAE = ("MAE", (Line("mae"),), "no labels yet")


@dataclass
class LiveData:
    """One refresh: every version's series over the window, and its summary over the last
    `SUMMARY_S` seconds up to the same `end`."""

    window_s: int
    bucket_s: int
    start: float
    end: float
    """Epoch seconds: the window [start, end) on whole buckets, `end` now."""
    right: float
    """The end of the bucket holding `end`: the chart's right edge, so its axis moves only
    when a new bucket starts."""
    task: Task
    series: list[VersionSeries]
    health: VersionsHealth
    traffic: dict[str, float] = field(default_factory=dict)
    """The production traffic map now."""


class LiveScreen(ResourceScreen):
    CRUMB = "live"
    REFRESH_S = 1.0
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [  # pyright: ignore[reportIncompatibleVariableOverride] Textual: `ClassVar[…] | None`
        (0, "-narrow"),
        (100, "-wide"),
    ]
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [  # pyright: ignore[reportIncompatibleVariableOverride] Textual: `ClassVar[…] | None`
        (0, "-short"),
        (30, "-tall"),
    ]
    BINDINGS: ClassVar = [
        Binding("w", "cycle_window", "Window", id="live.window",
                tooltip="Next window: 5m → 1h → 24h"),
        Binding("1", "window(0)", "5m", show=False, id="live.5m", tooltip="Window: last 5 minutes"),
        Binding("2", "window(1)", "1h", show=False, id="live.1h", tooltip="Window: last hour"),
        Binding("3", "window(2)", "24h", show=False, id="live.24h", tooltip="Window: last 24 hours"),
        Binding("d", "drift", "Drift", id="live.drift", tooltip="Feature drift of this model"),
    ]  # fmt: skip

    def __init__(self, model: str) -> None:
        super().__init__()
        self.model = model
        self.window_index = 0
        self._model_task: Task | None = None
        self._head: PerformanceMetrics | None = None
        """The last window read (poll thread only), slid forward by each poll."""
        self._whole_at = 0.0
        self._fetching = threading.Lock()

    @property
    def window(self) -> tuple[str, int]:
        return WINDOWS[self.window_index]

    def compose_body(self) -> ComposeResult:
        yield SafeStatic("", id="live-summary", markup=False)
        with VerticalScroll(id="live-charts"):
            yield MetricChart("requests/s", [Line("requests_per_s")], from_zero=True,
                              id="live-requests")  # fmt: skip
            yield MetricChart(
                "latency ms: line p99, dots p50",
                [Line("latency_p99_ms"), Line("latency_p50_ms", marker="dot", legend=False)],
                id="live-latency",
            )
            yield MetricChart("error rate %", [Line("error_rate")], scale=100, from_zero=True,
                              id="live-errors")  # fmt: skip
            title, lines, empty = ACCURACY
            yield MetricChart(title, lines, empty=empty, id="live-quality")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#live-charts").focus()

    def context(self) -> str:
        name, seconds = self.window
        return f"{self.model} · charts: last {name}, {bucket_for_window(seconds)} s buckets"

    def selected_model(self) -> str | None:
        return self.model

    # --- data -----------------------------------------------------------------------------

    def fetch(self) -> LiveData:
        with self._fetching:  # a window switch may start a poll while one is still running
            return self._fetch()

    def _fetch(self) -> LiveData:
        _, window_s = self.window
        engine = self.engine  # once: a poll still running as the app closes has no app
        if self._model_task is None:
            self._model_task = engine.get_model(self.model).task
        bucket_s = bucket_for_window(window_s)
        end = utcnow()
        start = aligned_start(end, window_s, bucket_s)
        head = self._head
        if (
            head is None
            or head.bucket_s != bucket_s
            or head.end <= start
            or time.monotonic() - self._whole_at > WHOLE_EVERY_S
        ):
            metrics = engine.get_performance_metrics(
                self.model, start=start, end=end, bucket_s=bucket_s
            )
            self._whole_at = time.monotonic()
        else:
            # Re-read from the bucket the last poll ended in: usually just the current one.
            tail = engine.get_performance_metrics(
                self.model, start=aligned_start(head.end, bucket_s, bucket_s), end=end,
                bucket_s=bucket_s,
            )  # fmt: skip
            metrics = with_tail(head, tail, start)
        self._head = metrics
        series = chart_series(metrics)
        # The summary up to the charts' end: the two never disagree by a poll's traffic.
        health = engine.health_by_version(self.model, window_s=SUMMARY_S, end=end)
        deployment = engine.get_deployment(self.model)
        return LiveData(
            window_s=window_s, bucket_s=bucket_s, start=start.timestamp(), end=end.timestamp(),
            right=(aligned_start(end, bucket_s, bucket_s) + timedelta(seconds=bucket_s)).timestamp(),
            task=self._model_task, series=series, health=health,
            traffic=dict(deployment.traffic) if deployment is not None else {},
        )  # fmt: skip

    def show(self, data: LiveData) -> None:
        if data.window_s != self.window[1]:
            return  # a poll from before the window changed: the next one is on its way
        if self.filter_text:  # `/v2`: only the versions named so
            data = replace(
                data,
                series=[s for s in data.series if self.matches(s.version or "")],
                health=replace(
                    data.health,
                    versions=[s for s in data.health.versions if self.matches(s.version or "")],
                ),
                traffic={v: w for v, w in data.traffic.items() if self.matches(v)},
            )
        with self.app.batch_update():
            self.query_one("#live-summary", Static).update(summary_text(data))
            quality = self.query_one("#live-quality", MetricChart)
            title, lines, empty = MAE if data.task is Task.REGRESSION else ACCURACY
            quality.set_metric(title, lines, empty=empty)
            for chart in self.query(MetricChart):
                chart.draw(data.series, start=data.start, end=data.right)

    # --- keys -----------------------------------------------------------------------------

    def action_window(self, index: int) -> None:
        if index == self.window_index:
            return
        self.window_index = index
        self.update_crumbs()
        self.poll_now()

    def action_cycle_window(self) -> None:
        self.action_window((self.window_index + 1) % len(WINDOWS))

    def action_drift(self) -> None:
        route = find_route("drift")
        assert route is not None
        self.console.open_route(route, self.model)


def summary_text(data: LiveData) -> Text:
    """One line per version — traffic share, req/s, latency, errors, accuracy or MAE, labels —
    every figure over the summary's interval, which the header names."""
    quality = "MAE" if data.task is Task.REGRESSION else "ACC"
    interval = f"last {window_text(data.health.window_s)}"
    text = Text(
        f"{'VERSION':<8}{'TRAFFIC':>8}{'REQ/S':>8}{'P50 ms':>8}{'P99 ms':>8}"
        f"{'ERR':>7}{quality:>7}{'LABELS':>8}",
        style="bold",
    )
    text.append(f"  {interval}", style="bold reverse")
    by_version = {s.version: s for s in data.health.versions}
    versions = sorted(
        set(by_version) | set(data.traffic),
        key=lambda v: (v is None, int(v[1:]) if v and v[1:].isdigit() else 0),
    )
    if not versions:
        text.append(f"\nno traffic in the {interval}", style="dim")
    for version in versions:
        s = by_version.get(version)
        weight = data.traffic.get(version) if version is not None else None
        text.append("\n")
        text.append(f"{version or '—':<8}", style=f"bold {version_color(version)}")
        text.append(f"{fmt.pct(weight) if weight is not None else '—':>8}")
        if s is None or s.requests == 0:
            text.append(f"{'0.0':>8}  no requests in the {interval}", style="dim")
            continue
        value = s.mae if data.task is Task.REGRESSION else s.accuracy
        err = Text(f"{fmt.pct(s.error_rate, 1):>7}",
                   style="bold red" if (s.error_rate or 0) >= 0.02 else "")  # fmt: skip
        text.append(f"{fmt.num(s.requests_per_s, 2):>8}{fmt.num(s.latency_p50_ms):>8}"
                    f"{fmt.num(s.latency_p99_ms):>8}")  # fmt: skip
        text.append_text(err)
        text.append(f"{fmt.ratio(value):>7}{s.labelled:>8}")
    return text
