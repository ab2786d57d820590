"""Live: charts of a model's traffic per version, a window switch, and an 80×24 fallback."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import skops.io as sio
from textual.pilot import Pilot

from app.tui.launch import create_console
from app.tui.screens.fleet import FleetScreen
from app.tui.screens.live import LiveScreen
from app.tui.widgets.metric_chart import MetricChart
from app.tui.widgets.resource_table import ResourceTable
from core.clock import utcnow
from core.engine import LocalEngine
from core.names import features_spec
from core.training.catalogue import build_pipeline
from tests.conftest import small_frame
from tests.tui.conftest import MODEL, drive, screen_text, wait_for


def chart(app: Any, name: str) -> MetricChart:
    return app.screen.query_one(f"#live-{name}", MetricChart)  # type: ignore[no-any-return]


def drawn(app: Any) -> bool:
    return isinstance(app.screen, LiveScreen) and bool(chart(app, "requests").series)


def bucket_of(c: MetricChart) -> float:
    x = c.series[0].x
    return x[1] - x[0]


async def open_fleet(pilot: Pilot[Any]) -> None:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, FleetScreen)
                   and pilot.app.screen.query_one(ResourceTable).row_count == 2)  # fmt: skip


def test_command_opens_live_with_the_traffic_of_v1(fleet: LocalEngine) -> None:
    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await open_fleet(pilot)
        await pilot.press("colon", *f"live {MODEL}", "enter")
        await wait_for(pilot, lambda: drawn(app))
        for name in ("requests", "latency", "errors", "quality"):
            (v1,) = chart(app, name).series
            assert v1.version == "v1" and sum(v1.requests) == 200
        assert sum(chart(app, "quality").series[0].labelled) == 200
        start, end = chart(app, "requests").window
        assert end - start == 300 and bucket_of(chart(app, "requests")) == 5
        text = screen_text(app)
        assert "fleet › live" in text and f"{MODEL} · charts: last 5m, 5 s buckets" in text
        assert "requests/s" in text and "accuracy" in text
        await pilot.press("slash", *"v9", "enter")  # the filter keeps the versions named so
        await wait_for(pilot, lambda: chart(app, "requests").series == [])
        await pilot.press("escape")  # clears the filter
        await wait_for(pilot, lambda: len(chart(app, "requests").series) == 1)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen))

    drive(app, script)


def test_l_on_the_fleet_row_opens_live_for_that_model(fleet: LocalEngine) -> None:
    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await open_fleet(pilot)
        table = app.screen.query_one(ResourceTable)
        while table.selected_key != MODEL:
            await pilot.press("down")
        await pilot.press("l")
        await wait_for(pilot, lambda: drawn(app))
        assert isinstance(app.screen, LiveScreen) and app.screen.model == MODEL
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen))

    drive(app, script)


def test_window_switch_changes_the_bucket_and_the_context_line(fleet: LocalEngine) -> None:
    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await open_fleet(pilot)
        await pilot.press("colon", *f"live {MODEL}", "enter")
        await wait_for(pilot, lambda: drawn(app))
        for key, span, bucket, words in (
            ("2", 3600, 60, "charts: last 1h, 60 s buckets"),
            ("w", 86400, 900, "charts: last 24h, 900 s buckets"),
            ("w", 300, 5, "charts: last 5m, 5 s buckets"),
            ("3", 86400, 900, "charts: last 24h, 900 s buckets"),
            ("1", 300, 5, "charts: last 5m, 5 s buckets"),
        ):
            await pilot.press(key)
            requests = chart(app, "requests")
            await wait_for(pilot, lambda c=requests, span=span: c.window[1] - c.window[0] == span)
            assert bucket_of(requests) == bucket
            assert sum(requests.series[0].requests) == 200  # the whole traffic in every window
            await wait_for(pilot, lambda words=words: words in screen_text(app))

    drive(app, script)


def test_at_80x24_the_summary_shows_every_version(fleet: LocalEngine) -> None:
    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await open_fleet(pilot)
        await pilot.press("colon", *f"live {MODEL}", "enter")
        await wait_for(pilot, lambda: drawn(app))
        text = screen_text(app)
        header = next(line for line in text.splitlines() if "VERSION" in line)
        assert all(word in header for word in ("REQ/S", "P99 ms", "ERR", "ACC"))
        v1 = next(line for line in text.splitlines() if line.strip().startswith("v1"))
        assert "100%" in v1 and v1.split()[-1] == "200"  # labels received
        assert "requests/s" in text  # the first chart is visible, the others scroll
        assert "error" not in app.screen.query_one("#flash").render().plain

    drive(app, script, size=(80, 24))


def test_a_model_without_traffic_says_so(fleet: LocalEngine) -> None:
    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await open_fleet(pilot)
        await pilot.press("colon", *"live fraud-score", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, LiveScreen)
                       and chart(app, "requests").window != (0.0, 0.0))  # fmt: skip
        assert chart(app, "requests").series == []
        await wait_for(pilot, lambda: "no traffic in the last 60 s" in screen_text(app))
        assert "requests/s: no traffic" in screen_text(app)

    drive(app, script)


def test_a_regression_model_charts_its_mae(engine: LocalEngine) -> None:
    X, _ = small_frame(200)
    pipe = build_pipeline("regression", "ridge", ["age"], ["region"])
    pipe.fit(X, X["age"].to_numpy())
    engine.create_model("eta", "regression", target="minutes",
                        features=features_spec("age:numeric,region:categorical"))  # fmt: skip
    engine.register_version("eta", sio.dumps(pipe), algorithm="ridge")
    engine.transition_version("eta", "v1", "validated")
    engine.deploy("eta", "v1")
    rows = X.head(40).to_dicts()
    done = engine.predict(
        "eta", [{"request_id": f"e{i}", "features": r} for i, r in enumerate(rows)]
    )
    engine.record_actuals("eta", [{"request_id": p.request_id, "actual": 50.0} for p in done])
    app = create_console(engine)

    async def script(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen))
        await pilot.press("colon", *"live eta", "enter")
        await wait_for(pilot, lambda: drawn(app))
        quality = chart(app, "quality")
        assert quality.chart_title == "MAE" and quality.lines[0].field == "mae"
        assert [m for m in quality.series[0].mae if m is not None]
        assert "MAE" in next(line for line in screen_text(app).splitlines() if "VERSION" in line)

    drive(app, script)


def test_the_summary_takes_every_figure_from_the_last_60_s(
    engine: LocalEngine, artifact_bytes: bytes
) -> None:
    """v1 served slow, failing requests 2 minutes ago and fast, fine ones in the last
    minute; the charts (5 minutes) hold both, the summary line only the last minute's, and
    says so. v2 began 20 s ago: its rate is over those 20 s."""
    engine.create_model(MODEL, "classification", target="default",
                        features=features_spec("age:numeric,region:categorical"))  # fmt: skip
    for v in ("v1", "v2"):
        engine.register_version(MODEL, artifact_bytes, algorithm="logistic_regression")
        engine.transition_version(MODEL, v, "validated")
    engine.deploy(MODEL, "v1")
    engine.set_traffic(MODEL, {"v1": 0.9, "v2": 0.1})
    now = utcnow()

    def events(prefix: str, version: str, ages: range, **extra: object) -> list[dict[str, Any]]:
        return [{"request_id": f"{prefix}{a}", "version": version, "prediction": 1,
                 "latency_ms": 5.0, "ts": (now - timedelta(seconds=a)).isoformat(), **extra}
                for a in ages]  # fmt: skip

    engine.log_events(MODEL, events("old", "v1", range(150, 70, -1), latency_ms=900.0,
                                    error="Boom") + events("new", "v1", range(40, 10, -1))
                      + events("canary", "v2", range(20, 0, -1), latency_ms=30.0))  # fmt: skip
    engine.record_actuals(
        MODEL, [{"request_id": f"new{a}", "actual": 1} for a in range(40, 30, -1)]
    )
    app = create_console(engine)

    async def script(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen))
        await pilot.press("colon", *f"live {MODEL}", "enter")
        await wait_for(pilot, lambda: drawn(app))
        v1_chart = chart(app, "requests").series[0]
        assert sum(v1_chart.requests) == 80 + 30  # the charts' 5 minutes: both
        lines = screen_text(app).splitlines()
        header = next(line for line in lines if "VERSION" in line)
        assert header.split()[-3:] == ["last", "60", "s"]  # the summary names its interval
        v1 = next(line for line in lines if line.strip().startswith("v1")).split()
        # 30 requests over the whole minute (v1 served before it), p50 and p99 5 ms, no
        # errors: nothing of the slow, failed requests before the minute.
        assert v1 == ["v1", "90%", "0.50", "5.0", "5.0", "0.0%", "1.000", "10"]
        v2 = next(line for line in lines if line.strip().startswith("v2")).split()
        assert v2[:2] == ["v2", "10%"] and v2[3:6] == ["30.0", "30.0", "0.0%"]
        # 20 requests since it began, some 20 s before (the whole minute would read 0.33).
        assert 0.5 < float(v2[2]) <= 1.0
        assert v2[-2:] == ["—", "0"]

    drive(app, script, size=(80, 24))
