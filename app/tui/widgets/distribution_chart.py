"""One feature's reference vs current distribution as paired text bars, one row per bin or
category: `▒` the training reference, `█` the live window. Characters, not only colours, tell
the two apart, so it reads the same in a 16-colour terminal or none.

It only draws what the view hands it (a `FeatureDistribution` from the engine). Plain text
rather than plotext: paired bars with 10–16 labelled rows stay legible at 80 columns, where
plotext's grouped bars lose their tick labels.
"""

from __future__ import annotations

import math

from rich.text import Text
from textual.events import Resize

from app.tui.widgets.safe_static import SafeStatic
from app.visible import visible
from core.monitoring.drift import FeatureDistribution
from core.stats.distribution import OTHER

REFERENCE, CURRENT = "▒", "█"


def short(value: float) -> str:
    """A bin edge in at most ~6 characters: `0.026`, `48.5`, `49k`, `1.2M`."""
    a = abs(value)
    if a >= 1_000_000:
        return f"{value / 1_000_000:.3g}M"
    if a >= 10_000:
        return f"{value / 1000:.3g}k"
    if a >= 100 or a == 0:
        return f"{value:.0f}"
    return f"{value:.3g}"


def bin_labels(dist: FeatureDistribution) -> list[str]:
    if dist.kind == "numeric":
        return [f"{short(a)}–{short(b)}" for a, b in zip(dist.edges, dist.edges[1:], strict=False)]
    # Categories are values from prediction events: escaped here, so the bars line up.
    return ["(other)" if c == OTHER else visible(c) for c in dist.categories]


def verdict_words(dist: FeatureDistribution) -> tuple[str, str]:
    """(words, style) for the feature's verdict."""
    if dist.status == "no_reference":
        return "no reference profile", "dim"
    if dist.status == "insufficient_data" or dist.drift is None:
        return "insufficient data", "yellow"
    if dist.drift.drifted:
        return "drifted", "bold red"
    return "stable", "green"


class DistributionChart(SafeStatic):
    DEFAULT_CSS = """
    DistributionChart { height: auto; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.distribution: FeatureDistribution | None = None
        """What the chart was last given (for tests and the view)."""
        self.note = ""

    def draw(self, dist: FeatureDistribution | None, note: str = "") -> None:
        """Show `dist`, or `note` alone (why there is nothing to show)."""
        self.distribution, self.note = dist, note
        self.update(self._text(self.content_size.width or 80))

    def on_resize(self, event: Resize) -> None:
        self.update(self._text(event.size.width - 2 or 80))

    def _text(self, width: int) -> Text:
        dist = self.distribution
        if dist is None:
            return Text(self.note or "select a feature to see its distribution", style="dim")
        words, style = verdict_words(dist)
        out = Text()
        out.append(f"{dist.feature}", style="bold")
        out.append(f" ({dist.kind}) ")
        out.append(words, style=style)
        if dist.drift is not None:
            d = dist.drift
            out.append(f" · {d.method} {d.statistic:.3g}")
            if d.psi is not None:
                out.append(f" · PSI {d.psi:.3f}")
        missing = f", {dist.current_missing:,} missing" if dist.current_missing else ""
        out.append(f"\n{REFERENCE} reference ({dist.reference_count:,} values)", style="dim")
        out.append(f"   {CURRENT} current ({dist.current_count:,} values{missing})")
        if self.note:
            out.append(f"\n{self.note}", style="yellow")
        labels = bin_labels(dist)
        if not labels:
            out.append("\nno values on either side", style="dim")
            return out
        ref = dist.reference or [math.nan] * len(labels)
        cur = dist.current or [math.nan] * len(labels)
        top = max([v for v in (*ref, *cur) if not math.isnan(v)] or [1.0]) or 1.0
        label_w = min(max(len(s) for s in labels), 20)
        bar_w = max(4, (width - label_w - 2 * 7 - 2) // 2)
        for label, r, c in zip(labels, ref, cur, strict=True):
            out.append(f"\n{label[:label_w]:<{label_w}} ")
            _bar(out, r, top, bar_w, REFERENCE, "blue")
            out.append(" ")
            _bar(out, c, top, bar_w, CURRENT, style)
        return out


def _bar(out: Text, share: float, top: float, width: int, char: str, style: str) -> None:
    if math.isnan(share):
        out.append(f"{'':<{width}}{'—':>6}", style="dim")
        return
    n = round(share / top * width)
    if share > 0 and n == 0:
        n = 1  # a non-empty bin is never invisible
    out.append(char * n, style=style if style not in ("dim", "yellow") else "")
    out.append(" " * (width - n))
    out.append(f"{share * 100:5.1f}%")
