"""Channels and the delivery outbox: a real HTTP receiver on 127.0.0.1, a real log file."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from core.alerting import AlertManager
from core.alerting.channels import slack_payload
from storage.repos import alerts as repo
from tests.alerting.conftest import MODEL, FakeClock, Values


class Receiver:
    """A webhook endpoint that answers HTTP 500 to the first `failures` requests."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.requests: list[dict[str, Any]] = []
        self.accepted: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.requests.append(body)
                if len(receiver.requests) <= receiver.failures:
                    self.send_response(500)
                    self.end_headers()
                    return
                receiver.accepted.append(body)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hook"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver(failures=2) as r:
        yield r


def test_webhook_failing_twice_then_succeeding_gets_the_alert_exactly_once(
    manager: AlertManager, clock: FakeClock, values: Values, receiver: Receiver
) -> None:
    rule = manager.create_rule(
        MODEL, "error_rate", ">", 0.05, severity="critical",
        channels=["console", f"webhook:{receiver.url}"], actor="alice",
    )  # fmt: skip
    values.set(rule.id, 0.25, samples=400)
    (fire,) = manager.evaluate(values)  # attempt 1: HTTP 500
    assert len(receiver.requests) == 1 and receiver.accepted == []
    assert manager.console.recent(1)[0]["alert_id"] == fire.alert_id  # console unaffected

    (hook,) = [d for d in manager.deliveries() if d.channel.startswith("webhook:")]
    assert (
        hook.status == "retrying" and hook.attempts == 1 and "HTTP 500" in (hook.last_error or "")
    )
    assert hook.next_attempt_at == clock() + (hook.next_attempt_at - clock())
    assert (hook.next_attempt_at - clock()).total_seconds() == 5  # backoff base

    report = manager.deliver_pending()  # not due yet: nothing is sent
    assert report.attempted == 0 and len(receiver.requests) == 1

    clock.advance(5)
    report = manager.deliver_pending()  # attempt 2: HTTP 500, next in 10 s
    assert (report.attempted, report.failed) == (1, 1)
    clock.advance(9)
    assert manager.deliver_pending().attempted == 0
    clock.advance(1)
    report = manager.deliver_pending()  # attempt 3: accepted
    assert (report.attempted, report.delivered) == (1, 1)
    for _ in range(3):
        clock.advance(3600)
        manager.deliver_pending()
    assert len(receiver.requests) == 3
    assert len(receiver.accepted) == 1
    body = receiver.accepted[0]
    assert body["alert_id"] == fire.alert_id and body["rule_id"] == rule.id
    assert body["model"] == MODEL and body["metric"] == "error_rate"
    assert body["value"] == 0.25 and body["threshold"] == 0.05 and body["comparison"] == ">"
    assert body["state"] == "firing" and body["severity"] == "critical"
    assert body["started_at"] and body["fired_at"] and body["resolved_at"] is None
    assert body["event"] is None and "error_rate" in body["message"]
    assert set(body) >= {
        "alert_id", "rule_id", "model", "metric", "value", "threshold", "comparison", "state",
        "severity", "started_at", "fired_at", "resolved_at", "message", "event",
    }  # fmt: skip
    (done,) = [d for d in manager.deliveries() if d.channel.startswith("webhook:")]
    assert done.status == "delivered" and done.attempts == 3
    assert manager.deliveries(undelivered_only=True) == []


def test_a_dead_webhook_is_recorded_gives_up_and_never_stops_the_evaluator(
    manager: AlertManager, clock: FakeClock, values: Values, tmp_path: Path
) -> None:
    with Receiver(failures=0) as r:
        dead = r.url  # a port nobody listens on once the server is closed
    log = tmp_path / "alerts.jsonl"
    rule = manager.create_rule(
        MODEL, "error_rate", ">", 0.05, repeat_s=0,
        channels=[f"webhook:{dead}", f"log:{log}"], actor="a",
    )  # fmt: skip
    values.set(rule.id, 1.0)
    manager.evaluate(values)
    assert len(log.read_text().splitlines()) == 1  # the other channel still delivered
    for _ in range(10):
        clock.advance(3600)
        manager.evaluate(values)  # never raises
    (hook,) = [d for d in manager.deliveries() if d.channel.startswith("webhook:")]
    assert hook.status == "failed" and hook.attempts == manager.max_attempts
    assert hook.gave_up_at is not None and "POST" in (hook.last_error or "")


