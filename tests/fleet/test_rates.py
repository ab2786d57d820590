"""Rates over a stated recent interval, and every figure of a line from that one interval.

Traffic is logged with past timestamps through the real ingest path (`log_events`), so a
minute of history needs no minute of waiting; expectations are computed from the interval
each answer names (`start`, `end`), not from the test's own clock.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from app.client import RemoteEngine
from core.clock import utcnow
from core.engine import Engine, LocalEngine
from core.errors import InvalidInput, NotFound
from core.fleet import MIN_RATE_S, ModelHealth, rate_seconds, window_text
from core.names import features_spec
from tests.api.test_serve import mlc as served_mlc
from tests.api.test_serve import start_server
from tests.conftest import add_versions
from tests.fleet.conftest import MODEL, features

RATE = 20.0
"""Requests per second of the histories below."""


@dataclass
class History:
    """What was logged for one model: each request's time (UTC)."""

    times: list[datetime]

    def count(self, start: datetime, end: datetime) -> int:
        return sum(start <= t < end for t in self.times)


def log_traffic(
    engine: Engine,
    model: str,
    prefix: str,
    spans: Iterable[tuple[float, float]],
    now: datetime,
    rate: float = RATE,
    **fields: object,
) -> History:
    """Requests at `rate` per second over each (from, to) span of seconds before `now`."""
    times = []
    for first_s, last_s in spans:
        n = round((first_s - last_s) * rate)
        times += [now - timedelta(seconds=first_s - i / rate) for i in range(n)]
    events = [
        {"request_id": f"{prefix}{i}", "version": "v1", "prediction": i % 2, "latency_ms": 5.0,
         "features": features(i), "ts": t.isoformat(), **fields}
        for i, t in enumerate(times)
    ]  # fmt: skip
    for lo in range(0, len(events), 5000):
        engine.log_events(model, events[lo : lo + 5000])
    return History(times)


PATTERNS: dict[str, list[tuple[float, float]]] = {
    "steady": [(180, 0)],  # serving throughout
    "stopped": [(180, 65)],  # stopped 65 s ago
    "started": [(20, 0)],  # began 20 s ago, nothing before
    "restarted": [(3 * 3600, 2 * 3600), (20, 0)],  # 2 h of silence, then 20 s ago
    "idle": [],
}
BURST = 500
"""`burst`: this many requests within 1 s, 40 s ago, and nothing before or since."""


@pytest.fixture
def histories(engine: LocalEngine) -> dict[str, History]:
    now = utcnow()
    out = {}
    for name in [*PATTERNS, "burst"]:
        engine.create_model(name, "classification",
                            features=features_spec("age:numeric,region:categorical"))  # fmt: skip
        add_versions(engine, name, 2)
        if name == "burst":
            out[name] = log_traffic(engine, name, "b", [(40, 39)], now, rate=BURST)
        else:
            out[name] = log_traffic(engine, name, name[0], PATTERNS[name], now)
    return out


def check_rates(rows: dict[str, ModelHealth], histories: dict[str, History]) -> None:
    """What each pattern must show, over the interval the rows name. Their end comes some
    seconds after the times were chosen (more on a busy host): expectations come from it, and
    the patterns leave 20 s of slack."""
    for name, row in rows.items():
        assert row.window_s == 60 and row.end - row.start == timedelta(seconds=60), name
        assert row.requests == histories[name].count(row.start, row.end), name
        assert row.requests_per_s == pytest.approx(row.requests / row.rate_s), name
    steady, stopped, started = rows["steady"], rows["stopped"], rows["started"]
    assert steady.rate_s == 60 and steady.requests > 40 * RATE  # over the whole minute
    # Traffic that stopped 65 s ago is out of the interval: 0, where an average over the
    # 5 minutes (the old window) still said 27/s.
    assert stopped.requests == 0 and stopped.requests_per_s == 0.0
    assert stopped.error_rate is None and stopped.latency_p99_ms is None
    # Began 20 s ago: its rate over the time since its first request (RATE, the more so the
    # sooner the fleet is asked), not over the whole minute, which would read a third of it.
    for row in (started, rows["restarted"]):
        began = histories[row.name].times[-round(20 * RATE)]
        assert row.requests == 20 * RATE
        assert row.rate_s == pytest.approx((row.end - began).total_seconds())
        assert row.requests_per_s > 1.5 * row.requests / 60
    # A burst 40 s ago and nothing since: its requests over the time since, not 500/s.
    burst = rows["burst"]
    began = histories["burst"].times[0]
    assert burst.requests == BURST and 40 <= burst.rate_s < 60
    assert burst.rate_s == pytest.approx((burst.end - began).total_seconds())
    assert burst.requests_per_s <= BURST / 40
    assert rows["idle"].requests == 0 and rows["idle"].rate_s == 60


