"""Drift: a model trained for real (so its versions carry a reference profile), traffic from
the sample data's covariate-drift file or its healthy file, and the view's verdicts."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from textual.pilot import Pilot

from app.tui.launch import create_console
from app.tui.screens.drift import DriftScreen
from app.tui.screens.fleet import FleetScreen
from app.tui.widgets.distribution_chart import DistributionChart
from app.tui.widgets.resource_table import ResourceTable
from core.engine import LocalEngine
from tests.training.conftest import one_fit_config
from tests.training.conftest import wait_for as wait_for_job
from tests.tui.conftest import MODEL, drive, screen_text, wait_for

CREDIT = Path(__file__).resolve().parents[2] / "sample_data" / "credit"
SHIFTED = {"credit_utilization", "annual_income", "loan_purpose"}
"""sample_data/README.md: the covariate-drift file moves these most (PSI 0.45, 0.29, 0.17)."""
STEADY = {"age", "region", "home_ownership", "has_cosigner"}


@pytest.fixture(scope="module")
def trained_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with credit-default v1 trained by mlc (reference profile and all) and deployed
    to production, no traffic yet. Trained once per module (training takes seconds); each
    test works on its own copy."""
    tmp = tmp_path_factory.mktemp("drift-view")
    data = tmp / "credit_small.parquet"
    pl.read_parquet(CREDIT / "credit.parquet").head(4000).write_parquet(data)
    config = tmp / "train.toml"
    config.write_text(one_fit_config(data))
    engine = LocalEngine.open(tmp / "store", actor="test:drift")
    try:
        engine.create_model(MODEL, "classification", target="default")
        job = wait_for_job(engine, engine.trigger_training(config, model=MODEL).id)
        assert job.outcome == "validated", job.error
        engine.deploy(MODEL, "v1", reason="first release")
    finally:
        engine.close()
    return tmp / "store"


@pytest.fixture
def trained(trained_store: Path, tmp_path: Path) -> Iterator[LocalEngine]:
    home = tmp_path / "store"
    shutil.copytree(trained_store, home)
    engine = LocalEngine.open(home, actor="test:alice")
    try:
        yield engine
    finally:
        engine.close()


def send(engine: LocalEngine, file: str, n: int) -> None:
    """`n` requests through the prediction path with the features of `file`'s first rows."""
    rows = pl.read_parquet(CREDIT / file).head(n)
    features = rows.drop(["application_id", "applied_at", "default"]).to_dicts()
    engine.predict(MODEL, [
        {"request_id": f"{file}-{i}", "unit_id": f"u{i}", "features": f}
        for i, f in enumerate(features)
    ])  # fmt: skip


def verdicts(app: Any) -> dict[str, str]:
    """FEATURE → VERDICT, as the table shows them."""
    table = app.screen.query_one("#drift-table", ResourceTable)
    out = {}
    for i in range(table.row_count):
        cells = table.get_row_at(i)
        out[str(cells[0])] = str(cells[1])
    return out


async def open_drift(pilot: Pilot[Any]) -> None:
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen)
                   and app.screen.query_one(ResourceTable).row_count == 1)  # fmt: skip
    await pilot.press("colon", *f"drift {MODEL}", "enter")
    await wait_for(pilot, lambda: isinstance(app.screen, DriftScreen) and bool(verdicts(app)))


def test_shifted_features_read_drifted_and_steady_ones_stable(trained: LocalEngine) -> None:
    send(trained, "credit_covariate_drift.parquet", 800)
    app = create_console(trained)

    async def script(pilot: Pilot[Any]) -> None:
        await open_drift(pilot)
        found = verdicts(app)
        assert {f for f, v in found.items() if v == "drifted"} >= SHIFTED
        assert all(found[f] == "stable" for f in STEADY)
        text = screen_text(app)
        assert f"fleet › drift    {MODEL} v1 · last 1h" in text
        assert "features drifted" in text and "800 events" in text
        assert "prediction drift: drifted" in text
        # Drifted rows come first, so the largest shifts are on screen even at 80×24.
        assert next(iter(found)) == "credit_utilization"
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen))

    drive(app, script)


def test_healthy_traffic_flags_nothing(trained: LocalEngine) -> None:
    send(trained, "credit_current.parquet", 800)
    app = create_console(trained)

    async def script(pilot: Pilot[Any]) -> None:
        await open_drift(pilot)
        assert set(verdicts(app).values()) == {"stable"}
        assert "no dataset drift · 0 of 12 features drifted (0%, threshold 50%)" in screen_text(app)

    drive(app, script)


def test_selecting_a_feature_shows_its_distribution(trained: LocalEngine) -> None:
    send(trained, "credit_covariate_drift.parquet", 800)
    app = create_console(trained)

    async def script(pilot: Pilot[Any]) -> None:
        await open_drift(pilot)
        chart = app.screen.query_one(DistributionChart)
        await wait_for(pilot, lambda: chart.distribution is not None)
        assert chart.distribution is not None
        assert chart.distribution.feature == "credit_utilization"  # the first row
        table = app.screen.query_one("#drift-table", ResourceTable)
        while table.selected_key != "loan_purpose":
            await pilot.press("down")
        await wait_for(pilot, lambda: chart.distribution is not None
                       and chart.distribution.feature == "loan_purpose")  # fmt: skip
        dist = chart.distribution
        assert dist.kind == "categorical" and dist.current_count == 800
        assert "debt_consolidation" in dist.categories
        # The drifted mix: more debt consolidation than in training.
        i = dist.categories.index("debt_consolidation")
        assert dist.current[i] > dist.reference[i]
        text = screen_text(app)
        assert "loan_purpose (categorical) drifted" in text
        assert "▒ reference" in text and "█ current (800 values)" in text

    drive(app, script)


