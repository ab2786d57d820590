"""Online feature lookups (what a prediction naming an `entity` costs) over a big online store.

    uv run python bench/online_lookup.py [--entities 1000000] [--runs 200]

Materializes one view of `--entities` customers (one fresh row each), then times
`get_online_features` for 1, 10 and 100 customers picked at random, next to two baselines in
the same script: the lookup's own query on a copy of the online table without the entity-key
index (as it was before migration 0012: a scan), and a Python dict lookup of the rows already
in memory (the floor). Prints medians.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.engine import LocalEngine  # noqa: E402

DEFINITIONS = """
[entities.customer]
join_key = "customer_id"
value_type = "string"

[views.profile]
entity = "customer"
timestamp = "ts"
ttl = "30d"
features = { spend = "numeric", visits = "numeric", tier = "categorical" }
"""


def median_ms(lookup: Callable[[list[str]], object], keys: list[list[str]]) -> float:
    """Median time of `lookup` over each list of keys in turn."""
    times = []
    for some in keys:
        t0 = time.perf_counter()
        lookup(some)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entities", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=200)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    n = args.entities
    now = datetime.now().replace(microsecond=0)
    ids = [f"c-{i}" for i in range(n)]
    with tempfile.TemporaryDirectory(prefix="mlc-bench-online-") as tmp:
        root = Path(tmp)
        (root / "features.toml").write_text(DEFINITIONS)
        pl.DataFrame(
            {
                "customer_id": ids,
                "ts": [now - timedelta(days=1)] * n,
                "spend": rng.gamma(2.0, 40.0, n).round(2),
                "visits": rng.poisson(3, n).astype(np.float64),
                "tier": rng.choice(["bronze", "silver", "gold"], n),
            }
        ).write_parquet(root / "profile.parquet")
        engine = LocalEngine.open(root / "store", actor="bench")
        try:
            engine.apply_features(root / "features.toml")
            engine.ingest_features("profile", root / "profile.parquet")
            t0 = time.perf_counter()
            engine.materialize_features("profile", up_to=now)
            print(f"{n:,} entities materialized in {time.perf_counter() - t0:.1f} s")
            with engine.store.write() as conn:  # the same rows in the same order, no index
                conn.execute("CREATE TABLE online_unindexed AS SELECT * FROM feature_online")
            with engine.store.read() as conn:
                memory = {
                    r["entity_key"]: json.loads(r["features"])
                    for r in conn.rows("SELECT entity_key, features FROM feature_online")
                }
            refs = ["profile:spend", "profile:visits", "profile:tier"]
            pick = random.Random(1)
            for size in (1, 10, 100):
                keys = [[pick.choice(ids) for _ in range(size)] for _ in range(args.runs)]

                def ours(some: list[str]) -> None:
                    engine.get_online_features(refs, [{"customer_id": k} for k in some])

                def unindexed(some: list[str]) -> None:
                    with engine.store.read() as conn:
                        conn.rows(
                            "SELECT entity_key, features FROM online_unindexed"
                            " WHERE view = ? AND list_contains(?, entity_key)",
                            ["profile", some],
                        )

                got = engine.get_online_features(refs, [{"customer_id": k} for k in keys[0]])
                assert [r["spend"] for r in got.rows] == [memory[k]["spend"] for k in keys[0]]
                a = median_ms(ours, keys)
                b = median_ms(unindexed, keys)
                c = median_ms(lambda some: [memory.get(k) for k in some], keys)
                print(
                    f"{size:>3} keys: get_online_features {a:7.3f} ms | the same query {b:7.3f}"
                    f" ms without the index (ratio {a / b:.2f}) | dict in memory {c:7.4f} ms"
                )
        finally:
            engine.close()


if __name__ == "__main__":
    main()
