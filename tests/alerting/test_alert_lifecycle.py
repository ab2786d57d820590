"""The alert state machine, with a fake clock: no sleeps."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import audit
from core.alerting import AlertManager, AlertStatus
from core.errors import Conflict, IllegalTransition, InvalidInput, NotFound
from storage.store import Store
from tests.alerting.conftest import MODEL, OTHER, FakeClock, Values

P = AlertStatus.PENDING
F = AlertStatus.FIRING
R = AlertStatus.RESOLVED
I = AlertStatus.INACTIVE  # noqa: E741


def states(manager: AlertManager, alert_id: str) -> list[tuple[str, str]]:
    return [
        (t.from_state.value, t.to_state.value)
        for t in manager.history(alert_id=alert_id)
        if t.kind == "state"
    ]


def console_kinds(manager: AlertManager) -> list[str]:
    return [p["kind"] for p in manager.console.recent(100)]


def test_fires_only_after_for_duration_dedupes_resolves_and_refires_as_new_alert(
    manager: AlertManager, clock: FakeClock, values: Values
) -> None:
    rule = manager.create_rule(MODEL, "error_rate", ">", 0.05, for_s=60, actor="alice")
    values.set(rule.id, 0.10)

    moves = manager.evaluate(values)
    assert [(m.from_state, m.to_state) for m in moves] == [(I, P)]
    (alert,) = manager.list_alerts()
    assert alert.state is P and alert.value == 0.10 and alert.samples == 500

    clock.advance(30)
    assert manager.evaluate(values) == []
    assert manager.get_alert(alert.id).state is P
    assert console_kinds(manager) == []  # pending never notifies

    clock.advance(30)  # true for exactly for_s
    moves = manager.evaluate(values)
    assert [(m.alert_id, m.to_state) for m in moves] == [(alert.id, F)]
    fired = manager.get_alert(alert.id)
    assert fired.state is F and fired.fired_at == clock() and fired.started_at < fired.fired_at
    assert console_kinds(manager) == ["firing"]

    # still true: the same alert, no second one (dedup), no new notification before repeat_s
    for _ in range(3):
        clock.advance(60)
        values.set(rule.id, 0.2)
        assert manager.evaluate(values) == []
    assert [a.id for a in manager.list_alerts()] == [alert.id]
    assert manager.list_alerts(state="open")[0].value == 0.2
    assert console_kinds(manager) == ["firing"]

    clock.advance(60)
    values.set(rule.id, 0.01)
    moves = manager.evaluate(values)
    assert [(m.from_state, m.to_state) for m in moves] == [(F, R)]
    resolved = manager.get_alert(alert.id)
    assert resolved.state is R and resolved.resolved_at == clock()
    assert console_kinds(manager) == ["firing", "resolved"]
    assert manager.list_alerts(state="open") == []

    # it comes back: a new alert, with its own for-duration
    clock.advance(600)
    values.set(rule.id, 0.3)
    (move,) = manager.evaluate(values)
    assert move.alert_id != alert.id and move.to_state is P
    clock.advance(60)
    (move2,) = manager.evaluate(values)
    assert move2.alert_id == move.alert_id and move2.to_state is F
    assert len(manager.list_alerts()) == 2
    assert [a.state for a in manager.list_alerts()] == [F, R]  # newest first
    assert states(manager, alert.id) == [("inactive", "pending"), ("pending", "firing"),
                                         ("firing", "resolved")]  # fmt: skip


def test_for_zero_fires_at_once(manager: AlertManager, values: Values) -> None:
    rule = manager.create_rule(MODEL, "latency_p99_ms", ">=", 250, actor="alice")
    values.set(rule.id, 250.0)
    (move,) = manager.evaluate(values)
    assert (move.from_state, move.to_state) == (I, F)
    assert console_kinds(manager) == ["firing"]
    payload = manager.console.recent(1)[0]
    assert payload["alert_id"] == move.alert_id and payload["model"] == MODEL
    assert payload["metric"] == "latency_p99_ms" and payload["value"] == 250.0
    assert payload["threshold"] == 250.0 and payload["comparison"] == ">="
    assert payload["state"] == "firing" and payload["severity"] == "warning"
    assert payload["fired_at"] == payload["started_at"] and payload["resolved_at"] is None
    assert isinstance(payload["notification_id"], int)
    assert "latency_p99_ms" in payload["message"]


def test_pending_goes_inactive_when_it_clears_before_for_duration(
    manager: AlertManager, clock: FakeClock, values: Values
) -> None:
    rule = manager.create_rule(MODEL, "accuracy", "<", 0.8, for_s=300, actor="alice")
    values.set(rule.id, 0.7)
    (m1,) = manager.evaluate(values)
    clock.advance(120)
    values.set(rule.id, 0.9)
    (m2,) = manager.evaluate(values)
    assert (m2.alert_id, m2.from_state, m2.to_state) == (m1.alert_id, P, I)
    assert manager.get_alert(m1.alert_id).state is I
    assert console_kinds(manager) == []
    # a later breach starts a fresh pending alert: the earlier 120 s do not count
    clock.advance(60)
    values.set(rule.id, 0.7)
    (m3,) = manager.evaluate(values)
    assert m3.alert_id != m1.alert_id and m3.to_state is P
    clock.advance(299)
    assert manager.evaluate(values) == []


def test_insufficient_data_never_fires_and_keeps_firing_alerts_firing(
    manager: AlertManager, clock: FakeClock, values: Values
) -> None:
    rule = manager.create_rule(MODEL, "drift_share", ">=", 0.5, actor="alice")
    values.set(rule.id, None)
    for _ in range(5):
        assert manager.evaluate(values) == []
        clock.advance(60)
    values.by_rule[rule.id] = (float("nan"), 3)  # NaN is no data either
    assert manager.evaluate(values) == []
    values.by_rule[rule.id] = (None, 0)
    assert manager.evaluate(values) == []
    assert manager.list_alerts() == []

    values.set(rule.id, 0.6)
    (fire,) = manager.evaluate(values)
    values.set(rule.id, None)
    clock.advance(60)
    assert manager.evaluate(values) == []
    assert manager.get_alert(fire.alert_id).state is F  # no data is not "resolved"
    values.set(rule.id, 0.1)
    (res,) = manager.evaluate(values)
    assert res.to_state is R


def test_a_failing_values_callback_is_insufficient_data_for_that_rule_only(
    manager: AlertManager, values: Values
) -> None:
    bad = manager.create_rule(MODEL, "rmse", ">", 1, actor="alice")
    good = manager.create_rule(MODEL, "mae", ">", 1, actor="alice")

    def flaky(rule: object) -> tuple[float, int] | None:
        if rule.id == bad.id:  # type: ignore[attr-defined]
            raise RuntimeError("boom")
        return (5.0, 10)

    (move,) = manager.evaluate(flaky)
    assert move.rule_id == good.id


def test_repeats_every_repeat_s_until_acknowledged(
    manager: AlertManager, clock: FakeClock, values: Values, store: Store
) -> None:
    rule = manager.create_rule(MODEL, "error_rate", ">", 0.05, repeat_s=600, actor="alice")
    values.set(rule.id, 0.5)
    (fire,) = manager.evaluate(values)
    clock.advance(599)
    manager.evaluate(values)
    assert console_kinds(manager) == ["firing"]
    clock.advance(1)
    manager.evaluate(values)
    assert console_kinds(manager) == ["firing", "repeat"]
    clock.advance(600)
    manager.evaluate(values)
    assert console_kinds(manager) == ["firing", "repeat", "repeat"]
    assert manager.get_alert(fire.alert_id).notifications == 3

    clock.advance(10)
    acked = manager.ack(fire.alert_id, "looking into it", actor="bob")
    assert acked.acknowledged and acked.acked_by == "bob" and acked.ack_comment == "looking into it"
    assert acked.state is F  # ack does not change the state
    for _ in range(5):
        clock.advance(600)
        manager.evaluate(values)
    assert console_kinds(manager) == ["firing", "repeat", "repeat"]

    with pytest.raises(Conflict, match="already acknowledged by bob"):
        manager.ack(fire.alert_id, "again", actor="carol")
    # resolution is still announced
    values.set(rule.id, 0.0)
    manager.evaluate(values)
    assert console_kinds(manager)[-1] == "resolved"
    with pytest.raises(IllegalTransition, match="resolved"):
        manager.ack(fire.alert_id, "late", actor="bob")
    kinds = [(t.kind, t.actor) for t in manager.history(alert_id=fire.alert_id)]
    assert ("ack", "bob") in kinds
    with store.read() as conn:
        (rec,) = audit.query(conn, action="alert.ack")
    assert rec.actor == "bob" and rec.target == fire.alert_id and rec.reason == "looking into it"


def test_ack_needs_a_comment_and_a_known_alert(manager: AlertManager) -> None:
    with pytest.raises(InvalidInput, match="comment"):
        manager.ack("a1", "  ", actor="bob")
    with pytest.raises(NotFound, match="a99"):
        manager.ack("a99", "x", actor="bob")


def test_repeat_zero_never_repeats(manager: AlertManager, clock: FakeClock, values: Values) -> None:
    rule = manager.create_rule(MODEL, "error_rate", ">", 0.05, repeat_s=0, actor="alice")
    values.set(rule.id, 0.5)
    for _ in range(5):
        manager.evaluate(values)
        clock.advance(10_000)
    assert console_kinds(manager) == ["firing"]


def test_silence_suppresses_notifications_until_expiry(
    manager: AlertManager, clock: FakeClock, values: Values, store: Store
) -> None:
    rule = manager.create_rule(MODEL, "error_rate", ">", 0.05, repeat_s=600, actor="alice")
    silence = manager.silence(rule_id=rule.id, duration_s=3600, comment="deploying", actor="bob")
    assert silence.ends_at == clock() + (silence.ends_at - silence.starts_at)
    assert [s.id for s in manager.list_silences(active_only=True)] == [silence.id]

    values.set(rule.id, 0.5)
    (fire,) = manager.evaluate(values)
    assert fire.to_state is F  # state still changes
    for _ in range(5):
        clock.advance(600)
        manager.evaluate(values)
    assert console_kinds(manager) == []
    assert manager.deliveries() == []

    clock.advance(600)  # 3600 s after the silence began: it has ended
    assert manager.list_silences(active_only=True) == []
    manager.evaluate(values)
    assert console_kinds(manager) == ["firing"]  # never notified, so it announces now
    with store.read() as conn:
        (rec,) = audit.query(conn, action="alert.silence")
    assert rec.target == silence.id and rec.actor == "bob" and rec.model_id == MODEL


def test_model_silence_and_early_expiry(
    manager: AlertManager, clock: FakeClock, values: Values
) -> None:
    mine = manager.create_rule(MODEL, "error_rate", ">", 0.05, actor="alice")
    other = manager.create_rule(OTHER, "error_rate", ">", 0.05, actor="alice")
    silence = manager.silence(model_id=MODEL, duration_s=7200, actor="bob")
    values.set(mine.id, 1.0)
    values.set(other.id, 1.0)
    manager.evaluate(values)
    assert [p["model"] for p in manager.console.recent(10)] == [OTHER]
    clock.advance(60)
    expired = manager.expire_silence(silence.id, actor="bob")
    assert expired.ends_at == clock() and expired.expired_by == "bob"
    with pytest.raises(IllegalTransition, match="already ended"):
        manager.expire_silence(silence.id, actor="bob")
    manager.evaluate(values)
    assert [p["model"] for p in manager.console.recent(10)] == [OTHER, MODEL]


def test_silenced_resolution_is_not_announced_but_recorded(
    manager: AlertManager, clock: FakeClock, values: Values
) -> None:
    rule = manager.create_rule(MODEL, "error_rate", ">", 0.05, actor="alice")
    values.set(rule.id, 1.0)
    manager.evaluate(values)
    manager.silence(rule_id=rule.id, duration_s=600, actor="bob")
    values.set(rule.id, 0.0)
    clock.advance(60)
    (res,) = manager.evaluate(values)
    assert res.to_state is R
    assert console_kinds(manager) == ["firing"]


def test_bad_silences_are_refused(manager: AlertManager) -> None:
    with pytest.raises(InvalidInput, match="rule or a model"):
        manager.silence(duration_s=60, actor="bob")
    for bad in (0, -5, float("nan"), float("inf")):
        with pytest.raises(InvalidInput, match="duration"):
            manager.silence(model_id=MODEL, duration_s=bad, actor="bob")
    with pytest.raises(NotFound, match="r42"):
        manager.silence(rule_id="r42", duration_s=60, actor="bob")
    with pytest.raises(NotFound, match="nope"):
        manager.silence(model_id="nope", duration_s=60, actor="bob")
    with pytest.raises(NotFound):
        manager.expire_silence("s77", actor="bob")


def test_history_lists_every_transition_and_filters(
    manager: AlertManager, clock: FakeClock, values: Values
) -> None:
    a = manager.create_rule(MODEL, "error_rate", ">", 0.05, for_s=60, actor="alice")
    b = manager.create_rule(OTHER, "accuracy", "<", 0.9, actor="alice")
    values.set(a.id, 1.0)
    values.set(b.id, 0.5)
    all_moves = manager.evaluate(values)
    clock.advance(60)
    all_moves += manager.evaluate(values)
    mid = clock.advance(60)
    values.set(a.id, 0.0)
    values.set(b.id, 0.95)
    all_moves += manager.evaluate(values)
    hist = manager.history()
    assert [h.id for h in hist] == [m.id for m in all_moves]
    assert [(h.model_id, h.from_state.value, h.to_state.value) for h in hist] == [
        (MODEL, "inactive", "pending"),
        (OTHER, "inactive", "firing"),
        (MODEL, "pending", "firing"),
        (MODEL, "firing", "resolved"),
        (OTHER, "firing", "resolved"),
    ]
    assert all(h.actor == "evaluator" and h.message for h in hist)
    assert [h.to_state for h in manager.history(model_id=OTHER)] == [F, R]
    assert len(manager.history(since=mid)) == 2
    assert [h.at for h in hist] == sorted(h.at for h in hist)
    assert manager.list_alerts(state="resolved", model_id=OTHER)[0].rule_id == b.id
    with pytest.raises(InvalidInput, match="unknown alert state"):
        manager.list_alerts(state="burning")


def test_disable_and_delete_close_open_alerts_and_are_audited(
    manager: AlertManager, values: Values, store: Store
) -> None:
    rule = manager.create_rule(MODEL, "error_rate", ">", 0.05, actor="alice")
    values.set(rule.id, 1.0)
    (fire,) = manager.evaluate(values)
    off = manager.set_active(rule.id, False, actor="bob")
    assert not off.is_active
    assert manager.get_alert(fire.alert_id).state is R
    values.calls.clear()
    assert manager.evaluate(values) == []
    assert values.calls == []  # disabled rules are not evaluated
    manager.set_active(rule.id, True, actor="bob")
    (again,) = manager.evaluate(values)
    assert again.alert_id != fire.alert_id
    manager.delete_rule(rule.id, actor="bob")
    assert manager.get_alert(again.alert_id).state is R
    assert manager.list_rules() == []
    with pytest.raises(NotFound):
        manager.get_rule(rule.id)
    with pytest.raises(NotFound):
        manager.delete_rule(rule.id, actor="bob")
    with store.read() as conn:
        actions = [r.action for r in audit.query(conn, action="alert.rule")]
        assert audit.verify_all(conn).ok
    assert actions == [
        "alert.rule.create", "alert.rule.disable", "alert.rule.enable", "alert.rule.delete",
    ]  # fmt: skip


def test_state_survives_reopening_the_store(
    tmp_path: Path, store: Store, clock: FakeClock, values: Values
) -> None:
    mgr = AlertManager(store, now=clock)
    rule = mgr.create_rule(MODEL, "error_rate", ">", 0.05, for_s=60, actor="alice")
    values.set(rule.id, 1.0)
    mgr.evaluate(values)
    home = store.home
    store.close()
    with Store.open(home) as reopened:
        mgr2 = AlertManager(reopened, now=clock)
        clock.advance(60)
        (move,) = mgr2.evaluate(values)
        assert move.from_state is P and move.to_state is F
        mgr2.close()


def test_the_owner_loop_evaluates_and_delivers_in_the_background(
    manager: AlertManager, values: Values
) -> None:
    import threading

    rule = manager.create_rule(MODEL, "error_rate", ">", 0.05, actor="alice")
    values.set(rule.id, 1.0)
    seen = threading.Event()

    def source(r: object) -> tuple[float | None, int] | None:
        got = values(r)
        if manager.console.count:
            seen.set()
        return got

    manager.start_loop(source, every_s=0.01, deliver_every_s=0.01)
    try:
        assert seen.wait(10), "the loop never delivered to the console"
    finally:
        manager.stop_loop()
    assert [a.state for a in manager.list_alerts()] == [F]
    assert manager.console.recent(5)[0]["kind"] == "firing"
