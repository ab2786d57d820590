"""The console shows stored strings' control characters as visible escapes, never sends them.

Textual, like Rich, drops only BEL, BS, VT, FF and CR, and writes ESC, NUL and C1 controls to
the terminal as they are. The checks read what the app would write to the terminal (the
compositor's full update, as the driver sends it) and what a person reads on the screen.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from app.tui.launch import create_console
from app.tui.screens.alerts import AlertsScreen
from app.tui.screens.audit import AuditScreen
from app.tui.screens.jobs import JobsScreen
from app.tui.screens.model import ModelScreen
from core.clock import utcnow
from core.engine import LocalEngine
from storage.repos import training as training_repo
from tests.tui.conftest import MODEL, drive, screen_text, wait_for

HOSTILE = "a\x1b[2Jb\x1b]0;pwned\x07c\x00d\x9be\u202ef[/]g"
SHOWN = "a\\x1b[2Jb\\x1b]0;pwned\\x07c\\x00d\\x9be\\u202ef[/]g"
COMPOSED = SHOWN.replace("\\x07", "")
"""In text a view composes as a Rich `Text`, which drops BEL (BS, VT, FF, CR) itself."""
APP = Path(__file__).resolve().parents[2] / "app" / "tui"

# What Textual itself writes: cursor moves and colours. Anything else starting with ESC came
# from the data.
_OWN_SEQUENCES = re.compile(r"\x1b\[[0-9;]*[mH]")


def terminal_bytes(app: Any) -> str:
    """The whole screen as the driver would write it to the terminal."""
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    return update.render_segments(app.console)


def assert_terminal_safe(app: Any) -> None:
    sent = terminal_bytes(app)
    found = [ch for ch in ("\x00", "\x9b", "\u202e", "\x07") if ch in sent]
    assert found == [], [sent[max(sent.index(ch) - 40, 0) : sent.index(ch) + 10] for ch in found]
    assert "\x1b" not in _OWN_SEQUENCES.sub("", sent)


def hostile_fleet(fleet: LocalEngine, artifact_bytes: bytes) -> LocalEngine:
    fleet.deploy(MODEL, "v2", reason=HOSTILE)
    fleet.register_version(MODEL, artifact_bytes, algorithm="logistic_regression",
                           tags={"note": HOSTILE}, description=HOSTILE)  # fmt: skip
    fleet.transition_version(MODEL, "v4", "validated", reason=HOSTILE)
    fleet.silence_alerts(model=MODEL, duration_s=3600, comment=HOSTILE)
    # A job's message, error and log line as a worker could have left them.
    with fleet.store.write() as conn:
        training_repo.insert_job(conn, {
            "id": "job-hostile", "model_id": MODEL, "status": "failed", "config": "{}",
            "config_path": None, "actor": "test", "created_at": utcnow(),
        })  # fmt: skip
        training_repo.update_job(conn, "job-hostile", error=HOSTILE, message=HOSTILE)
        training_repo.append_log(conn, "job-hostile", utcnow(), "info", f"{HOSTILE}\nfake")
    return fleet


def test_reasons_messages_and_logs_show_as_escapes_in_every_view(
    fleet: LocalEngine, artifact_bytes: bytes
) -> None:
    app = create_console(hostile_fleet(fleet, artifact_bytes))

    async def script(pilot: Pilot[Any]) -> None:
        # The model: the deploy reason in the history table, v4's status reason below.
        await wait_for(pilot, lambda: MODEL in screen_text(app))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ModelScreen))
        await wait_for(pilot, lambda: "reason   " + COMPOSED in screen_text(app))
        await wait_for(pilot, lambda: f"test:alice  {SHOWN}" in screen_text(app))
        assert_terminal_safe(app)

        # The audit: reasons in the table and in the selected record.
        await pilot.press("colon", *"audit", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, AuditScreen))
        await wait_for(pilot, lambda: SHOWN in screen_text(app))
        assert_terminal_safe(app)

        # Jobs: the message, the error and the log line (its newline escaped too).
        await pilot.press("colon", *"jobs", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen))
        await wait_for(pilot, lambda: SHOWN + "\\nfake" in screen_text(app))
        assert f"error    {COMPOSED}" in screen_text(app)
        assert_terminal_safe(app)

        # Alerts: the silence's comment, beside the rules.
        await pilot.press("colon", *"alerts", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, AlertsScreen))
        await pilot.press("tab")
        await wait_for(pilot, lambda: COMPOSED in screen_text(app))
        assert_terminal_safe(app)

        # The flash line, given a message that names a stored string.
        app.screen.flash(f"cannot do it: {HOSTILE}", "error")
        await wait_for(pilot, lambda: f"error: cannot do it: {SHOWN}" in screen_text(app))
        assert_terminal_safe(app)

    drive(app, script, size=(160, 40))


def test_no_view_builds_a_text_widget_that_skips_the_escaping() -> None:
    """Views show text through SafeStatic, SafeLabel or ResourceTable only (app/tui/widgets)."""
    allowed = {APP / "widgets" / "safe_static.py", APP / "widgets" / "resource_table.py"}
    raw = {"Static", "Label", "DataTable", "RichLog", "Log", "Markdown", "Pretty", "TextArea"}
    offenders = []
    for path in sorted(APP.rglob("*.py")):
        if path in allowed:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", None))
            elif isinstance(node, ast.ClassDef):
                bases = [getattr(b, "id", getattr(b, "attr", None)) for b in node.bases]
                name = next((b for b in bases if b in raw), None)
            else:
                continue
            if name in raw:
                offenders.append(f"{path.relative_to(APP)}:{node.lineno} {name}")
    assert offenders == []
