"""The A/B views by keys: `:ab`, enter, the results, and the split/promote/stop dialogs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from textual.pilot import Pilot

from app.tui.launch import create_console
from app.tui.screens.abtest_detail import ABTestDetailScreen
from app.tui.screens.abtests import ABTestsScreen
from app.tui.screens.confirm import ConfirmScreen
from app.tui.screens.form import FormScreen
from app.tui.widgets.resource_table import ResourceTable
from core.abtesting import ABTestConfig
from core.clock import utcnow
from core.domain import TestStatus
from core.engine import LocalEngine
from storage.repos import deployments as deployments_repo
from tests.tui.conftest import MODEL, drive, features, screen_text, wait_for


@pytest.fixture
def ab(fleet: LocalEngine) -> str:
    """A running 50/50 test v1 (control) vs v2 on credit-default with a little labelled
    traffic: far from its planned sample size, so nothing is significant yet."""
    test = fleet.create_ab_test(
        ABTestConfig(model=MODEL, name="v2 vs v1", versions=["v1", "v2"],
                     split={"v1": 50, "v2": 50}, min_sample_per_arm=200),
        reason="try v2",
    )  # fmt: skip
    fleet.start_ab_test(test.id, reason="go")
    predictions = fleet.predict(
        MODEL, [{"request_id": f"ab{i}", "unit_id": f"ab{i}", "features": features(i)}
                for i in range(60)],
    )  # fmt: skip
    fleet.record_actuals(
        MODEL, [{"request_id": p.request_id, "actual": i % 2} for i, p in enumerate(predictions)]
    )
    return test.id


@pytest.fixture
def decided(fleet: LocalEngine) -> str:
    """A running test where v2 is clearly more accurate than v1, past its planned sample."""
    test = fleet.create_ab_test(
        ABTestConfig(model=MODEL, name="v2 wins", versions=["v1", "v2"], mde=0.3,
                     min_sample_per_arm=100),
    )  # fmt: skip
    fleet.start_ab_test(test.id)
    events = [
        {"request_id": f"w{i}", "version": "v1" if i % 2 else "v2", "features": features(i),
         "prediction": 1, "score": 0.9, "latency_ms": 5.0}
        for i in range(800)
    ]  # fmt: skip
    fleet.log_events(MODEL, events)
    # v1 right 60% of the time, v2 90%.
    right = {e["request_id"]: (i // 2) % 10 < (6 if i % 2 else 9) for i, e in enumerate(events)}
    fleet.record_actuals(MODEL, [{"request_id": r, "actual": 1 if ok else 0}
                                 for r, ok in right.items()])  # fmt: skip
    assert fleet.analyze_test_results(test.id).winner == "v2"
    return test.id


def traffic(engine: LocalEngine) -> dict[str, float]:
    rev = engine.get_deployment(MODEL)
    assert rev is not None
    return rev.traffic


def split_records(engine: LocalEngine) -> int:
    return len(engine.list_audit(action="abtest.split"))


async def open_detail(pilot: Pilot[Any], app: Any) -> None:
    """`:ab`, then enter on the only test: its detail with the analysis drawn."""
    await pilot.press("colon", *"ab", "enter")
    await wait_for(pilot, lambda: isinstance(app.screen, ABTestsScreen)
                   and app.screen.query_one(ResourceTable).row_count == 1)  # fmt: skip
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, ABTestDetailScreen)
                   and "advice" in screen_text(app))  # fmt: skip


async def enter_split(pilot: Pilot[Any], app: Any, text: str) -> None:
    await pilot.press("s")
    await wait_for(pilot, lambda: isinstance(app.screen, FormScreen))
    await pilot.press("ctrl+shift+a", *text, "enter")


def test_list_then_detail_shows_arms_results_and_advice(fleet: LocalEngine, ab: str) -> None:
    app = create_console(fleet)
    observed = fleet.analyze_test_results(ab).srm["observed"]
    samples = f"{observed['v1']} / {observed['v2']}"
    assert observed["v1"] + observed["v2"] == 60

    async def script(pilot: Pilot[Any]) -> None:
        await pilot.press("colon", *"ab", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ABTestsScreen)
                       and app.screen.query_one(ResourceTable).row_count == 1)  # fmt: skip
        # The table sizes its columns to new cells on the next refresh, not at once.
        await wait_for(pilot, lambda: "RUNNING" in screen_text(app)
                       and samples in screen_text(app))  # fmt: skip
        text = screen_text(app)
        assert "v2 vs v1" in text and "v1 50% · v2 50%" in text
        assert samples in text  # units per arm
        await pilot.press("enter")
        await wait_for(pilot, lambda: "advice" in screen_text(app))
        text = screen_text(app)
        assert "control v1" in text
        assert "keep running" in text  # the recommendation in words
        assert "SRM" in text and "accuracy" in text and "LIFT" in text
        assert "ab › v2 vs v1" in text  # breadcrumbs
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ABTestsScreen))

    drive(app, script)


def test_a_long_name_is_clipped_so_the_samples_stay_in_view(fleet: LocalEngine) -> None:
    name = "v2 gradient boosting vs v1 baseline"  # the demo's
    test = fleet.create_ab_test(
        ABTestConfig(model=MODEL, name=name, versions=["v1", "v2"], split={"v1": 50, "v2": 50})
    )
    fleet.start_ab_test(test.id)
    fleet.predict(MODEL, [{"unit_id": f"u{i}", "features": features(i)} for i in range(40)])
    observed = fleet.analyze_test_results(test.id).srm["observed"]
    samples = f"{observed['v1']} / {observed['v2']}"
    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await pilot.press("colon", *"ab", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ABTestsScreen)
                       and samples in screen_text(app))  # fmt: skip
        text = screen_text(app)
        assert "v2 gradient boosting vs…" in text and name not in text
        await pilot.press("slash", *"baseline", "enter")  # the filter sees the whole name
        await wait_for(pilot, lambda: app.screen.query_one(ResourceTable).row_count == 1)
        await pilot.press("enter")
        await wait_for(pilot, lambda: name in screen_text(app))

    drive(app, script)


def test_ab_with_an_id_opens_the_detail(fleet: LocalEngine, ab: str) -> None:
    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await pilot.press("colon", *f"ab {ab}", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ABTestDetailScreen)
                       and "advice" in screen_text(app))  # fmt: skip
        assert ab in screen_text(app)

    drive(app, script)


def test_split_change_through_the_dialog(fleet: LocalEngine, ab: str) -> None:
    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await open_detail(pilot, app)
        await enter_split(pilot, app, "70,30")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        text = screen_text(app)
        assert MODEL in text and "v1, v2" in text
        assert "v1 (control) 50% · v2 50%" in text and "v1 (control) 70% · v2 30%" in text
        assert "v1 70% · v2 30%" in text  # production after
        await pilot.press(*"more to v1", "enter")
        await wait_for(pilot, lambda: fleet.get_ab_test(ab).traffic_split == {"v1": 70, "v2": 30})
        await wait_for(pilot, lambda: "split now v1 (control) 70% · v2 30%" in screen_text(app))
        assert isinstance(app.screen, ABTestDetailScreen)

    drive(app, script)
    assert traffic(fleet) == {"v1": 0.7, "v2": 0.3}
    [record] = fleet.list_audit(action="abtest.split")
    assert record.target == ab and record.reason == "more to v1"
    assert record.after == {"split": {"v1": 70, "v2": 30}}


def test_a_split_not_summing_to_100_is_refused_in_the_dialog(fleet: LocalEngine, ab: str) -> None:
    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await open_detail(pilot, app)
        await enter_split(pilot, app, "60,30")
        await wait_for(pilot, lambda: "sum to 90, not 100" in screen_text(app))
        assert isinstance(app.screen, FormScreen)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ABTestDetailScreen))

    drive(app, script)
    assert fleet.get_ab_test(ab).traffic_split == {"v1": 50, "v2": 50}
    assert traffic(fleet) == {"v1": 0.5, "v2": 0.5}
    assert split_records(fleet) == 0


def test_a_shift_to_100_asks_for_the_model_name(fleet: LocalEngine, ab: str) -> None:
    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await open_detail(pilot, app)
        await enter_split(pilot, app, "100,0")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert f"Type {MODEL} to confirm" in screen_text(app)
        await pilot.press("r", "enter", *"credit", "enter")
        await wait_for(pilot, lambda: f"type {MODEL} exactly" in screen_text(app))
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")
        await wait_for(pilot, lambda: "split unchanged" in screen_text(app))

    drive(app, script)
    assert fleet.get_ab_test(ab).traffic_split == {"v1": 50, "v2": 50}
    assert traffic(fleet) == {"v1": 0.5, "v2": 0.5}
    assert split_records(fleet) == 0


def test_a_test_keeps_two_live_arms(fleet: LocalEngine, ab: str) -> None:
    """Typed right, a 100/0 split still goes to the engine, which refuses it: said in red."""
    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await open_detail(pilot, app)
        await enter_split(pilot, app, "100,0")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("r", "enter", *MODEL, "enter")
        await wait_for(pilot, lambda: "error: a split must send traffic to at least two"
                       in screen_text(app))  # fmt: skip

    drive(app, script)
    assert fleet.get_ab_test(ab).traffic_split == {"v1": 50, "v2": 50}
    assert traffic(fleet) == {"v1": 0.5, "v2": 0.5}
    assert split_records(fleet) == 0


def test_promote_without_a_winner_shows_the_refusal(fleet: LocalEngine, ab: str) -> None:
    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await open_detail(pilot, app)
        await pilot.press("P")
        recommendation = fleet.analyze_test_results(ab).recommendation
        assert recommendation.startswith("keep running")
        await wait_for(pilot, lambda: f"error: cannot promote: {recommendation}"
                       in screen_text(app))  # fmt: skip
        assert isinstance(app.screen, ABTestDetailScreen)  # no dialog for a refused promotion

    drive(app, script)
    assert fleet.get_ab_test(ab).status is TestStatus.RUNNING
    assert traffic(fleet) == {"v1": 0.5, "v2": 0.5}


def test_promote_the_winner_with_the_typed_model_name(fleet: LocalEngine, decided: str) -> None:
    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await open_detail(pilot, app)
        assert "advice     promote v2" in screen_text(app)
        assert "BETTER" in screen_text(app)
        await pilot.press("P")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        text = screen_text(app)
        assert f"Promote v2 to 100% of {MODEL} production?" in text
        assert "now      revision 2: v1 50% · v2 50%" in text and "after    v2 100%" in text
        await pilot.press(*"v2 wins", "enter", *"credit", "enter")  # a wrong name: refused
        await wait_for(pilot, lambda: f"type {MODEL} exactly" in screen_text(app))
        assert traffic(fleet) == {"v1": 0.5, "v2": 0.5}
        await pilot.press(*"-default", "enter")
        await wait_for(pilot, lambda: fleet.get_ab_test(decided).status is TestStatus.COMPLETED)
        await wait_for(pilot, lambda: "promoted v2" in screen_text(app))

    drive(app, script)
    assert traffic(fleet) == {"v2": 1.0}
    [record] = fleet.list_audit(action="abtest.promote")
    assert record.target == decided and record.reason == "v2 wins"


def test_pause_then_stop(fleet: LocalEngine, ab: str) -> None:
    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await open_detail(pilot, app)
        await pilot.press("space")
        await wait_for(pilot, lambda: fleet.get_ab_test(ab).status is TestStatus.PAUSED)
        await wait_for(pilot, lambda: "PAUSED" in screen_text(app))
        assert traffic(fleet) == {"v1": 1.0}
        await pilot.press("S")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "Stop A/B test v2 vs v1 on credit-default?" in screen_text(app)
        await pilot.press(*"v2 is no better", "enter")
        await wait_for(pilot, lambda: fleet.get_ab_test(ab).status is TestStatus.STOPPED)
        await wait_for(pilot, lambda: "STOPPED" in screen_text(app))

    drive(app, script)
    [stop] = fleet.list_audit(action="abtest.stop")
    assert stop.reason == "v2 is no better"


def test_read_only_offers_no_split_promote_or_stop(fleet: LocalEngine, ab: str) -> None:
    app = create_console(fleet, read_only=True)

    async def script(pilot: Pilot[Any]) -> None:
        await open_detail(pilot, app)
        text = screen_text(app)
        for word in ("Split", "Promote", "Start/pause", "Stop"):
            assert word not in text
        await pilot.press("s", "P", "space", "S")
        await pilot.pause(0.2)
        assert isinstance(app.screen, ABTestDetailScreen)

    drive(app, script)
    assert fleet.get_ab_test(ab).status is TestStatus.RUNNING
    assert traffic(fleet) == {"v1": 0.5, "v2": 0.5}


def test_detail_fits_80_by_24(fleet: LocalEngine, ab: str) -> None:
    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await open_detail(pilot, app)
        text = screen_text(app)
        for word in ("v2 vs v1", "RUNNING", "advice", "keep running", "SRM", "Split"):
            assert word in text, word

    drive(app, script, size=(80, 24))


def test_an_interrupted_test_says_why_and_its_keys_change_nothing(
    fleet: LocalEngine, ab: str
) -> None:
    """After a deploy outside the test, S, s and space no longer fail: they say it ended."""
    fleet.deploy(MODEL, "v3", reason="hotfix")
    history = fleet.deployment_history(MODEL)
    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await pilot.press("colon", *"ab", "enter")
        await wait_for(pilot, lambda: "INTERRUPTED" in screen_text(app))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ABTestDetailScreen)
                       and "advice" in screen_text(app))  # fmt: skip
        text = screen_text(app)
        assert "INTERRUPTED" in text and "interrupted by credit-default production" in text
        assert "revision 3 (deploy by" in text and "v3 100%" in text
        for key, action in (("S", "stop"), ("s", "split"), ("space", "start or pause")):
            await pilot.press(key)
            await wait_for(pilot, lambda a=action: "has ended, interrupted by" in
                           screen_text(app) and f"nothing to {a}" in screen_text(app))  # fmt: skip
            assert isinstance(app.screen, ABTestDetailScreen)  # no dialog
            assert "error" not in screen_text(app)

    drive(app, script, size=(120, 30))
    assert fleet.get_ab_test(ab).status is TestStatus.INTERRUPTED
    assert fleet.deployment_history(MODEL) == history


def test_stop_of_a_test_whose_traffic_changed_unseen_ends_it_without_restoring(
    fleet: LocalEngine, ab: str
) -> None:
    """A map written the way an mlc from before the owner rule wrote it: `S` ends the test as
    interrupted and writes nothing over that map."""
    with fleet.store.write() as conn:
        deployments_repo.insert(conn, {
            "model_id": MODEL, "environment": "production", "revision": 3,
            "traffic": json.dumps({"v3": 1.0}), "kind": "deploy", "actor": "local:older-mlc",
            "reason": "", "created_at": utcnow(),
        })  # fmt: skip
    app = create_console(fleet)

    async def script(pilot: Pilot[Any]) -> None:
        await open_detail(pilot, app)
        await pilot.press("S")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press(*"end it", "enter")
        await wait_for(pilot, lambda: "has ended, interrupted by" in screen_text(app))
        assert "revision 3 (deploy by local:older-mlc)" in screen_text(app)

    drive(app, script, size=(160, 30))
    assert fleet.get_ab_test(ab).status is TestStatus.INTERRUPTED
    assert traffic(fleet) == {"v3": 1.0} and len(fleet.deployment_history(MODEL)) == 3
