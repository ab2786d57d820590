"""Live: charts of a model's traffic per version, a window switch, and an 80×24 fallback."""

from __future__ import annotations

from typing import Any

import skops.io as sio
from textual.pilot import Pilot

from app.tui.launch import create_console
from app.tui.screens.fleet import FleetScreen
from app.tui.screens.live import LiveScreen
from app.tui.widgets.metric_chart import MetricChart
from app.tui.widgets.resource_table import ResourceTable
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
        assert "fleet › live" in text and f"{MODEL} · last 5m · 5 s buckets" in text
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
            ("2", 3600, 60, "last 1h · 60 s buckets"),
            ("w", 86400, 900, "last 24h · 900 s buckets"),
            ("w", 300, 5, "last 5m · 5 s buckets"),
            ("3", 86400, 900, "last 24h · 900 s buckets"),
            ("1", 300, 5, "last 5m · 5 s buckets"),
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
        await wait_for(pilot, lambda: "no traffic in the last 5m" in screen_text(app))
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
