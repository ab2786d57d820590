"""Stored strings holding terminal escapes print as visible escapes in every human output.

A tag, reason, description or log line holding `ESC[2J` (clear the screen), an OSC title
(`ESC]0;…BEL`), NUL, a C1 control or a bidirectional override must never reach the terminal as
itself: the human output shows `\\x1b[2J`, and `--json` keeps the exact string.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.cli import output
from app.cli.output import SafeConsole
from app.visible import visible
from core.clock import utcnow
from core.engine import LocalEngine
from storage.repos import training as training_repo
from tests.cli.conftest import Mlc, Result

HOSTILE = "a\x1b[2Jb\x1b]0;pwned\x07c\x00d\x9be\u202ef[/]g"
SHOWN = "a\\x1b[2Jb\\x1b]0;pwned\\x07c\\x00d\\x9be\\u202ef[/]g"
RAW = ("\x1b", "\x00", "\x07", "\x9b", "\u202e")


def assert_safe(res: Result) -> None:
    for text in (res.out, res.err):
        assert not any(ch in text for ch in RAW), repr(text)


def assert_shown(res: Result, times: int = 1) -> None:
    assert res.code == 0, res.err
    assert_safe(res)
    assert res.out.count(SHOWN) >= times, res.out


@pytest.fixture
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    """Room for every column, so no cell folds in the middle of what the test looks for."""
    monkeypatch.setattr(output.console, "width", 1000)


@pytest.fixture
def hostile_store(mlc: Mlc, home: Path, artifact_file: Path) -> str:
    def ok(*args: str) -> None:
        res = mlc(*args)
        assert res.code == 0, res.err

    ok("models", "create", "credit-default", "--task", "classification",
       "--features", "age:numeric,region:categorical", "--description", HOSTILE)  # fmt: skip
    ok("versions", "register", "credit-default", str(artifact_file), "--algorithm",
       "logistic_regression", "--tag", f"note={HOSTILE}", "--description", HOSTILE)  # fmt: skip
    ok("versions", "transition", "credit-default", "v1", "validated", "--reason", HOSTILE)
    ok("deploy", "credit-default", "v1", "--reason", HOSTILE, "--yes")
    ok("alerts", "silence", "--model", "credit-default", "--for", "1h", "--comment", HOSTILE)
    # A job's log line as a worker could have written it (a data file named with escapes).
    engine = LocalEngine.open(home)
    try:
        with engine.store.write() as conn:
            training_repo.insert_job(conn, {
                "id": "job-hostile", "model_id": "credit-default", "status": "failed",
                "config": "{}", "config_path": None, "actor": "test", "created_at": utcnow(),
            })  # fmt: skip
            training_repo.update_job(conn, "job-hostile", error=HOSTILE, message=HOSTILE)
            training_repo.append_log(conn, "job-hostile", utcnow(), "info", f"loaded {HOSTILE}")
    finally:
        engine.close()
    return "credit-default"


@pytest.mark.parametrize(
    ("args", "times"),
    [
        (("models", "show", "credit-default"), 1),
        (("versions", "show", "credit-default", "v1"), 2),  # the tag and the description
        (("history", "credit-default"), 1),
        (("audit", "list"), 5),  # 3 reasons, the description and the comment as changed
        (("alerts", "silences"), 1),
        (("jobs", "show", "job-hostile"), 1),
        (("jobs", "logs", "job-hostile"), 1),
    ],
)
def test_human_output_shows_escapes_never_the_raw_characters(
    mlc: Mlc, hostile_store: str, wide: None, args: tuple[str, ...], times: int
) -> None:
    assert_shown(mlc(*args), times)


def test_json_keeps_the_exact_strings(mlc: Mlc, hostile_store: str) -> None:
    res = mlc("--json", "versions", "show", "credit-default", "v1")
    assert res.code == 0
    assert "\u202e" not in res.out and "\x9b" not in res.out  # written as \\u escapes
    assert res.json["description"] == HOSTILE and res.json["tags"]["note"] == HOSTILE
    records = mlc("--json", "audit", "list").json["records"]
    assert HOSTILE in [r["reason"] for r in records]
    logs = mlc("--json", "jobs", "logs", "job-hostile").json
    assert f"loaded {HOSTILE}" in [entry["message"] for entry in logs["logs"]]


def test_an_error_naming_a_stored_string_is_escaped(mlc: Mlc, hostile_store: str) -> None:
    # The job's error is stored; `jobs cancel` on the failed job says it has already ended.
    res = mlc("jobs", "cancel", "job-hostile")
    assert res.code == 4
    assert_safe(res)


def test_the_consoles_escape_whatever_a_command_prints(capsys: pytest.CaptureFixture) -> None:
    # The net under every message: a string printed directly, even inside markup, is escaped.
    out = SafeConsole(force_terminal=True, width=200)
    bare = HOSTILE.replace("[/]", "")
    out.print(f"[bold]{bare}[/]")
    out.print(HOSTILE, markup=False)
    text = capsys.readouterr().out
    assert not any(ch in text for ch in RAW[1:])
    plain = re.sub("\x1b\\[[0-9;]*m", "", text)  # Rich's own colour codes, and nothing else
    assert "\x1b" not in plain
    assert plain.splitlines() == [visible(bare), visible(HOSTILE)]


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[2J", "\\x1b[2J"),
        ("\x1b]0;title\x07", "\\x1b]0;title\\x07"),
        ("\x00", "\\x00"),
        ("\x7f\x85\x9b", "\\x7f\\x85\\x9b"),
        ("a\tb\r\nc", "a\\tb\\r\\nc"),
        ("\u202eevil\u2066", "\\u202eevil\\u2066"),
        ("\u2028", "\\u2028"),
        ("plain: é ß 中文 🙂 C:\\path", "plain: é ß 中文 🙂 C:\\path"),
    ],
)
def test_visible_escapes_each_control_character(raw: str, shown: str) -> None:
    assert visible(raw) == shown
    assert visible("line\nnext", keep_newlines=True) == "line\nnext"
