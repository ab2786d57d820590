"""`mlc features …`: tables for people, one JSON document with --json, documented exit codes."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from tests.cli.conftest import Mlc

DEFINITIONS = """
[entities.customer]
join_key = "customer_id"

[views.profile]
entity = "customer"
timestamp = "ts"
ttl = "30d"
features = { score = "numeric", tier = "categorical" }
"""
ROWS = "customer_id,ts,score,tier\nc1,2024-01-01T00:00:00,1.5,gold\nc1,2024-01-10T00:00:00,2.5,platinum\nc2,2024-01-02T00:00:00,7,silver\n"


def _store(mlc: Mlc, tmp_path: Path) -> Path:
    defs = tmp_path / "features.toml"
    defs.write_text(DEFINITIONS)
    rows = tmp_path / "rows.csv"
    rows.write_text(ROWS)
    assert mlc("features", "apply", str(defs)).code == 0
    assert mlc("features", "ingest", "profile", str(rows)).code == 0
    return defs


def test_apply_list_show_in_both_modes(mlc: Mlc, tmp_path: Path) -> None:
    defs = tmp_path / "features.toml"
    defs.write_text(DEFINITIONS)
    res = mlc("features", "apply", str(defs), "--dry-run")
    assert res.code == 0 and "dry run: nothing was applied" in res.out and "created" in res.out
    res = mlc("--json", "features", "apply", str(defs))
    assert res.code == 0
    assert [(c["kind"], c["name"], c["action"]) for c in res.json["applied"]] == [
        ("entity", "customer", "created"), ("view", "profile", "created")
    ]  # fmt: skip
    assert mlc("--json", "features", "apply", str(defs)).json["applied"][1]["action"] == "unchanged"

    listed = mlc("--json", "features", "list").json
    assert [e["join_key"] for e in listed["entities"]] == ["customer_id"]
    assert [(v["name"], v["version"], v["ttl_s"]) for v in listed["views"]] == [
        ("profile", 1, 30 * 86400.0)
    ]
    res = mlc("features", "list")
    assert res.code == 0 and "profile" in res.out and "30d" in res.out

    defs.write_text(DEFINITIONS.replace('ttl = "30d"', 'ttl = "60d"'))
    assert mlc("features", "apply", str(defs)).code == 0
    shown = mlc("--json", "features", "show", "profile").json
    assert shown["version"] == 2 and [h["changes"] for h in shown["history"]] == [
        ["created"], ["ttl 30d → 60d"]
    ]  # fmt: skip
    assert (
        mlc("--json", "features", "show", "profile", "--version", "1").json["ttl_s"] == 30 * 86400
    )
    res = mlc("features", "show", "profile")
    assert res.code == 0 and "ttl 30d → 60d" in res.out and "score" in res.out


def test_exit_codes_for_bad_input_conflicts_and_unknown_views(mlc: Mlc, tmp_path: Path) -> None:
    defs = _store(mlc, tmp_path)
    defs.write_text(DEFINITIONS.replace('score = "numeric"', 'score = "binary"'))
    res = mlc("--json", "features", "apply", str(defs))
    assert (
        res.code == 4 and "changing feature score from numeric to binary is incompatible" in res.err
    )
    assert res.json["error"]["kind"] == "conflict"

    bad = tmp_path / "bad.csv"
    bad.write_text("customer_id,ts,score,tier\nc1,2024-01-01,high,gold\n,2024-01-01,1,gold\n")
    res = mlc("features", "ingest", "profile", str(bad))
    assert res.code == 2
    assert "line 2: feature 'score' must be a finite number" in res.err
    assert "line 3: customer_id is empty" in res.err
    assert mlc("--json", "features", "show", "profile").json["offline_rows"] == 3

    assert mlc("features", "show", "nope").code == 3
    assert mlc("features", "ingest", "nope", str(bad)).code == 3
    assert mlc("features", "materialize").code == 2  # neither views nor --all
    assert mlc("features", "get", "profile:score").code == 2  # neither --entity nor --entities
    assert mlc("features", "get", "profile:nope", "--entity", "c1").code == 3


def test_materialize_and_get_online_and_point_in_time(mlc: Mlc, tmp_path: Path) -> None:
    _store(mlc, tmp_path)
    res = mlc("--json", "features", "materialize", "--all", "--up-to", "2024-01-05T00:00:00")
    assert res.code == 0 and [m["entities"] for m in res.json["materialized"]] == [2]
    doc = mlc(
        "--json", "features", "get", "profile:*", "--entity", "c1", "--entity", "customer_id=c9"
    ).json
    assert doc == {
        "features": ["score", "tier"],
        "rows": [{"customer_id": "c1", "score": 1.5, "tier": "gold"},
                 {"customer_id": "c9", "score": None, "tier": None}],
    }  # fmt: skip
    res = mlc("features", "get", "profile:tier", "--entity", "c2")
    assert res.code == 0 and "silver" in res.out

    labels = tmp_path / "labels.csv"
    labels.write_text(
        "customer_id,when,label\nc1,2024-01-09T00:00:00,0\nc1,2024-01-10T00:00:00,1\n"
    )
    doc = mlc("--json", "features", "get", "profile:score", "--entities", str(labels),
              "--timestamp", "when").json  # fmt: skip
    assert doc["features"] == ["score"] and [r["score"] for r in doc["rows"]] == [1.5, 2.5]
    out = tmp_path / "training.parquet"
    res = mlc("features", "get", "profile:*", "--entities", str(labels), "--timestamp", "when",
              "--output", str(out))  # fmt: skip
    assert res.code == 0 and "wrote 2 rows" in res.out
    assert pl.read_parquet(out).get_column("tier").to_list() == ["gold", "platinum"]
