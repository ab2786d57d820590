"""The jobs view: training jobs with progress and log; start one from a config, cancel one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest
from textual.pilot import Pilot

from app.tui.launch import create_console
from app.tui.screens.confirm import ConfirmScreen
from app.tui.screens.form import FormScreen
from app.tui.screens.jobs import JobsScreen
from app.tui.widgets.resource_table import ResourceTable
from core.domain import TrainingStatus
from core.engine import LocalEngine
from tests.training.conftest import one_fit_config
from tests.tui.conftest import drive, screen_text, wait_for

ROOT = Path(__file__).resolve().parents[2]
JOB_MODEL = "credit-jobs"

# No search and a few shallow trees: trains in well under a second once the worker is up.
FAST = {"model": JOB_MODEL, "params": "{ max_iter = 8, max_depth = 2 }", "min_auc": 0.55}
# A long random search: still running when the test cancels it.
SLOW = {
    "model": JOB_MODEL,
    "params": "{ max_iter = 200 }",
    "min_auc": 0.55,
    "extra": """
[search]
strategy = "random"
trials = 200
cv = 3
metric = "roc_auc"

[search.space]
learning_rate = { low = 0.01, high = 0.3, log = true }
""",
}


@pytest.fixture
def configs(tmp_path: Path, engine: LocalEngine) -> dict[str, Path]:
    data = tmp_path / "credit_small.parquet"
    pl.read_parquet(ROOT / "sample_data/credit/credit.parquet").head(3000).write_parquet(data)
    engine.create_model(JOB_MODEL, "classification", target="default")
    paths = {}
    for name, options in (("fast", FAST), ("slow", SLOW)):
        paths[name] = tmp_path / f"{name}.toml"
        paths[name].write_text(one_fit_config(data, **options))  # type: ignore[arg-type]
    return paths


def job_rows(app: Any) -> list[str]:
    table = app.screen.query_one("#jobs-table", ResourceTable)
    return [str(table.coordinate_to_cell_key((i, 0)).row_key.value) for i in range(table.row_count)]


async def open_jobs(pilot: Pilot[Any]) -> None:
    app = pilot.app
    await wait_for(pilot, lambda: JOB_MODEL in screen_text(app))
    await pilot.press("colon", *"jobs", "enter")
    await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen))
    await wait_for(pilot, lambda: app.screen.last_data is not None)


async def start_job(pilot: Pilot[Any], config: Path) -> str:
    """`n`, type the config's path, enter; returns the new job's id once it is listed."""
    app = pilot.app
    before = set(job_rows(app))
    await pilot.press("n")
    await wait_for(pilot, lambda: isinstance(app.screen, FormScreen))
    await pilot.press(*str(config), "enter")
    await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen))
    await wait_for(pilot, lambda: len(set(job_rows(app)) - before) == 1)
    (job_id,) = set(job_rows(app)) - before
    return job_id


@pytest.mark.slow  # trains: the first job of a process starts the worker fork server
def test_start_cancel_and_finish_jobs_from_the_view(
    engine: LocalEngine, configs: dict[str, Path]
) -> None:
    # One test for the whole cycle: the first job of a process starts the worker fork server
    # (it imports scikit-learn once), which is the slow part; later jobs start at once.
    app = create_console(engine)

    async def script(pilot: Pilot[Any]) -> None:
        await open_jobs(pilot)
        assert "no training jobs yet" in screen_text(app)
        # a path that does not exist is refused in the form
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, FormScreen))
        await pilot.press(*"/no/such.toml", "enter")
        await wait_for(pilot, lambda: "no file at /no/such.toml" in screen_text(app))
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, JobsScreen))

        slow = await start_job(pilot, configs["slow"])
        await wait_for(pilot, lambda: f"started {slow}" in screen_text(app), timeout_s=90)
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert f"Cancel training job {slow}?" in screen_text(app)
        await pilot.press("y")
        await wait_for(pilot, lambda: f"job {slow} cancelled" in screen_text(app))

        fast = await start_job(pilot, configs["fast"])
        await wait_for(pilot, lambda: "v1 validated" in screen_text(app), timeout_s=90)
        text = screen_text(app)
        assert fast in text and "succeeded" in text and "100%" in text
        assert "worker started" in text  # the selected (new) job's log
        assert "gate min:roc_auc: pass" in text

    drive(app, script, size=(100, 30))
    jobs = {j.id: j for j in engine.list_jobs()}
    assert len(jobs) == 2
    cancelled = [j for j in jobs.values() if j.status == TrainingStatus.CANCELLED]
    assert [j.config_path for j in cancelled] == [str(configs["slow"])]
    (done,) = [j for j in jobs.values() if j.status == TrainingStatus.SUCCEEDED]
    assert done.result_version == "v1" and done.config_path == str(configs["fast"])
    assert [r.target for r in engine.list_audit(action="training.cancel")] == [cancelled[0].id]


def test_read_only_jobs_view_offers_no_change(
    engine: LocalEngine, configs: dict[str, Path]
) -> None:
    app = create_console(engine, read_only=True)

    async def script(pilot: Pilot[Any]) -> None:
        await open_jobs(pilot)
        text = screen_text(app)
        assert "New job" not in text and "Cancel job" not in text
        await pilot.press("n")
        await pilot.pause(0.3)
        assert isinstance(app.screen, JobsScreen)

    drive(app, script, size=(120, 30))
    assert engine.list_jobs() == []