def test_too_little_traffic_reads_insufficient_data(trained: LocalEngine) -> None:
    send(trained, "credit_covariate_drift.parquet", 20)
    app = create_console(trained)

    async def script(pilot: Pilot[Any]) -> None:
        await open_drift(pilot)
        found = verdicts(app)
        assert set(found) >= SHIFTED | STEADY
        assert set(found.values()) == {"insufficient data"}
        text = screen_text(app)
        assert "20 events · insufficient data" in text
        assert "error" not in app.screen.query_one("#flash").render().plain

    drive(app, script, size=(100, 30))


def test_d_on_the_fleet_row_and_the_window_key(trained: LocalEngine) -> None:
    send(trained, "credit_covariate_drift.parquet", 200)
    app = create_console(trained)

    async def script(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen)
                       and app.screen.query_one(ResourceTable).row_count == 1)  # fmt: skip
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, DriftScreen) and bool(verdicts(app)))
        for words in ("last 24h", "last 15m", "last 1h"):
            await pilot.press("w")
            await wait_for(pilot, lambda words=words: words in screen_text(app))
            await wait_for(pilot, lambda: app.screen.last_data.window_s == app.screen.window[1])
        assert "200 events" in screen_text(app)

    drive(app, script)


def test_versions_without_a_reference_or_traffic_are_states_not_errors(fleet: LocalEngine) -> None:
    """The `fleet` fixture's versions were registered from an artifact (no training profile);
    fraud-score has nothing deployed and no traffic."""
    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, lambda: isinstance(app.screen, FleetScreen)
                       and app.screen.query_one(ResourceTable).row_count == 2)  # fmt: skip
        await pilot.press("colon", *f"drift {MODEL}", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DriftScreen) and bool(verdicts(app)))
        assert verdicts(app) == {"age": "no reference", "region": "no reference"}
        assert "no reference: v1 has no reference profile" in screen_text(app)
        await pilot.press("escape")
        await pilot.press("colon", *"drift fraud-score", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DriftScreen) and bool(verdicts(app)))
        assert set(verdicts(app).values()) == {"insufficient data"}
        text = screen_text(app)
        assert "0 events · insufficient data: fraud-score has no production deployment" in text
        assert "error" not in app.screen.query_one("#flash").render().plain

    drive(app, script)


def cells(app: Any) -> dict[str, dict[str, str]]:
    """FEATURE → {column: cell text}, as the table holds them."""
    table = app.screen.query_one("#drift-table", ResourceTable)
    names = [str(c.label) for c in table.columns.values()]
    return {
        str(row[0]): dict(zip(names, map(str, row), strict=True))
        for row in (table.get_row_at(i) for i in range(table.row_count))
    }


def test_missing_share_and_new_categories_per_feature(trained: LocalEngine) -> None:
    """Every tenth request has no age and a loan purpose the training set never had."""
    rows = pl.read_parquet(CREDIT / "credit_current.parquet").head(500)
    tenth = pl.int_range(pl.len()) % 10 == 0
    rows = rows.with_columns(
        pl.when(tenth).then(pl.lit("crypto")).otherwise("loan_purpose").alias("loan_purpose"),
        pl.when(tenth).then(None).otherwise("age").alias("age"),
    )
    features = rows.drop(["application_id", "applied_at", "default"]).to_dicts()
    trained.predict(MODEL, [{"request_id": f"m{i}", "features": f}
                            for i, f in enumerate(features)])  # fmt: skip
    income_missing = rows["annual_income"].null_count() / len(rows)
    for size in ((80, 24), (100, 30)):
        app = create_console(trained)

        async def script(pilot: Pilot[Any], size: tuple[int, int] = size) -> None:
            await open_drift(pilot)
            found = cells(pilot.app)
            assert (found["age"]["MISSING"], found["age"]["NEW"]) == ("10.0%", "—")
            assert (found["loan_purpose"]["MISSING"], found["loan_purpose"]["NEW"]) == ("0%", "1")
            assert found["region"]["NEW"] == "0"
            assert found["annual_income"]["MISSING"] == f"{income_missing:.1%}"
            # The table's cells are read above; wait for the frame that draws them (under load a
            # frame of header-sized columns can come first, and there NEW fits in 80).
            await wait_for(pilot, lambda: "annual_income" in screen_text(pilot.app))
            header = next(line for line in screen_text(pilot.app).splitlines() if "FEATURE" in line)
            # At 80 columns the missing share is on screen; from 100 the new categories too.
            assert "MISSING" in header and ("NEW" in header) == (size[0] >= 100)

        drive(app, script, size=size)
