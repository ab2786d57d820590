"""Stored strings made safe for a terminal: control characters shown as visible escapes.

Tags, reasons, descriptions, log lines and error messages come from anyone who could write
to the store. Printed raw, `ESC[2J` clears the operator's screen, `ESC]0;…` retitles the
window, a C1 `\\x9b` starts a sequence on terminals that honour 8-bit controls, NUL and the
bidirectional overrides hide or reorder what is shown. Neither Rich nor Textual stops them:
both drop only BEL, BS, VT, FF and CR, and pass ESC, NUL and C1 through to the terminal.

Every human output (the CLI's tables and messages, the console's widgets) passes what it
shows through `visible`: each such character becomes its Python escape (`\\x1b`, `\\x00`,
`\\u202e`), so the text reads as what was stored and nothing reaches the terminal as a
command. Backslashes are left alone: a Windows path in a description stays readable.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.text import Text

_OTHERS = (
    "\x7f-\x9f"  # DEL and the C1 controls
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidirectional marks and overrides
    "\u2028\u2029"  # line and paragraph separators
)
_UNSAFE = re.compile(f"[\x00-\x1f{_OTHERS}]")  # the C0 controls, ESC among them
_UNSAFE_KEEPING_NEWLINES = re.compile(f"[\x00-\x09\x0b-\x1f{_OTHERS}]")
_JSON_UNSAFE = re.compile(f"[{_OTHERS}]")  # a JSON encoder escapes the C0 controls itself
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str, *, keep_newlines: bool = False) -> str:
    """`text` with every control character as a visible escape (`\\x1b[2J`, `\\x00`).

    `keep_newlines` leaves line breaks alone, for a message made of several lines; a single
    value (a table cell, a field) shows its newlines as `\\n` so it cannot fake another row.
    """
    pattern = _UNSAFE_KEEPING_NEWLINES if keep_newlines else _UNSAFE
    if pattern.search(text) is None:  # the usual case: no copy
        return text
    return pattern.sub(_escape, text)


def json_visible(document: str) -> str:
    """A JSON document with DEL, C1 and the bidirectional controls written as `\\u` escapes
    (its encoder escaped the C0 controls): the same values to any JSON reader, and nothing
    that drives a terminal when it is printed to one. These characters occur only in strings."""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", document)


def visible_spans(text: str, *, keep_newlines: bool = False) -> tuple[str, list[int]] | None:
    """`visible(text)` and, for each offset of `text` (and its end), the offset it moved to,
    so styled spans can follow; None when nothing changes."""
    pattern = _UNSAFE_KEEPING_NEWLINES if keep_newlines else _UNSAFE
    if pattern.search(text) is None:
        return None
    parts: list[str] = []
    offsets: list[int] = []
    at = 0
    for ch in text:
        offsets.append(at)
        shown = pattern.sub(_escape, ch)
        parts.append(shown)
        at += len(shown)
    offsets.append(at)
    return "".join(parts), offsets


def visible_text(text: Text, *, keep_newlines: bool = True) -> Text:
    """A Rich `Text` with its control characters escaped and its styles kept in place."""
    from rich.text import Span, Text

    moved = visible_spans(text.plain, keep_newlines=keep_newlines)
    if moved is None:
        return text
    plain, offsets = moved
    return Text(
        plain,
        style=text.style,
        justify=text.justify,
        overflow=text.overflow,
        no_wrap=text.no_wrap,
        end=text.end,
        tab_size=text.tab_size,
        spans=[Span(offsets[s.start], offsets[s.end], s.style) for s in text.spans],
    )
