"""End to end on sample data: two trained versions with a real quality difference, traffic
through the prediction path, late labels, analysis, promotion, audit."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import polars as pl

from core.engine import LocalEngine
from tests.e2e.server import Server
from tests.training.conftest import FAST_CONFIG, HGB_SPACE, wait_for

ROOT = Path(__file__).resolve().parents[2] / "sample_data" / "credit"
MODEL = "credit-default"


def _config(tmp: Path, name: str, data: Path, *, weak: bool) -> Path:
    text = FAST_CONFIG.format(
        data=data, algorithm="logistic_regression" if weak else "hist_gradient_boosting",
        params="{ C = 1.0 }" if weak else "{ max_iter = 60 }", trials=1,
        space="C = { choices = [1.0] }" if weak else HGB_SPACE,
    )  # fmt: skip
    if weak:  # two features, one of them noise: clearly worse, but it passes its own gates
        text = text.replace(
            'exclude = ["application_id"]', 'features = ["region", "num_late_payments_12m"]'
        )
        text = text.replace("min = { roc_auc = 0.6 }", "min = { roc_auc = 0.5 }")
    path = tmp / f"{name}.toml"
    path.write_text(text)
    return path


def test_ab_test_finds_and_promotes_the_better_version(tmp_path: Path) -> None:
    home = tmp_path / "store"
    data = tmp_path / "train.parquet"
    pl.read_parquet(ROOT / "credit.parquet").head(8000).write_parquet(data)
    engine = LocalEngine.open(home, actor="test:setup")
    try:
        engine.create_model(MODEL, "classification", target="default")
        for name, weak in (("weak", True), ("strong", False)):
            job = engine.trigger_training(_config(tmp_path, name, data, weak=weak), model=MODEL)
            assert wait_for(engine, job.id).outcome == "validated", name
        engine.deploy(MODEL, "v1", reason="the weak one first")
    finally:
        engine.close()

    server = Server(home).start()
    try:

        def mlc(*args: str) -> dict:
            out = server.mlc("--json", *args)
            assert out.returncode == 0, (args, out.stderr)
            return json.loads(out.stdout)

        test = mlc("ab", "create", MODEL, "--name", "strong-vs-weak", "--versions", "v1,v2",
                   "--split", "50,50", "--unit", "unit_id", "--guardrail", "error_rate",
                   "--mde", "0.05", "--min-sample", "500")["id"]  # fmt: skip
        mlc("ab", "start", test, "--yes")

        rows = pl.concat([
            pl.read_parquet(ROOT / "credit_current.parquet"),
            pl.read_parquet(ROOT / "credit.parquet").tail(6000),
        ])  # fmt: skip
        features = rows.drop(["application_id", "applied_at", "default"]).to_dicts()
        labels = rows["default"].to_list()
        served: set[str] = set()
        with httpx.Client(base_url=server.url, timeout=60) as http:
            for start in range(0, len(features), 1000):
                batch = [
                    {"request_id": f"r{i}", "unit_id": f"applicant-{i}", "features": features[i]}
                    for i in range(start, min(start + 1000, len(features)))
                ]
                answer = http.post(f"/v1/models/{MODEL}/predict", json=batch)
                assert answer.status_code == 200, answer.text
                served |= {a["version"] for a in answer.json()}
            actuals = [{"request_id": f"r{i}", "actual": y} for i, y in enumerate(labels)]
            for start in range(0, len(actuals), 5000):  # labels arrive late, in batches
                assert (
                    http.post(
                        f"/v1/models/{MODEL}/actuals", json=actuals[start : start + 5000]
                    ).status_code
                    == 200
                )
        assert served == {"v1", "v2"}

        results = mlc("ab", "analyze", test)
        assert not results["srm"]["mismatch"]
        assert results["winner"] == "v2" and results["promotable"], results["recommendation"]
        primary = next(c for c in results["comparisons"] if c["metric"] == "accuracy")
        assert primary["treatment_mean"] > primary["control_mean"] and primary["significant"]
        revision = mlc("ab", "promote", test, "--yes")
        assert revision["traffic"] == {"v2": 1.0}
        assert mlc("history", MODEL)["revisions"][-1]["kind"] == "promote"
        assert mlc("ab", "list")["tests"][0]["status"] == "completed"
        assert (
            mlc("audit", "list", "--action", "abtest")["records"][-1]["action"] == "abtest.promote"
        )
        refused = server.mlc("ab", "split", test, "50,50", "--yes")
        assert refused.returncode == 4
    finally:
        server.stop()
