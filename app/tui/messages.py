"""Typed messages that thread workers post back to the event loop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message


@dataclass
class Loaded(Message):
    """A poll of a screen's data finished."""

    data: Any


@dataclass
class LoadFailed(Message):
    """A poll failed; the screen keeps its last data and says why on the flash line."""

    error: str


@dataclass
class ActionDone(Message):
    """A mutating action finished: `text` goes to the flash line."""

    text: str
    ok: bool = True