def test_rates_are_over_the_last_60_s(engine: LocalEngine, histories: dict[str, History]) -> None:
    rows = {r.name: r for r in engine.fleet_status()}
    assert set(rows) == set(histories)
    assert len({(r.start, r.end) for r in rows.values()}) == 1  # one interval for the fleet
    check_rates(rows, histories)


def test_rate_seconds() -> None:
    end = utcnow()
    start = end - timedelta(seconds=60)
    assert rate_seconds(start, end, None) == 60
    assert rate_seconds(start, end, end - timedelta(seconds=20)) == 20
    assert rate_seconds(start, end, end - timedelta(seconds=2)) == MIN_RATE_S
    naive = (end - timedelta(seconds=30)).replace(tzinfo=None)  # as DuckDB returns it
    assert rate_seconds(start, end, naive) == 30
    short = end - timedelta(seconds=5)
    assert rate_seconds(short, end, end - timedelta(seconds=1)) == 5  # never past the window


def test_window_text() -> None:
    texts = [window_text(s) for s in (1, 60, 90, 120, 300, 900, 3600, 5400, 86400)]
    assert texts == ["1 s", "60 s", "90 s", "2 min", "5 min", "15 min", "1 h", "90 min", "24 h"]


def test_one_line_takes_every_figure_from_one_interval(served: LocalEngine) -> None:
    """Requests before the interval are slow, failed and wrongly predicted; those inside are
    fast, fine and right: every figure of the line is the inside's alone."""
    now = utcnow()
    log_traffic(served, MODEL, "o", [(170, 120)], now, latency_ms=900.0, error="Boom")
    log_traffic(served, MODEL, "p", [(120, 70)], now, latency_ms=900.0)
    inside = log_traffic(served, MODEL, "n", [(40, 10)], now)
    served.record_actuals(MODEL, [  # p: every label wrong; n: every other labelled, right
        {"request_id": f"p{i}", "actual": 1 - i % 2} for i in range(1000)
    ] + [
        {"request_id": f"n{i}", "actual": i % 2} for i in range(0, 600, 2)
    ])  # fmt: skip
    [row] = served.fleet_status()
    assert row.requests == len(inside.times) == 600 and row.rate_s == 60
    assert row.requests_per_s == 10.0  # 600 over the whole minute: served before it too
    assert row.error_rate == 0.0 and row.latency_p50_ms == row.latency_p99_ms == 5.0
    assert row.labelled == 300 and row.accuracy == 1.0
    # A longer window holds them all: the same figures then describe them all, and say so.
    [wide] = served.fleet_status(300)
    assert wide.window_s == 300 and wide.requests == 2600
    began = now - timedelta(seconds=170)  # inside these 5 minutes
    assert wide.rate_s == pytest.approx((wide.end - began).total_seconds())
    assert wide.error_rate == pytest.approx(1000 / 2600) and wide.latency_p99_ms == 900.0
    assert wide.labelled == 1300 and wide.accuracy == pytest.approx(300 / 1300)
    # Drift needs more events than a minute holds: its own, longer interval, named apart.
    assert row.drift_window_s == 300 and wide.drift_window_s == 300
    assert served.fleet_status(3600)[0].drift_window_s == 3600


