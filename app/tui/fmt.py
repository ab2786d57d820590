"""How the console writes numbers, traffic maps and times: short, aligned, unit-bearing; and
what it shows of stored strings: their control characters as visible escapes."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from rich.console import Group
from rich.json import JSON
from rich.table import Table
from rich.text import Text
from textual.content import Content, Span

from app.visible import visible, visible_spans, visible_text
from core.errors import InvalidInput


def shown(content: Any, *, cell: bool = False) -> Any:
    """`content` as a widget may put it on screen: every control character in its text as a
    visible escape (`app.visible`; Textual, like Rich, passes ESC, NUL and C1 to the terminal).

    Takes what views hand widgets: a string (markup or not), a Rich `Text`, Textual `Content`,
    and the Rich `Group`s, `Table`s and `JSON` built of them (escaped in place); other
    renderables (charts) are drawn from data that is escaped already. Line breaks the view wrote
    stay, but a data table's `cell` is one value on one line: its newlines show as `\\n`.
    """
    keep = not cell
    if isinstance(content, str):
        return visible(content, keep_newlines=keep)
    if isinstance(content, Text):
        return visible_text(content, keep_newlines=keep)
    if isinstance(content, Content):
        moved = visible_spans(content.plain, keep_newlines=keep)
        if moved is None:
            return content
        plain, at = moved
        return Content(plain, [Span(at[s.start], at[s.end], s.style) for s in content.spans])
    if isinstance(content, Group):
        return Group(*(shown(r) for r in content.renderables), fit=content.fit)
    if isinstance(content, Table):
        for column in content.columns:
            column._cells = [shown(c) for c in column._cells]
        return content
    if isinstance(content, JSON):
        # JSON escapes C0 controls, but writes DEL, C1 and bidirectional controls as they are.
        content.text = visible_text(content.text)
        return content
    return content


def traffic(weights: dict[str, float]) -> str:
    """`v1 90% · v2 10%` (the CLI's wording, `core.traffic.describe`); `—` when
    nothing is deployed."""
    if not weights:
        return "—"
    # Imported here: numpy behind the splitter is not needed for the console's first frame.
    from core.traffic import describe

    return describe(weights)


def clip(text: str, width: int) -> str:
    """`text` in at most `width` characters, the cut shown by `…`."""
    return text if len(text) <= width else text[: width - 1] + "…"


def pct(fraction: float | None, digits: int = 0) -> str:
    if fraction is None or (isinstance(fraction, float) and math.isnan(fraction)):
        return "—"
    text = f"{fraction * 100:.{digits}f}%"
    return text


def num(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if abs(value) >= 10_000:
        return f"{value / 1000:.0f}k"
    return f"{value:.{digits}f}"


def ratio(value: float | None, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:.{digits}f}"


def ago(when: datetime | None, now: datetime | None = None) -> str:
    """`12s`, `5m`, `3h`, `2d` since `when` (naive datetimes are UTC)."""
    if when is None:
        return "—"
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = ((now or datetime.now(UTC)) - when).total_seconds()
    if seconds < 60:
        return f"{max(seconds, 0):.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    if seconds < 86400:
        return f"{seconds / 3600:.0f}h"
    return f"{seconds / 86400:.0f}d"


def clock(when: datetime | None) -> str:
    """`2026-11-26 12:03:04` in UTC."""
    if when is None:
        return "—"
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when.strftime("%Y-%m-%d %H:%M:%S")


def parse_split(text: str, versions: list[str]) -> dict[str, float]:
    """`70,30` or `v1=70,v2=30` (percent) → `{v1: 0.7, v2: 0.3}`; ValueError says what is wrong."""
    parts = [p.strip() for p in text.replace(" ", ",").split(",") if p.strip()]
    if not parts:
        raise ValueError("give one percentage per version, e.g. 70,30")
    named: dict[str, float] = {}
    if all("=" in p for p in parts):
        for part in parts:
            version, _, value = part.partition("=")
            named[version.strip()] = _percent(value)
        unknown = sorted(set(named) - set(versions))
        if unknown:
            raise ValueError(f"unknown version {unknown[0]}: the arms are {', '.join(versions)}")
    else:
        if len(parts) != len(versions):
            raise ValueError(
                f"{len(parts)} numbers for {len(versions)} versions ({', '.join(versions)})"
            )
        named = {v: _percent(p) for v, p in zip(versions, parts, strict=True)}
    from core.traffic import percent_to_fractions

    try:
        return percent_to_fractions(named)
    except InvalidInput as e:
        raise ValueError(str(e)) from None


def _percent(text: str) -> float:
    try:
        return float(text.strip().rstrip("%"))
    except ValueError:
        raise ValueError(f"{text.strip()!r} is not a number") from None
