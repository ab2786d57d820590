"""A/B tests: every experiment, its arms and split, and how many units it has seen.

`enter` (or `:ab ID`) opens the test's detail: results, split editing, promote, stop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from app.tui import fmt
from app.tui.screens.base import ResourceScreen
from app.tui.widgets.resource_table import ResourceTable
from app.tui.widgets.safe_static import SafeStatic
from core.domain import ABTest, TestStatus
from core.errors import MlcError

if TYPE_CHECKING:
    from core.engine import Engine

# The id last: it is long, and the rest must show at 80 columns.
COLUMNS = ("NAME", "MODEL", "STATUS", "ARMS AND SPLIT", "STARTED", "SAMPLES", "TEST")
NAME_WIDTH = 24
"""A long name is clipped in the list (Enter shows it whole) so the samples stay in view."""

STATUS_STYLE = {
    TestStatus.RUNNING: "bold green",
    TestStatus.PAUSED: "yellow",
    TestStatus.DRAFT: "dim",
    TestStatus.STOPPED: "dim",
    TestStatus.COMPLETED: "cyan",
    TestStatus.INTERRUPTED: "bold red",
}


@dataclass(frozen=True)
class TestRow:
    __test__ = False

    test: ABTest
    started_at: datetime | None
    samples: dict[str, int] | None
    """Units per arm seen by the test (analysis of a live test, frozen results of an ended one)."""


def status_cell(status: TestStatus) -> Text:
    return Text(str(status).upper(), style=STATUS_STYLE.get(status, ""))


def arms_cell(split: dict[str, float]) -> str:
    """`v1 50% · v2 50%` in the test's order (the first is the control)."""
    return " · ".join(f"{v} {p:g}%" for v, p in split.items())


def samples_cell(samples: dict[str, int] | None) -> str:
    if not samples:
        return "—"
    return " / ".join(f"{n:,}" for n in samples.values())


def frozen_samples(test: ABTest) -> dict[str, int] | None:
    srm = (test.results or {}).get("srm")
    observed = srm.get("observed") if isinstance(srm, dict) else None
    if not isinstance(observed, dict):
        return None
    return {str(v): int(n) for v, n in observed.items()}


def load_rows(eng: Engine) -> list[TestRow]:
    """Runs in a thread: the tests, when each started (from the audit log), and samples."""
    tests = eng.list_ab_tests()
    started: dict[str, datetime] = {}
    for record in eng.list_audit(action="abtest.start"):
        started.setdefault(record.target, record.at)
    rows = []
    for test in tests:
        samples = frozen_samples(test)
        # An interrupted test froze nothing (it ended inside someone else's change): its
        # closed periods are analysed afresh.
        if test.status in (TestStatus.RUNNING, TestStatus.PAUSED, TestStatus.INTERRUPTED):
            try:
                samples = dict(eng.analyze_test_results(test.id).srm["observed"])
            except MlcError:
                samples = None
        rows.append(TestRow(test, started.get(test.id), samples))
    return rows


class ABTestsScreen(ResourceScreen):
    CRUMB = "ab"
    REFRESH_S = 5.0
    BINDINGS: ClassVar = [
        Binding("enter", "open", "Open", id="ab.open", tooltip="Results, split, promote, stop"),
    ]

    def __init__(self, item_id: str | None = None) -> None:
        super().__init__()
        self.item_id = item_id

    def compose_body(self) -> ComposeResult:
        yield ResourceTable(id="ab-table")
        yield SafeStatic("", id="ab-summary", markup=False)

    def on_mount(self) -> None:
        super().on_mount()
        if self.item_id is not None:
            self.open_test(self.item_id)

    def context(self) -> str:
        rows: list[TestRow] = self.last_data or []
        running = sum(1 for r in rows if r.test.status is TestStatus.RUNNING)
        return f"{len(rows)} tests · {running} running"

    def fetch(self) -> list[TestRow]:
        return load_rows(self.engine)

    def show(self, data: list[TestRow]) -> None:
        # Running tests first, then the newest.
        order = sorted(data, key=lambda r: r.test.created_at, reverse=True)
        order.sort(key=lambda r: r.test.status is not TestStatus.RUNNING)
        rows = []
        for r in order:
            t = r.test
            cells = (
                Text(fmt.clip(t.name, NAME_WIDTH), style="bold"),
                t.model_id,
                status_cell(t.status),
                arms_cell(t.traffic_split),
                fmt.ago(r.started_at) + " ago" if r.started_at else "not started",
                samples_cell(r.samples),
                t.id,
            )
            if self.matches(t.name, *cells):  # the whole name, not the clipped one
                rows.append((t.id, cells))
        self.query_one(ResourceTable).replace(COLUMNS, rows)
        summary = "arms in order, the first is the control · samples: units per arm"
        if not data:
            summary = "no A/B tests: mlc ab create MODEL --name NAME --versions v1,v2"
        self.query_one("#ab-summary", Static).update(summary)

    def selected_test(self) -> ABTest | None:
        key = self.query_one(ResourceTable).selected_key
        rows: list[TestRow] = self.last_data or []
        return next((r.test for r in rows if r.test.id == key), None)

    def selected_model(self) -> str | None:
        test = self.selected_test()
        return test.model_id if test else None

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        key = self.query_one(ResourceTable).selected_key
        if key is None:
            self.flash("no test selected", "warning")
            return
        self.open_test(key)

    def open_test(self, test_id: str) -> None:
        from app.tui.screens.abtest_detail import ABTestDetailScreen

        self.app.push_screen(ABTestDetailScreen(test_id))
