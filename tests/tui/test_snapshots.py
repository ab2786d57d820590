"""Pinned pictures of the screens people look at most, at 100×30 (pytest-textual-snapshot).

The data is deterministic: events logged with fixed latencies and labels, so the figures on
screen do not depend on how fast the machine predicts. Update after an intended change with
`uv run pytest tests/tui/test_snapshots.py --snapshot-update` and look at the SVGs.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from textual.pilot import Pilot

from app.tui.launch import create_console
from app.tui.widgets.resource_table import ResourceTable
from core.clock import utcnow
from core.engine import LocalEngine
from core.names import features_spec
from tests.tui.conftest import MODEL, features, screen_text, settled, wait_for

SIZE = (100, 30)


def two_versions(engine: LocalEngine, artifact_bytes: bytes) -> None:
    """credit-default with v1 and v2 validated, v1 in production."""
    engine.create_model(
        MODEL, "classification", target="default",
        features=features_spec("age:numeric,region:categorical"),
    )  # fmt: skip
    for n in (1, 2):
        engine.register_version(MODEL, artifact_bytes, algorithm="logistic_regression")
        engine.transition_version(MODEL, f"v{n}", "validated")
    engine.deploy(MODEL, "v1", reason="first release")


@pytest.fixture
def steady(engine: LocalEngine, artifact_bytes: bytes) -> LocalEngine:
    two_versions(engine, artifact_bytes)
    engine.set_traffic(MODEL, {"v1": 0.9, "v2": 0.1}, reason="canary by hand")
    # All 30 s ago, one request before them 90 s ago: the last minute holds exactly the 600,
    # over the whole minute (it served before it), however long the console takes to start.
    now = utcnow()
    engine.log_events(MODEL, [{"request_id": "before", "version": "v1", "prediction": 1,
                               "ts": (now - timedelta(seconds=90)).isoformat()}])  # fmt: skip
    events = [
        {
            "request_id": f"r{i}",
            "ts": (now - timedelta(seconds=30)).isoformat(),
            "version": "v1" if i % 10 else "v2",
            "features": features(i),
            "prediction": i % 2,
            "score": 0.8 if i % 2 else 0.2,
            "latency_ms": 4 + i % 7,
            "error": "timeout" if i % 100 == 0 else None,
        }
        for i in range(600)
    ]
    engine.log_events(MODEL, events)
    engine.record_actuals(
        MODEL, [{"request_id": f"r{i}", "actual": i % 2 if i % 5 else 1 - i % 2}
                for i in range(600)],
    )  # fmt: skip
    engine.create_alert_rule(MODEL, "accuracy", "<", 0.9, window_s=300, severity="critical")
    engine.evaluate_alerts()
    engine.create_model("delivery-time", "regression", target="minutes")
    return engine


def test_fleet_screen(steady: LocalEngine, snap_compare: Any) -> None:
    app = create_console(steady)

    async def ready(pilot: Pilot[Any]) -> None:
        # Everything the picture holds is drawn (not just the rows), and the app is idle.
        # The table widens its columns on a later refresh than the one that fills them.
        await wait_for(pilot, lambda: "2 models · 1 firing alert" in screen_text(app)
                       and "credit-default: production" in screen_text(app)
                       and " credit-default  v1 90% · v2 10%" in screen_text(app))  # fmt: skip
        await settled(pilot, app)

    assert snap_compare(app, terminal_size=SIZE, run_before=ready)


@pytest.fixture
def steady_ab(
    engine: LocalEngine, artifact_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> LocalEngine:
    """A running v1-vs-v2 test where v2 is clearly more accurate, past its planned sample.
    Its id and start time are pinned (the A/B engine's clock seam), so the picture is stable;
    the store holds no other traffic."""
    from core.abtesting import ABTestConfig

    steady = engine
    two_versions(steady, artifact_bytes)

    monkeypatch.setattr("core.abtesting.engine.secrets.token_hex", lambda n: "5eed00")
    clock = steady.abtests._now
    steady.abtests._now = lambda: datetime(2026, 1, 1, 12, 0, 0)  # created and started then
    test = steady.create_ab_test(
        ABTestConfig(model=MODEL, name="v2 vs v1", versions=["v1", "v2"], mde=0.3,
                     min_sample_per_arm=100),
    )  # fmt: skip
    steady.start_ab_test(test.id)
    steady.abtests._now = clock  # analysed now, over the events logged below
    events = [
        {"request_id": f"w{i}", "version": "v1" if i % 2 else "v2", "features": features(i),
         "prediction": 1, "score": 0.9, "latency_ms": 5.0 + i % 3}
        for i in range(800)
    ]  # fmt: skip
    steady.log_events(MODEL, events)
    right = {e["request_id"]: (i // 2) % 10 < (6 if i % 2 else 9) for i, e in enumerate(events)}
    steady.record_actuals(
        MODEL, [{"request_id": r, "actual": 1 if ok else 0} for r, ok in right.items()]
    )
    return steady


def test_ab_screen(steady_ab: LocalEngine, snap_compare: Any) -> None:
    from app.tui.screens.abtest_detail import ABTestDetailScreen

    app = create_console(steady_ab)

    async def ready(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, lambda: app.screen.query(ResourceTable)
                       and app.screen.query_one(ResourceTable).row_count == 1)  # fmt: skip
        await pilot.press("colon", *"ab", "enter")
        await wait_for(pilot, lambda: app.screen.query(ResourceTable)
                       and app.screen.query_one(ResourceTable).row_count == 1)  # fmt: skip
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ABTestDetailScreen)
                       and "promote v2" in screen_text(app))  # fmt: skip
        await settled(pilot, app)

    assert snap_compare(app, terminal_size=SIZE, run_before=ready)
