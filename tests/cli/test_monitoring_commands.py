"""`mlc ingest`, `mlc actuals` and `mlc metrics` in human and --json modes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from tests.cli.conftest import Mlc, with_versions


def test_cli_ingest_actuals_and_metrics(mlc: Mlc, tmp_path: Path, home: Path) -> None:
    assert (
        mlc("models", "create", "m", "--task", "classification", "--features", "age:numeric").code
        == 0
    )
    with_versions(home, "m", 1)
    now = datetime.now(UTC).replace(tzinfo=None)
    pl.DataFrame({
        "request_id": [f"e{i}" for i in range(50)], "ts": [now - timedelta(seconds=i) for i in range(50)],
        "version": ["v1"] * 50, "prediction": [i % 2 for i in range(50)], "latency_ms": [2.0] * 50,
        "age": [30 + i for i in range(50)],
    }).write_parquet(tmp_path / "events.parquet")  # fmt: skip
    pl.DataFrame({"request_id": [f"e{i}" for i in range(0, 50, 2)], "actual": [0] * 25}).write_csv(
        tmp_path / "labels.csv"
    )
    res = mlc("ingest", "m", str(tmp_path / "events.parquet"))
    assert res.code == 0 and "logged 50 new events" in res.out
    assert mlc("ingest", "m", str(tmp_path / "events.parquet")).code == 0  # replay: no duplicates
    res = mlc("--json", "actuals", "m", str(tmp_path / "labels.csv"))
    assert res.code == 0 and res.json["received"] == 25
    doc = mlc("--json", "metrics", "m", "--since", "1h", "--bucket", "1h").json
    assert sum(b["requests"] for b in doc["buckets"]) == 50
    assert sum(b["labelled"] for b in doc["buckets"]) == 25
    assert all(b["accuracy"] == 1.0 for b in doc["buckets"] if b["labelled"])
    res = mlc("metrics", "m", "--since", "1h")
    assert res.code == 0 and "v1" in res.out
    res = mlc("ingest", "m", str(tmp_path / "nope.csv"))
    assert res.code == 2 and "does not exist" in res.err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"request_id": "x", "features": {"age": "old"}}\n')
    res = mlc("ingest", "m", str(bad))
    assert res.code == 2 and "feature 'age' must be a number" in res.err


def test_cli_drift_reports_a_missing_reference_and_bad_input(mlc: Mlc, artifact_file: Path) -> None:
    mlc(
        "models",
        "create",
        "m",
        "--task",
        "classification",
        "--features",
        "age:numeric,region:categorical",
    )
    mlc("versions", "register", "m", str(artifact_file), "--algorithm", "lr")
    mlc("versions", "transition", "m", "v1", "validated")
    mlc("deploy", "m", "v1")
    doc = mlc("--json", "drift", "m").json
    assert doc["version"] == "v1" and doc["analysis"]["status"] == "no_reference"
    res = mlc("drift", "m", "--window", "30m")
    assert res.code == 0 and "no reference profile" in res.out
    assert mlc("drift", "m", "--window", "soon").code == 2
    assert mlc("drift", "nope").code == 3
