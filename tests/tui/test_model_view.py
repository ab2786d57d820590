"""The model view: versions, lineage and deployments; deploy, roll out and roll back by keys."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from textual.pilot import Pilot

from app.tui.launch import create_console
from app.tui.screens.choice import ChoiceScreen
from app.tui.screens.confirm import ConfirmScreen
from app.tui.screens.form import FormScreen
from app.tui.screens.model import ModelScreen, version_lines
from app.tui.screens.rollout import RolloutScreen
from app.tui.widgets.resource_table import ResourceTable
from core.domain import ModelStatus, ModelVersion
from core.engine import LocalEngine
from tests.tui.conftest import MODEL, drive, screen_text, wait_for


def versions_shown(app: Any) -> list[str]:
    table = app.screen.query_one("#model-versions", ResourceTable)
    return [str(table.coordinate_to_cell_key((i, 0)).row_key.value) for i in range(table.row_count)]


async def open_model(pilot: Pilot[Any]) -> None:
    """From the fleet, enter on credit-default (the first row)."""
    app = pilot.app
    await wait_for(pilot, lambda: MODEL in screen_text(app))
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, ModelScreen))
    await wait_for(pilot, lambda: versions_shown(app) == ["v3", "v2", "v1"])


async def select_version(pilot: Pilot[Any], version: str) -> None:
    app = pilot.app
    table = app.screen.query_one("#model-versions", ResourceTable)
    table.focus()
    while table.selected_key != version:
        await pilot.press("down")
    await pilot.pause()


def test_model_view_shows_versions_lineage_and_deployments(fleet: LocalEngine) -> None:
    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await open_model(pilot)
        text = screen_text(app)
        assert "fleet › credit-default" in text  # crumbs
        assert "production" in text and "prod 100%" in text  # v1 serves production
        assert "logistic_regression" in text
        assert "first release" in text and "current" in text  # revision 1 in the history
        assert "registered by hand" in text  # the selected version's lineage panel
        # tab moves to the deployments; the panel then describes the selected revision
        await pilot.press("tab")
        await wait_for(pilot, lambda: "production revision 1" in screen_text(app))
        assert "serving now" in screen_text(app)

    drive(app, script, size=(80, 24))


def test_validation_gates_and_rejection_are_spelled_out() -> None:
    v = ModelVersion(
        id=f"{MODEL}:v4", model_id=MODEL, version="v4", number=4, algorithm="random_forest",
        parameters={}, training_data_hash="3fa1b2c3d4e5f6a7", performance_metrics={"roc_auc": 0.7},
        status=ModelStatus.REJECTED, created_at=datetime.now(UTC), created_by="test:alice",
        artifact_sha256="0" * 64, artifact_size=1, signature={}, training_job_id="job-1",
        parent_version="v3", status_reason="roc_auc 0.7 regresses on champion v3 (0.8)",
        training={"config": {"algorithm": {"params": {"max_depth": 3}},
                             "data": {"path": "/data/credit.parquet"}},
                  "seed": 7, "data_path": "/cfg/train.toml", "data_rows": 4000, "search": None},
        validation={"passed": False, "champion_version": "v3", "gates": [
            {"name": "min:roc_auc", "passed": True, "reason": "roc_auc 0.7 >= 0.6"},
            {"name": "champion", "passed": False, "reason": "roc_auc 0.7 < champion v3 0.8"},
        ]},
    )  # fmt: skip
    text = version_lines(v).plain
    assert "REJECTED" in text and "regresses on champion v3" in text
    assert "job job-1" in text and "data 3fa1b2c3d4e5" in text and "parent v3" in text
    assert "config   train.toml · data credit.parquet (4,000 rows)" in text
    assert "seed 7" in text and "max_depth=3" in text
    assert "pass  min:roc_auc" in text
    assert "FAIL  champion" in text and "< champion v3 0.8" in text


def test_deploy_to_staging_through_the_dialog(fleet: LocalEngine) -> None:
    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await open_model(pilot)
        await select_version(pilot, "v2")
        await pilot.press("D")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        assert "staging" in screen_text(app) and "production" in screen_text(app)
        await pilot.press("enter")  # staging is first
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        text = screen_text(app)
        assert "Deploy credit-default v2 to staging?" in text
        assert "nothing deployed" in text and "revision 1: v2 100%" in text
        await pilot.press("y")
        await wait_for(pilot, lambda: "stg 100%" in screen_text(app))
        assert "deployed credit-default v2 to staging" in screen_text(app)

    drive(app, script)
    staging = fleet.get_deployment(MODEL, environment="staging")
    assert staging is not None and staging.traffic == {"v2": 1.0}
    production = fleet.get_deployment(MODEL)
    assert production is not None and production.traffic == {"v1": 1.0}
    records = fleet.list_audit(model=MODEL, action="deployment.deploy")
    assert any(r.target == f"{MODEL}/staging" and r.actor == "test:alice" for r in records)


def test_deploy_to_production_asks_for_the_model_name(fleet: LocalEngine) -> None:
    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await open_model(pilot)
        await select_version(pilot, "v2")
        await pilot.press("D")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "revision 1: v1 100%" in screen_text(app)
        assert "revision 2: v2 100%" in screen_text(app)
        await pilot.press("y")  # text, not an answer: the dialog waits for the name
        await pilot.pause(0.1)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("backspace", *"go", "enter", *MODEL, "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ModelScreen))
        await wait_for(
            pilot, lambda: "deployed credit-default v2 to production" in screen_text(app)
        )

    drive(app, script)
    current = fleet.get_deployment(MODEL)
    assert current is not None and current.revision == 2 and current.traffic == {"v2": 1.0}
    (record,) = [r for r in fleet.list_audit(model=MODEL, action="deployment.deploy")
                 if r.reason == "go"]  # fmt: skip
    assert record.target == f"{MODEL}/production"


def test_production_rollback_needs_the_model_name_typed(fleet: LocalEngine) -> None:
    fleet.deploy(MODEL, "v2", reason="v2 looks better")  # something to roll back to
    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await open_model(pilot)
        await pilot.press("R")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        text = screen_text(app)
        assert "Roll back credit-default in production?" in text
        assert "revision 2: v2 100%" in text and "revision 3: v1 100%" in text
        await pilot.press(*"bad", "enter", *"credit", "enter")
        await wait_for(pilot, lambda: "type credit-default exactly" in screen_text(app))
        assert isinstance(app.screen, ConfirmScreen)
        assert fleet.get_deployment(MODEL).revision == 2  # type: ignore[union-attr]
        await pilot.press(*"-default", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ModelScreen))
        await wait_for(pilot, lambda: "UNHEALTHY" in screen_text(app))
        assert "rolled back credit-default (production): revision 3" in screen_text(app)

    drive(app, script)
    current = fleet.get_deployment(MODEL)
    assert current is not None and current.revision == 3 and current.traffic == {"v1": 1.0}
    (record,) = fleet.list_audit(model=MODEL, action="deployment.rollback")
    assert "bad" in record.reason


def test_start_a_rollout_through_the_form(fleet: LocalEngine) -> None:
    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await open_model(pilot)
        await select_version(pilot, "v2")
        await pilot.press("O")
        await wait_for(pilot, lambda: isinstance(app.screen, FormScreen))
        assert "error_rate<0.02; latency_p99_ms<50" in screen_text(app)
        # a bad interval is refused in the form, named by core's parser
        await pilot.press("tab", "end", "backspace", "x", "enter")
        await wait_for(pilot, lambda: "invalid duration '10x'" in screen_text(app))
        await pilot.press("backspace", "m", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ModelScreen))
        await wait_for(pilot, lambda: "v2 at 5% of credit-default" in screen_text(app))
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, RolloutScreen))
        await wait_for(pilot, lambda: "[5] → 25 → 50 → 100" in screen_text(app))
        assert "RUNNING" in screen_text(app)

    drive(app, script)
    ro = fleet.get_rollout(MODEL)
    assert ro.canary_version == "v2" and ro.steps == [5, 25, 50, 100] and ro.interval_s == 600
    assert ro.guardrails == ["error_rate<0.02", "latency_p99_ms<50"]
    current = fleet.get_deployment(MODEL)
    assert current is not None and current.traffic == {"v1": 0.95, "v2": 0.05}


def test_read_only_model_view_offers_no_change(fleet: LocalEngine) -> None:
    app = create_console(fleet, read_only=True)

    async def script(pilot: Pilot[Any]) -> None:
        await wait_for(pilot, lambda: MODEL in screen_text(app))
        await pilot.press("colon", *f"model {MODEL}", "enter")  # the other way in
        await wait_for(pilot, lambda: isinstance(app.screen, ModelScreen))
        await wait_for(pilot, lambda: versions_shown(app) == ["v3", "v2", "v1"])
        text = screen_text(app)
        assert "Deploy" not in text and "Rollback" not in text and "Start rollout" not in text
        assert "Live" in text  # the read-only jumps stay
        await pilot.press("D", "O", "R")
        await pilot.pause(0.3)
        assert isinstance(app.screen, ModelScreen)

    drive(app, script, size=(120, 30))
    assert fleet.get_deployment(MODEL, environment="staging") is None
