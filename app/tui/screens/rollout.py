"""Rollout: a model's progressive rollout in production — the steps with the current one
marked, the canary's weight, time in step, failures against the limit, and every guardrail
analysis. Pause, resume, promote, abort."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from app.tui import fmt
from app.tui.actions.rollout import confirm_rollout, ended_rollout
from app.tui.routes import find_route
from app.tui.screens.base import ResourceScreen
from app.tui.widgets.resource_table import ResourceTable
from app.tui.widgets.safe_static import SafeLabel, SafeStatic
from core.domain import DeploymentRevision, Rollout
from core.errors import NotFound

COLUMNS = ("STEP", "AT", "GUARDRAIL", "VALUE", "SAMPLES", "VERDICT", "DECISION", "REASON")
VERDICT = {"successful": ("pass", "green"), "failed": ("FAIL", "bold red"),
           "inconclusive": ("inconclusive", "yellow")}  # fmt: skip
DECISION = {"promote_step": "next step", "abort": "ABORT", "pause": "pause", "retry": "retry"}
STATUS_STYLE = {"running": "bold green", "paused": "bold yellow", "completed": "bold",
                "aborted": "bold red", "interrupted": "bold red"}  # fmt: skip


@dataclass(frozen=True)
class RolloutData:
    rollout: Rollout | None
    """None: the model has never had a rollout in production."""
    current: DeploymentRevision | None


def span(seconds: float) -> str:
    """`45s`, `10m`, `1.5h` for a length of time."""
    if seconds < 60:
        return f"{max(seconds, 0):.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.3g}m"
    return f"{seconds / 3600:.3g}h"


def steps_text(ro: Rollout) -> Text:
    """`5 → [25] → 50 → 100`, the weight now serving in brackets."""
    out = Text()
    for i, step in enumerate(ro.steps):
        if i:
            out.append(" → ")
        if i == ro.step_index:
            out.append(f"[{step:g}]", style="bold reverse")
        else:
            out.append(f"{step:g}", style="dim" if i > ro.step_index else "")
    return out


def summary(data: RolloutData, model: str, now: datetime | None = None) -> Text:
    ro = data.rollout
    if ro is None:
        return Text(
            f"no rollout for {model}\n\nstart one from the model view (enter on the fleet, then O)"
            f" or with: mlc rollout start {model} VERSION",
            style="dim",
        )
    now = now or datetime.now(UTC)
    out = Text(f"{ro.canary_version} canary on {ro.model_id} {ro.environment}  ", style="bold")
    out.append(str(ro.status).upper(), style=STATUS_STYLE.get(str(ro.status), "bold"))
    out.append(f"  rollout {ro.id}")
    out.append("\nsteps    ")
    out.append_text(steps_text(ro))
    out.append(f"   canary now {ro.canary_weight:g}% (step {ro.step_index + 1} of {len(ro.steps)})")
    serving = fmt.traffic(data.current.traffic) if data.current else "—"
    out.append(f"\nserving  {serving}    stable before: {fmt.traffic(ro.stable_traffic)}")
    in_step = (now - ro.step_started_at).total_seconds()
    line = f"\nstep     {span(in_step)} in step, interval {span(ro.interval_s)}"
    if ro.status == "running":
        line += f" · next analysis in {span(ro.interval_s - in_step)}"
    elif ro.status == "paused":
        line += " · paused: no analysis until resumed"
    out.append(line)
    out.append("\ngate     ")
    out.append(
        f"failures {ro.failures} of limit {ro.failure_limit}",
        style="bold red" if ro.failures > ro.failure_limit else "",
    )
    out.append(f" · min {ro.min_samples} samples · {'; '.join(ro.guardrails) or 'no guardrails'}")
    out.append(f"\nstarted  {fmt.clock(ro.started_at)} by {ro.actor}")
    if ro.reason:
        out.append(f"\nwhy      {ro.reason}")
    return out


def analysis_rows(ro: Rollout) -> list[tuple[str, tuple[Any, ...]]]:
    rows: list[tuple[str, tuple[Any, ...]]] = []
    for n, a in reversed(list(enumerate(ro.analyses))):
        at = fmt.clock(datetime.fromisoformat(a["at"]))[11:] if a.get("at") else "—"
        code: str = a.get("decision", "—")
        decision = DECISION.get(code, code)
        step = f"{a.get('step', '?')} ({a.get('weight', 0):g}%)"
        for i, m in enumerate(a.get("measurements") or [{}]):
            word, style = VERDICT.get(m.get("verdict", a.get("verdict", "")), ("—", ""))
            value = m.get("value")
            cells = (
                step,
                at,
                m.get("guardrail", "—"),
                "—" if value is None else f"{value:.4g}",
                str(m.get("samples", "—")),
                Text(word, style=style),
                Text(decision, style="bold red" if decision == "ABORT" else ""),
                m.get("reason", ""),
            )
            rows.append((f"{n}:{i}", cells))
    return rows


class RolloutScreen(ResourceScreen):
    CRUMB = "rollout"
    REFRESH_S = 1.0
    MUTATING = frozenset({"pause", "resume", "promote", "abort"})
    BINDINGS: ClassVar = [
        Binding("p", "pause", "Pause", id="rollout.pause", tooltip="Hold the canary's weight"),
        Binding("r", "resume", "Resume", id="rollout.resume",
                tooltip="Carry on stepping"),
        Binding("P", "promote", "Promote", id="rollout.promote",
                tooltip="Canary to 100% now"),
        Binding("A", "abort", "Abort", id="rollout.abort",
                tooltip="Back to the stable traffic"),
        Binding("m", "model", "Model", id="rollout.model", tooltip="Versions and deployments"),
    ]  # fmt: skip

    def __init__(self, model: str) -> None:
        super().__init__()
        self.model = model

    def selected_model(self) -> str | None:
        return self.model

    def compose_body(self) -> ComposeResult:
        yield SafeStatic("", id="rollout-summary")
        yield SafeLabel("guardrail analyses, newest first", classes="model-section")
        yield ResourceTable(id="rollout-analyses")

    def context(self) -> str:
        data: RolloutData | None = self.last_data
        if data is None:
            return self.model
        if data.rollout is None:
            return f"{self.model}: no rollout"
        return f"{self.model} {data.rollout.environment} · {data.rollout.status}"

    def fetch(self) -> RolloutData:
        try:
            rollout: Rollout | None = self.engine.get_rollout(self.model)
        except NotFound:
            rollout = None  # a model without a rollout is a normal state, not an error
        return RolloutData(rollout, self.engine.get_deployment(self.model))

    def show(self, data: RolloutData) -> None:
        self.query_one("#rollout-summary", Static).update(summary(data, self.model))
        rows = []
        if data.rollout is not None:
            rows = [(key, cells) for key, cells in analysis_rows(data.rollout)
                    if self.matches(*cells)]  # fmt: skip
        self.query_one(ResourceTable).replace(COLUMNS, rows)

    # --- keys ---------------------------------------------------------------------------

    def _has_rollout(self) -> bool:
        data: RolloutData | None = self.last_data
        if data is not None and data.rollout is None:
            self.flash(f"no rollout for {self.model}", "warning")
            return False
        return True

    def action_pause(self) -> None:
        if self._has_rollout():
            self.act(
                lambda: self.engine.pause_rollout(self.model, reason="paused from the console"),
                lambda ro: (
                    ended_rollout(ro, "pause")
                    or f"rollout {ro.id} paused: {ro.canary_version} holds {ro.canary_weight:g}%"
                ),
            )

    def action_resume(self) -> None:
        if self._has_rollout():
            self.act(
                lambda: self.engine.resume_rollout(self.model, reason="resumed from the console"),
                lambda ro: f"rollout {ro.id} resumed at {ro.canary_weight:g}%",
            )

    def action_promote(self) -> None:
        if self._has_rollout():
            confirm_rollout(self, self.model, "promote")

    def action_abort(self) -> None:
        if self._has_rollout():
            confirm_rollout(self, self.model, "abort")

    def action_model(self) -> None:
        below = self.app.screen_stack[-2] if len(self.app.screen_stack) > 1 else None
        if isinstance(below, ResourceScreen) and below.crumb() == self.model:
            self.console.go_back()  # came from this model's view: no second copy on the stack
            return
        route = find_route("model")
        assert route is not None
        self.console.open_route(route, self.model)
