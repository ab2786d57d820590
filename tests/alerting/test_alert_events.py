"""System events (written by the rollout controller) become notifications."""

from __future__ import annotations

import json
from pathlib import Path

from core.alerting import AlertManager
from storage.migrations.runner import available
from storage.repos import rollouts as rollouts_repo
from storage.store import Store
from tests.alerting.conftest import MODEL, OTHER, T0, FakeClock, Values


def add_event(store: Store, clock: FakeClock, kind: str, severity: str, model: str | None) -> None:
    with store.write() as conn:
        rollouts_repo.add_system_event(
            conn, clock(), kind, severity, f"{model} production: {kind}", model, "production",
            '{"rollout": "ro_1"}',
        )  # fmt: skip


def test_new_warning_and_critical_events_go_to_the_console_once(
    manager: AlertManager, store: Store, clock: FakeClock, values: Values
) -> None:
    add_event(store, clock, "rollout.aborted", "critical", MODEL)
    add_event(store, clock, "rollout.step", "info", MODEL)  # info: not notified
    add_event(store, clock, "rollout.paused", "warning", OTHER)
    assert manager.evaluate(values) == []  # no state transitions: events are not alerts
    got = manager.console.recent(10)
    assert [(p["metric"], p["model"], p["severity"]) for p in got] == [
        ("event.rollout.aborted", MODEL, "critical"),
        ("event.rollout.paused", OTHER, "warning"),
    ]
    assert got[0]["state"] == "event" and got[0]["event"]["payload"] == {"rollout": "ro_1"}
    assert got[0]["event"]["environment"] == "production" and got[0]["alert_id"] is None
    manager.evaluate(values)
    assert len(manager.console.recent(10)) == 2  # the cursor is persisted: never twice
    add_event(store, clock, "rollout.aborted", "critical", MODEL)
    manager.evaluate(values)
    assert len(manager.console.recent(10)) == 3


def test_event_rules_route_to_their_channels(
    manager: AlertManager, store: Store, clock: FakeClock, values: Values, tmp_path: Path
) -> None:
    log = f"{tmp_path}/events.jsonl"
    rule = manager.create_rule(
        MODEL, "event.rollout.aborted", "==", 1, channels=[f"log:{log}"], actor="a"
    )
    add_event(store, clock, "rollout.aborted", "critical", MODEL)
    add_event(store, clock, "rollout.aborted", "critical", OTHER)  # no rule for OTHER: console
    manager.evaluate(values)
    assert values.calls == []  # event rules are not evaluated against values
    with open(log) as f:
        lines = [json.loads(line) for line in f.read().splitlines()]
    assert [(x["rule_id"], x["model"], x["kind"]) for x in lines] == [(rule.id, MODEL, "event")]
    assert [p["model"] for p in manager.console.recent(10)] == [OTHER]


def test_silenced_events_are_not_sent(
    manager: AlertManager, store: Store, clock: FakeClock, values: Values
) -> None:
    manager.silence(model_id=MODEL, duration_s=600, actor="a")
    add_event(store, clock, "rollout.aborted", "critical", MODEL)
    add_event(store, clock, "rollout.aborted", "critical", OTHER)
    manager.evaluate(values)
    assert [p["model"] for p in manager.console.recent(10)] == [OTHER]


def test_the_migration_starts_the_event_cursor_at_the_newest_stored_event(
    tmp_path: Path,
) -> None:
    """Events recorded before alerting existed are history, not news: simulate a store at
    schema 4 holding events, then upgrade it."""
    home = tmp_path / "s"
    with Store.open(home) as st:
        with st.write() as conn:
            conn.execute("DROP TABLE alert_cursors")
            for i in range(3):
                rollouts_repo.add_system_event(conn, T0, "rollout.aborted", "critical", f"e{i}")
        cursor_sql = next(m.sql for m in available() if m.name == "alerts").split("INSERT INTO")[1]
        with st.write() as conn:
            conn.execute("CREATE TABLE alert_cursors (name VARCHAR PRIMARY KEY, value BIGINT)")
            conn.execute("INSERT INTO" + cursor_sql.rstrip().rstrip(";"))
        mgr = AlertManager(st, now=lambda: T0)
        mgr.evaluate(lambda rule: None)
        assert mgr.console.recent(10) == []
        with st.write() as conn:
            rollouts_repo.add_system_event(conn, T0, "rollout.paused", "warning", "new")
        mgr.evaluate(lambda rule: None)
        assert [p["message"] for p in mgr.console.recent(10)] == ["[warning] rollout.paused: new"]
        mgr.close()
