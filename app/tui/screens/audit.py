"""Audit: who did what, when and why — newest first, narrowed by action family, actor or
model; the selected record's before and after below; `v` verifies the hash chain."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from app.tui import fmt
from app.tui.screens.base import ResourceScreen
from app.tui.screens.form import Field, FormScreen, Values
from app.tui.widgets.before_after import BeforeAfter
from app.tui.widgets.resource_table import ResourceTable
from app.tui.widgets.safe_static import SafeStatic
from core.domain import AuditRecord, AuditVerification
from core.errors import InvalidInput
from core.timeparse import parse_since

LIMIT = 500
COLUMNS = ("SEQ", "TIME", "ACTOR", "ACTION", "TARGET", "REASON")


@dataclass(frozen=True)
class Narrowing:
    """What the engine is asked for (action family, model, since) and the actor, which the
    engine cannot filter on, so the view narrows the fetched records by it."""

    action: str = ""
    actor: str = ""
    model: str = ""
    since: str = ""

    def words(self) -> str:
        parts = [f"{k} {v}" for k, v in (("action", self.action), ("actor", self.actor),
                                         ("model", self.model), ("since", self.since)) if v]  # fmt: skip
        return " · ".join(parts)


def family(action: str) -> str:
    """`abtest.split` → `abtest`: what the engine's action filter matches as a prefix."""
    return action.split(".", 1)[0]


def time_cell(when: datetime, now: datetime) -> str:
    when = when.astimezone(UTC)
    return when.strftime("%H:%M:%S" if when.date() == now.date() else "%m-%d %H:%M")


def verified_text(result: AuditVerification) -> str:
    if result.ok:
        return f"audit chain intact: {result.checked} records"
    if result.first_broken_seq is None:  # the chain holds, its head is gone
        return f"audit chain UNVERIFIED: {result.problem}"
    return f"audit chain BROKEN at record {result.first_broken_seq}: {result.problem}"


class AuditScreen(ResourceScreen):
    CRUMB = "audit"
    REFRESH_S = 3.0
    BINDINGS: ClassVar = [
        Binding("v", "verify", "Verify", id="audit.verify", tooltip="Verify the hash chain"),
        Binding("a", "narrow_action", "Action", id="audit.action",
                tooltip="Only the selected record's action family (again: all)"),
        Binding("w", "narrow_actor", "Actor", id="audit.actor",
                tooltip="Only the selected record's actor (again: everyone)"),
        Binding("n", "narrow", "Narrow", id="audit.narrow",
                tooltip="Narrow by action, actor, model, since (typed)"),
    ]  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self.narrowing = Narrowing()
        self.broken_seq: int | None = None

    def compose_body(self) -> ComposeResult:
        yield ResourceTable(id="audit-table")
        with VerticalScroll(id="audit-detail"):
            yield SafeStatic("", id="audit-record", markup=False)
            yield BeforeAfter(id="audit-change")

    def context(self) -> str:
        shown = self.narrowing.words() or f"newest {LIMIT}"
        return shown

    def fetch(self) -> list[AuditRecord]:
        n = self.narrowing
        since = parse_since(n.since) if n.since else None
        records = self.engine.list_audit(
            model=n.model or None, action=n.action or None, since=since, limit=LIMIT
        )
        records.reverse()  # newest first
        return records

    def shown(self, records: list[AuditRecord]) -> list[AuditRecord]:
        actor = self.narrowing.actor
        return [r for r in records if not actor or r.actor == actor]

    def show(self, data: list[AuditRecord]) -> None:
        now = datetime.now(UTC)
        rows = []
        for r in self.shown(data):
            broken = r.seq == self.broken_seq
            cells = (
                Text(f"{r.seq}" + (" BROKEN" if broken else ""),
                     style="bold red" if broken else ""),
                time_cell(r.at, now),
                r.actor,
                r.action,
                r.target,
                r.reason or "—",
            )  # fmt: skip
            if self.matches(*cells, r.model_id or ""):
                rows.append((str(r.seq), cells))
        self.query_one(ResourceTable).replace(COLUMNS, rows)
        if not rows:
            self.query_one("#audit-record", Static).update(
                Text("no records" + (" match" if data else " yet"), style="dim")
            )
            self.query_one(BeforeAfter).clear()
            return
        self._show_selected()

    def selected_record(self) -> AuditRecord | None:
        key = self.query_one(ResourceTable).selected_key
        records: list[AuditRecord] = self.last_data or []
        return next((r for r in records if str(r.seq) == key), None)

    def selected_model(self) -> str | None:
        record = self.selected_record()
        return record.model_id if record else None

    def _show_selected(self) -> None:
        r = self.selected_record()
        if r is None:
            return
        head = Text()
        head.append(f"#{r.seq} ", style="bold")
        head.append(f"{fmt.clock(r.at)} UTC  {r.actor}  ")
        head.append(r.action, style="bold")
        head.append(f"  {r.target}")
        if r.model_id and r.model_id not in r.target:
            head.append(f"  (model {r.model_id})")
        head.append(f"\nreason: {r.reason}" if r.reason else "\nno reason given", style="italic")
        self.query_one("#audit-record", Static).update(head)
        self.query_one(BeforeAfter).show(r.before, r.after)

    @on(DataTable.RowHighlighted, "#audit-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_selected()

    # --- keys -------------------------------------------------------------------------------

    def action_back(self) -> None:
        # esc clears the `/` filter first, then the narrowing, then goes back.
        if not self.filter_text and self.narrowing != Narrowing():
            self.narrow(Narrowing())
            return
        super().action_back()

    def narrow(self, narrowing: Narrowing) -> None:
        self.narrowing = narrowing
        self.update_crumbs()
        if self.last_data is not None:
            self.show(self.last_data)  # the actor narrows at once; the rest after the poll
        self.poll_now()

    def action_narrow_action(self) -> None:
        record = self.selected_record()
        if self.narrowing.action or record is None:
            self.narrow(replace(self.narrowing, action=""))
            return
        self.narrow(replace(self.narrowing, action=family(record.action)))

    def action_narrow_actor(self) -> None:
        record = self.selected_record()
        if self.narrowing.actor or record is None:
            self.narrow(replace(self.narrowing, actor=""))
            return
        self.narrow(replace(self.narrowing, actor=record.actor))

    def action_narrow(self) -> None:
        n = self.narrowing

        def validate(values: Values) -> str | None:
            if values["since"]:
                try:
                    parse_since(values["since"])
                except InvalidInput as e:
                    return str(e)
            return None

        def done(values: Values | None) -> None:
            if values is not None:
                self.narrow(Narrowing(**values))

        form = FormScreen(
            "Narrow the audit timeline",
            [
                Field("action", "Action or family (abtest, deployment.rollback)", n.action),
                Field("actor", "Actor (exactly)", n.actor),
                Field("model", "Model", n.model),
                Field("since", "Since (1h, 7d, or 2026-11-26T09:00)", n.since),
            ],
            note="Empty fields match everything; esc on the timeline clears them.",
            validate=validate,
            submit_label="Narrow",
        )
        self.app.push_screen(form, done)

    def action_verify(self) -> None:
        self.flash("verifying the audit chain…")
        self.prepare(self.engine.verify_audit, self._verified)

    def _verified(self, result: AuditVerification) -> None:
        self.broken_seq = None if result.ok else result.first_broken_seq
        self.flash(verified_text(result), "information" if result.ok else "error")
        if self.last_data is not None:
            self.show(self.last_data)
