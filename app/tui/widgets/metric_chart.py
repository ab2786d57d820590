"""A small time chart of one metric, one line per model version (plotext via textual-plotext).

It only draws: the view hands it chart-ready series (`core.monitoring.series`) and it redraws.
Time runs along x relative to the end of the window (`-5m` … `now`); a bucket without a value
is a gap in the line, never a zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textual_plotext import PlotextPlot

from core.monitoring.series import VersionSeries

COLORS = ("cyan", "magenta", "green", "yellow", "blue", "red", "white")
"""Basic ANSI colours (a 16-colour terminal shows them): the legend names the versions."""


@dataclass(frozen=True)
class Line:
    """What to draw of each version: a field of `VersionSeries`."""

    field: str
    marker: str = "braille"
    legend: bool = True
    """Name the version in the legend (once per version is enough when the title says which
    marker is which line)."""


def version_color(version: str | None) -> str:
    """A colour that stays with a version across refreshes (by its number)."""
    digits = (version or "").lstrip("v")
    if not digits.isdigit():
        return "gray"
    return COLORS[(int(digits) - 1) % len(COLORS)]


TICK_STEPS = (10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


def time_ticks(window_s: float, most: int = 6) -> tuple[list[float], list[str]]:
    """Round tick positions (seconds before the end, at most `most`) and their labels:
    `-5m -4m … now`, `-60m -45m … now`, `-24h -18h … now`."""
    step = next((s for s in TICK_STEPS if window_s / s < most), TICK_STEPS[-1])
    positions: list[float] = []
    t = 0.0
    while t <= window_s + 1e-9:
        positions.insert(0, -t)
        t += step
    return positions, [_ago(-p) for p in positions]


def _ago(seconds: float) -> str:
    if seconds < 1:
        return "now"
    if seconds < 60:
        return f"-{seconds:.0f}s"
    if seconds < 7200:
        return f"-{seconds / 60:.0f}m"
    return f"-{seconds / 3600:.0f}h"


class MetricChart(PlotextPlot):
    DEFAULT_CSS = """
    MetricChart { height: 1fr; min-height: 8; }
    """

    def __init__(
        self,
        title: str,
        lines: Sequence[Line],
        *,
        scale: float = 1.0,
        from_zero: bool = False,
        empty: str = "no traffic",
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.chart_title = title
        self.lines = tuple(lines)
        self.scale = scale
        """Multiplies every value (100 for a percentage)."""
        self.from_zero = from_zero
        self.empty = empty
        """What the title says when there is nothing to draw."""
        self.series: list[VersionSeries] = []
        """What the chart was last given (for tests and the view)."""
        self.window: tuple[float, float] = (0.0, 0.0)
        """(start, end) of the last drawing, epoch seconds."""
        self._drawn: object = None

    def set_metric(self, title: str, lines: Sequence[Line], *, empty: str | None = None) -> None:
        """Change what the chart shows (accuracy or MAE, once the model's task is known)."""
        self.chart_title, self.lines = title, tuple(lines)
        if empty is not None:
            self.empty = empty

    def draw(self, series: Sequence[VersionSeries], *, start: float, end: float) -> None:
        """Redraw with `series` over [start, end) (epoch seconds); nothing to do when what this
        chart shows of them has not changed (a quiet model costs no plotting)."""
        self.series, self.window = list(series), (start, end)
        fields = [line.field for line in self.lines]
        key = (start, end, self.chart_title, tuple(fields),
               tuple((s.version, *(tuple(getattr(s, f)) for f in fields)) for s in series))  # fmt: skip
        if key == self._drawn:
            return
        self._drawn = key
        plt = self.plt
        plt.clear_figure()
        drawn = False
        top = 0.0
        for s in self.series:
            color = version_color(s.version)
            name = s.version or "unversioned"
            for line in self.lines:
                values: list[float | None] = getattr(s, line.field)
                label: str | None = name if line.legend else None
                for xs, ys in _runs(s.x, values, end, self.scale):
                    # A lone point (a gap on both sides) as a dot: a braille pixel is too faint.
                    marker = line.marker if len(xs) > 1 else "dot"
                    plt.plot(xs, ys, label=label, color=color, marker=marker)
                    label = None  # once per line in the legend
                    drawn = True
                    top = max(top, *ys)
        plt.title(self.chart_title if drawn else f"{self.chart_title}: {self.empty}")
        positions, labels = time_ticks(end - start)
        plt.xticks(positions, labels)
        plt.xlim(start - end, 0)
        if self.from_zero or not drawn:
            plt.ylim(0, top * 1.1 if top > 0 else 1)
        self.refresh()


def _runs(
    x: Sequence[float], values: Sequence[float | None], end: float, scale: float
) -> list[tuple[list[float], list[float]]]:
    """The unbroken stretches of `values` (None breaks a line), x relative to `end`."""
    runs: list[tuple[list[float], list[float]]] = []
    xs: list[float] = []
    ys: list[float] = []
    for t, v in zip(x, values, strict=True):
        if v is None:
            if xs:
                runs.append((xs, ys))
                xs, ys = [], []
            continue
        xs.append(t - end)
        ys.append(v * scale)
    if xs:
        runs.append((xs, ys))
    return runs
