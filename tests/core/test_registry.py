from __future__ import annotations

import threading
from pathlib import Path

import duckdb
import pytest
import skops.io as sio

from core.domain import ModelStatus
from core.engine import LocalEngine
from core.errors import Conflict, IllegalTransition, IntegrityError, InvalidInput, NotFound
from storage.paths import DB_FILE
from tests.untrusted_estimator import SneakyEstimator


def _counts(engine: LocalEngine) -> tuple[int, int, int]:
    with engine.store.read() as conn:
        return (
            conn.scalar("SELECT count(*) FROM models"),
            conn.scalar("SELECT count(*) FROM model_versions"),
            conn.scalar("SELECT count(*) FROM audit_log"),
        )


def test_eight_concurrent_registrations_get_v1_to_v8(
    engine: LocalEngine, credit_model: str, artifact_bytes: bytes
) -> None:
    got: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def register(i: int) -> None:
        try:
            start.wait()
            v = engine.register_version(
                credit_model, artifact_bytes, algorithm="logistic_regression",
                metrics={"accuracy": 0.8 + i / 100},
            )  # fmt: skip
            got.append(v.version)
        except BaseException as e:  # collected, asserted below
            errors.append(e)

    threads = [threading.Thread(target=register, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(got, key=lambda v: int(v[1:])) == [f"v{i}" for i in range(1, 9)]
    assert [v.number for v in engine.list_versions(credit_model)] == list(range(1, 9))
    assert engine.verify_audit().ok


def test_a_version_records_lineage_signature_and_content_hash(
    engine: LocalEngine, credit_model: str, artifact_bytes: bytes
) -> None:
    v1 = engine.register_version(credit_model, artifact_bytes, algorithm="logistic_regression")
    v2 = engine.register_version(
        credit_model, artifact_bytes, algorithm="logistic_regression",
        metrics={"roc_auc": 0.81}, parameters={"C": 1.0}, parent_version="v1",
        training_data_hash="abc123", tags={"team": "risk"},
    )  # fmt: skip
    assert v2.parent_version == "v1" and v2.training_data_hash == "abc123"
    assert v2.tags == {"team": "risk"}
    assert v2.artifact_sha256 == v1.artifact_sha256  # content-addressed: one file
    assert v2.signature["inputs"] == ["age", "region"]
    assert v2.signature["classes"] == [0, 1]
    assert v2.status is ModelStatus.REGISTERED
    loaded = engine.registry.load_estimator(credit_model, "v2")
    assert hasattr(loaded, "predict_proba")


def test_status_machine_refuses_illegal_moves(
    engine: LocalEngine, credit_model: str, artifact_bytes: bytes
) -> None:
    engine.register_version(credit_model, artifact_bytes, algorithm="lr")
    engine.register_version(credit_model, artifact_bytes, algorithm="lr")
    with pytest.raises(IllegalTransition, match="validated before it is deployed"):
        engine.transition_version(credit_model, "v1", "production")
    engine.transition_version(credit_model, "v1", "rejected", reason="AUC too low")
    with pytest.raises(IllegalTransition, match="rejected version can never be deployed"):
        engine.transition_version(credit_model, "v1", "production")
    engine.transition_version(credit_model, "v2", "validated")
    engine.transition_version(credit_model, "v2", "archived")
    with pytest.raises(IllegalTransition, match="archived version must be restored"):
        engine.transition_version(credit_model, "v2", "production")
    engine.transition_version(credit_model, "v2", "validated", reason="restore")
    assert (
        engine.transition_version(credit_model, "2", "production").status is ModelStatus.PRODUCTION
    )
    with pytest.raises(InvalidInput, match="unknown status"):
        engine.transition_version(credit_model, "v2", "shipped")


def test_aliases_resolve_and_moving_one_is_audited(
    engine: LocalEngine, credit_model: str, artifact_bytes: bytes
) -> None:
    engine.register_version(credit_model, artifact_bytes, algorithm="lr")
    engine.register_version(credit_model, artifact_bytes, algorithm="lr")
    engine.set_alias(credit_model, "v1", "champion")
    engine.set_alias(credit_model, "v2", "champion", reason="better AUC")
    assert engine.get_version(credit_model, "champion").version == "v2"
    assert engine.get_version(credit_model, "v1").aliases == []
    moves = engine.list_audit(action="version.alias")
    assert [(m.before, m.after) for m in moves] == [
        (None, {"alias": "champion", "version": "v1"}),
        ({"alias": "champion", "version": "v1"}, {"alias": "champion", "version": "v2"}),
    ]
    assert moves[-1].reason == "better AUC" and moves[-1].actor == "test:alice"
    with pytest.raises(InvalidInput, match="invalid alias"):
        engine.set_alias(credit_model, "v1", "v7")


def test_bad_input_is_refused_and_nothing_is_written(
    engine: LocalEngine, credit_model: str, artifact_bytes: bytes, tmp_path: Path
) -> None:
    before = _counts(engine)
    with pytest.raises(InvalidInput, match="invalid model name"):
        engine.create_model("Credit_Default", "classification")
    with pytest.raises(InvalidInput, match="unknown task"):
        engine.create_model("churn", "clustering")
    with pytest.raises(Conflict, match="already exists"):
        engine.create_model(credit_model, "classification")
    with pytest.raises(NotFound, match="model 'nope' not found"):
        engine.register_version("nope", artifact_bytes, algorithm="lr")
    with pytest.raises(InvalidInput, match="not a skops file"):
        engine.register_version(credit_model, b"\x80\x04K\x01.", algorithm="lr")  # a pickle
    with pytest.raises(InvalidInput, match="metric 'auc' must be a number"):
        engine.register_version(credit_model, artifact_bytes, algorithm="lr", metrics={"auc": "hi"})
    with pytest.raises(NotFound, match="no version or alias 'champion'"):
        engine.get_version(credit_model, "champion")
    with pytest.raises(NotFound, match="no version v4"):
        engine.get_version(credit_model, "v4")
    assert _counts(engine) == before
    assert not any(engine.artifacts.root.rglob("*.skops"))


def test_declared_features_must_match_the_artifact(
    engine: LocalEngine, artifact_bytes: bytes
) -> None:
    from core.names import features_spec

    engine.create_model(
        "churn", "classification", features=features_spec("age:numeric,plan:categorical")
    )
    with pytest.raises(InvalidInput, match="missing plan unexpected region"):
        engine.register_version("churn", artifact_bytes, algorithm="lr")


def test_an_untrusted_type_is_refused_by_name(engine: LocalEngine, credit_model: str) -> None:
    data = sio.dumps(SneakyEstimator())
    with pytest.raises(IntegrityError, match=r"untrusted type.*SneakyEstimator"):
        engine.register_version(credit_model, data, algorithm="sneaky")
    assert engine.list_versions(credit_model) == []


def test_an_artifact_with_one_changed_byte_is_refused_on_load(
    engine: LocalEngine, credit_model: str, artifact_bytes: bytes
) -> None:
    v = engine.register_version(credit_model, artifact_bytes, algorithm="lr")
    path = engine.artifacts.path_for(v.artifact_sha256)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match="failed its checksum"):
        engine.registry.load_estimator(credit_model, "v1")


def test_every_mutation_is_audited_with_actor(
    engine: LocalEngine, credit_model: str, artifact_bytes: bytes
) -> None:
    engine.register_version(credit_model, artifact_bytes, algorithm="lr")
    engine.tag_version(credit_model, "v1", "owner", "risk-team")
    engine.transition_version(credit_model, "v1", "validated", reason="offline eval")
    actions = [r.action for r in engine.list_audit()]
    assert actions == ["model.create", "version.register", "version.tag", "version.status"]
    assert {r.actor for r in engine.list_audit()} == {"test:alice"}
    assert [r.action for r in engine.list_audit(action="version")] == actions[1:]
    assert engine.list_audit(model="other") == []


def test_verify_names_the_single_edited_row(
    engine: LocalEngine, credit_model: str, artifact_bytes: bytes, home: Path
) -> None:
    engine.register_version(credit_model, artifact_bytes, algorithm="lr")
    engine.transition_version(credit_model, "v1", "validated")
    engine.set_alias(credit_model, "v1", "champion")
    assert engine.verify_audit().ok and engine.verify_audit().checked == 4
    engine.close()
    con = duckdb.connect(str(home / DB_FILE))
    con.execute("UPDATE audit_log SET reason = 'nothing to see' WHERE seq = 3")
    con.close()
    reopened = LocalEngine.open(home)
    try:
        result = reopened.verify_audit()
        assert not result.ok and result.first_broken_seq == 3 and result.checked == 2
    finally:
        reopened.close()