def test_log_file_channel_writes_json_lines(
    manager: AlertManager, clock: FakeClock, values: Values, tmp_path: Path
) -> None:
    log = tmp_path / "alerts.jsonl"
    rule = manager.create_rule(
        MODEL, "latency_p95_ms", ">", 200, repeat_s=300, channels=[f"log:{log}"], actor="a"
    )
    values.set(rule.id, 350.0)
    manager.evaluate(values)
    clock.advance(300)
    manager.evaluate(values)
    clock.advance(10)
    values.set(rule.id, 120.0)
    manager.evaluate(values)
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [x["kind"] for x in lines] == ["firing", "repeat", "resolved"]
    assert [x["state"] for x in lines] == ["firing", "firing", "resolved"]
    assert lines[-1]["value"] == 120.0 and lines[-1]["resolved_at"] is not None
    assert len({x["notification_id"] for x in lines}) == 3
    assert manager.console.recent(10) == []  # only the rule's channels


def test_unwritable_log_file_is_a_recorded_failure(
    manager: AlertManager, values: Values, tmp_path: Path
) -> None:
    target = tmp_path / "missing-dir" / "alerts.jsonl"
    rule = manager.create_rule(MODEL, "error_rate", ">", 0, channels=[f"log:{target}"], actor="a")
    values.set(rule.id, 1.0)
    manager.evaluate(values)
    (d,) = manager.deliveries()
    assert d.status == "retrying" and "cannot write" in (d.last_error or "")


def test_slack_channel_posts_a_slack_payload(manager: AlertManager, values: Values) -> None:
    with Receiver(failures=0) as r:
        rule = manager.create_rule(
            MODEL, "f1", "<", 0.7, severity="critical", channels=[f"slack:{r.url}"], actor="a"
        )
        values.set(rule.id, 0.5)
        manager.evaluate(values)
        (body,) = r.accepted
    assert set(body) == {"text", "blocks"}
    assert MODEL in body["text"] and "f1" in body["text"] and ":red_circle:" in body["text"]
    assert body["blocks"][0]["type"] == "section"


def test_slack_payload_for_resolution() -> None:
    out = slack_payload({"kind": "resolved", "message": "m is fine", "severity": "warning"})
    assert out["text"].startswith(":white_check_mark:") and "m is fine" in out["text"]


def test_slack_payload_without_a_known_severity_has_no_icon() -> None:
    # A payload may lack a severity or carry one that is not text: no icon, never a crash.
    for severity in ({}, {"severity": None}, {"severity": "fatal"}, {"severity": ["critical"]}):
        out = slack_payload({"kind": "firing", "message": "m is slow", **severity})
        assert out["text"] == "m is slow"
    assert slack_payload({"message": "m", "severity": "info"})["text"] == ":information_source: m"


def test_each_channel_delivers_in_order_while_another_channel_is_unaffected(
    manager: AlertManager, clock: FakeClock, values: Values, receiver: Receiver
) -> None:
    rule = manager.create_rule(
        MODEL, "error_rate", ">", 0.05, channels=["console", f"webhook:{receiver.url}"],
        actor="alice",
    )  # fmt: skip
    values.set(rule.id, 1.0)
    manager.evaluate(values)  # webhook attempt 1 fails
    clock.advance(1)
    values.set(rule.id, 0.0)
    manager.evaluate(values)  # "resolved" queued behind the failing "firing": not sent yet
    assert [p["kind"] for p in manager.console.recent(10)] == ["firing", "resolved"]
    assert [r["kind"] for r in receiver.requests] == ["firing"]
    for _ in range(6):
        clock.advance(30)
        manager.deliver_pending()
    assert [r["kind"] for r in receiver.requests] == ["firing", "firing", "firing", "resolved"]
    assert [r["kind"] for r in receiver.accepted] == ["firing", "resolved"]
    assert manager.deliveries(undelivered_only=True) == []


def test_delivery_passes_skip_the_store_while_nothing_is_queued(
    manager: AlertManager, values: Values, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = []
    queued = repo.queued_deliveries
    monkeypatch.setattr(
        repo, "queued_deliveries", lambda conn, n: reads.append(1) or queued(conn, n)
    )
    assert manager.deliver_pending().attempted == 0 and manager.deliver_pending().attempted == 0
    assert len(reads) == 1  # the first pass looks; with nothing queued, the next ones do not
    log = tmp_path / "alerts.jsonl"
    rule = manager.create_rule(
        MODEL, "error_rate", ">", 0.05, channels=[f"log:{log}"], actor="alice"
    )
    values.set(rule.id, 0.25, samples=400)
    manager.evaluate(values, deliver=False)  # queues the firing notification
    assert manager.deliver_pending().delivered == 1  # a committed batch wakes the passes
    assert manager.deliver_pending().attempted == 0
    looked = len(reads)
    assert manager.deliver_pending().attempted == 0 and len(reads) == looked  # idle again
    values.set(rule.id, 0.01, samples=400)
    manager.evaluate(values, deliver=False)  # queues the resolution
    assert manager.deliver_pending().delivered == 1
    states = [json.loads(line)["state"] for line in log.read_text().splitlines()]
    assert states == ["firing", "resolved"]