def test_health_by_version_takes_each_versions_figures_from_one_interval(
    served: LocalEngine,
) -> None:
    """v1 serves throughout; a canary v2 began 20 s ago; v3's traffic stopped 65 s ago."""
    now = utcnow()
    v1 = log_traffic(served, MODEL, "a", [(180, 0)], now)
    v2 = log_traffic(served, MODEL, "b", [(20, 0)], now, rate=5, version="v2", latency_ms=30.0)
    log_traffic(served, MODEL, "c", [(180, 65)], now, version="v3", error="Boom")
    served.record_actuals(MODEL, [{"request_id": f"b{i}", "actual": i % 2} for i in range(100)])
    health = served.health_by_version(MODEL)
    assert health.model == MODEL and health.window_s == 60
    assert health.end - health.start == timedelta(seconds=60)
    one, two = health.versions  # v3: no requests in the interval, so no line
    assert one.version == "v1" and one.rate_s == 60
    assert one.requests == v1.count(health.start, health.end)
    assert one.requests_per_s == one.requests / 60 and one.error_rate == 0.0
    assert one.latency_p99_ms == 5.0 and one.labelled == 0 and one.accuracy is None
    assert two.version == "v2" and two.requests == 100 and two.latency_p99_ms == 30.0
    assert two.rate_s == pytest.approx((health.end - v2.times[0]).total_seconds())
    assert two.requests_per_s == pytest.approx(100 / two.rate_s) and two.rate_s < 40
    assert two.labelled == 100 and two.accuracy == 1.0
    # Up to a given end: the interval the caller names, e.g. the end of its charts.
    earlier = served.health_by_version(MODEL, window_s=30, end=now - timedelta(seconds=100))
    assert earlier.end == now - timedelta(seconds=100) and earlier.window_s == 30
    [v1_then, v3_then] = earlier.versions
    assert v1_then.requests == v3_then.requests == 600 and v3_then.error_rate == 1.0
    with pytest.raises(InvalidInput):
        served.health_by_version(MODEL, window_s=0)
    with pytest.raises(NotFound):
        served.health_by_version("nope")


def test_a_stop_reads_zero_through_a_served_store(tmp_path: Path) -> None:
    """A real `mlc serve`: traffic logged over HTTP with past times; the fleet through the
    API (RemoteEngine on the owner's socket) and `mlc status --json` (a CLI client of the
    same owner) read 0 for traffic that stopped 65 s ago, and name their interval."""
    server = start_server(tmp_path / "store")
    try:
        remote = RemoteEngine(socket=server.socket)
        now = utcnow()
        spec = features_spec("age:numeric,region:categorical")
        for name in ("steady", "stopped"):
            remote.create_model(name, "classification", features=spec)
            add_versions(remote, name, 1)
        steady = log_traffic(remote, "steady", "s", [(180, 0)], now)
        log_traffic(remote, "stopped", "t", [(180, 65)], now)
        rows = {r.name: r for r in remote.fleet_status()}
        assert rows["stopped"].requests == 0 and rows["stopped"].requests_per_s == 0.0
        row = rows["steady"]
        assert row.window_s == 60 and row.rate_s == 60 and row.end - row.start == timedelta(0, 60)
        assert row.requests == steady.count(row.start, row.end)
        code, out, err = served_mlc("--store", str(server.home), "--json", "status")
        assert code == 0, err
        doc = json.loads(out)
        assert doc["window_s"] == 60 and doc["drift_window_s"] == 300
        stopped = next(m for m in doc["models"] if m["name"] == "stopped")
        assert stopped["requests"] == 0 and stopped["requests_per_s"] == 0.0
        assert stopped["start"] == doc["start"] and stopped["end"] == doc["end"]
        health = remote.health_by_version("steady", end=now)  # the live summary, over HTTP
        assert health.end == now and health.start == now - timedelta(seconds=60)
        [v1] = health.versions
        assert v1.version == "v1" and v1.requests == steady.count(health.start, now) == 1200
        assert v1.requests_per_s == RATE and v1.rate_s == 60
    finally:
        assert server.stop() == 0
