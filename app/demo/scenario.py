"""The demo scenario: a small fleet built through ordinary, audited engine calls.

`build_demo` trains three versions of `credit-default` from `sample_data/credit/demo_v*.toml`
(v1 a small baseline, v2 a stronger challenger, v3 a candidate the gates reject), deploys v1
to production, starts an A/B test of v2 against v1, trains and deploys `delivery-time`, and
creates the alert rules that the simulator's drift episode fires. It uses only the `Engine`
protocol, so it runs on a `LocalEngine` or through a remote owner alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from app.demo.feed import TrafficSource
from core.abtesting import ABTestConfig
from core.domain import TestStatus, TrainingJob, TrainingStatus
from core.engine import Engine
from core.errors import Conflict, MlcError

CREDIT = "credit-default"
DELIVERY = "delivery-time"
DATA_DIR = Path(__file__).resolve().parents[2] / "sample_data"
REASON = "mlc demo"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class DemoRule:
    """One alert rule the demo creates (see `RULES`)."""

    model: str
    metric: str
    comparison: str
    threshold: float
    window_s: int
    for_s: int
    severity: str
    purpose: str


RULES: tuple[DemoRule, ...] = (
    # Measured on the demo's traffic (v1's 60 s window, ~2,600 events): healthy traffic keeps
    # credit_utilization's Wasserstein/sd at 0.03-0.08 and annual_income's PSI near 0.01;
    # the covariate-drift file takes them to ~0.67 and ~0.32. Mixed into the window, the first
    # crosses 0.15 about 12 s into the episode (the alert fired 21-25 s after its start), the
    # second, quadratic in the drifted share, crosses 0.12 about 20-35 s in; both resolve
    # within a minute of the episode's end.
    DemoRule(CREDIT, "drift.credit_utilization", ">", 0.15, 60, 10, "critical",
             "fires early in the drift episode"),
    DemoRule(CREDIT, "psi.annual_income", ">", 0.12, 60, 15, "warning",
             "fires later in the drift episode"),
    DemoRule(CREDIT, "error_rate", ">", 0.05, 60, 30, "critical", "failed predictions"),
    DemoRule(CREDIT, "accuracy", "<", 0.7, 300, 60, "warning", "labelled accuracy"),
    DemoRule(DELIVERY, "rmse", ">", 8.0, 300, 60, "warning", "labelled error in minutes"),
)  # fmt: skip


@dataclass(frozen=True)
class DemoScenario:
    """What `build_demo` set up (or found, when the store already holds the demo)."""

    models: list[str]
    versions: dict[str, list[str]]
    """Registered versions per model, e.g. {"credit-default": ["v1", "v2", "v3"]}."""
    ab_test_id: str | None
    """The A/B test of credit-default v2 against v1."""
    rule_ids: list[str]
    drift_rule_id: str | None
    """The rule the drift episode is meant to fire."""
    sources: list[TrafficSource]
    """What the traffic simulator sends (pass to `TrafficSimulator`)."""
    build_s: float
    resumed: bool = False
    """True when the store already held the demo and nothing was created."""
    jobs: dict[str, str] = field(default_factory=dict)
    """Training job id per "model:config" trained by this build."""


def traffic_sources(data_dir: Path = DATA_DIR, *, delivery: bool = True) -> list[TrafficSource]:
    """Healthy 2026 traffic per model; credit's drift episode is its covariate-drift file."""
    credit = data_dir / "credit"
    sources = [
        TrafficSource(
            model=CREDIT, normal=credit / "credit_current.parquet", target="default",
            drop=("application_id", "applied_at"),
            drifted=credit / "credit_covariate_drift.parquet", share=0.8,
        ),
    ]  # fmt: skip
    if delivery:
        sources.append(
            TrafficSource(
                model=DELIVERY,
                normal=data_dir / "delivery" / "delivery_current.parquet",
                target="delivery_minutes",
                drop=("order_id", "ordered_at"),
                share=0.2,
            )
        )
    return sources


def build_demo(
    engine: Engine,
    progress: Progress = lambda _: None,
    *,
    data_dir: Path = DATA_DIR,
    delivery: bool = True,
    training_timeout_s: float = 600.0,
) -> DemoScenario:
    """Build the demo fleet on `engine`'s store, reporting each step through `progress`.

    On a store that already holds the demo (credit-default deployed to production), nothing
    is created and the existing setup is returned with `resumed=True`. A store holding a
    `credit-default` that is not deployed raises `Conflict`. Training failures raise
    `MlcError` naming the job.
    """
    started = time.monotonic()
    existing = {m.name for m in engine.list_models()}
    if CREDIT in existing:
        return _resume(engine, progress, data_dir, started)

    jobs: dict[str, str] = {}

    def train(model: str, config: Path, what: str, *, expect: str = "validated") -> TrainingJob:
        progress(f"training {model} {what} ({config.name}) …")
        t0 = time.monotonic()
        job = engine.trigger_training(config, model=model)
        jobs[f"{model}:{config.name}"] = job.id
        done = _wait(engine, job.id, training_timeout_s)
        if done.status is not TrainingStatus.SUCCEEDED:
            raise MlcError(
                f"demo: training {model} from {config.name} {done.status.value}:"
                f" {done.error or done.message}"
            )
        if done.outcome != expect:
            raise MlcError(
                f"demo: {model} {done.result_version} from {config.name} was {done.outcome},"
                f" expected {expect}"
            )
        progress(f"{model} {done.result_version} {done.outcome} in {time.monotonic() - t0:.1f} s")
        return done

    credit_dir, delivery_dir = data_dir / "credit", data_dir / "delivery"
    progress(f"creating models {CREDIT}" + (f" and {DELIVERY}" if delivery else ""))
    engine.create_model(
        CREDIT, "classification", target="default",
        description="Predict whether a consumer loan applicant defaults within 12 months.",
    )  # fmt: skip
    if delivery:
        engine.create_model(
            DELIVERY, "regression", target="delivery_minutes",
            description="Predict food delivery time in minutes from order, courier and weather.",
        )  # fmt: skip

    v1 = train(CREDIT, credit_dir / "demo_v1.toml", "v1, a small gradient-boosting baseline")
    progress(f"deploying {CREDIT} {v1.result_version} to production")
    engine.deploy(CREDIT, v1.result_version or "v1", reason=f"{REASON}: the baseline")
    if delivery:
        d1 = train(DELIVERY, delivery_dir / "demo.toml", "v1, gradient boosting")
        progress(f"deploying {DELIVERY} {d1.result_version} to production")
        engine.deploy(DELIVERY, d1.result_version or "v1", reason=f"{REASON}: first model")
    v2 = train(CREDIT, credit_dir / "demo_v2.toml", "v2, the gradient-boosting challenger")
    train(CREDIT, credit_dir / "demo_v3.toml", "v3, a candidate the gates reject",
          expect="rejected")  # fmt: skip

    control, challenger = v1.result_version or "v1", v2.result_version or "v2"
    progress(f"starting the A/B test {CREDIT} {challenger} vs {control} (50/50)")
    test = engine.create_ab_test(
        ABTestConfig(
            model=CREDIT, name=f"{challenger} gradient boosting vs {control} baseline",
            versions=[control, challenger], split={control: 50.0, challenger: 50.0},
            unit="unit_id", primary_metric="accuracy", secondary_metrics=["prediction"],
            guardrail_metrics=["error_rate"], method="sequential", mde=0.03,
            min_sample_per_arm=500,
        ),
        reason=f"{REASON}: is the challenger better?",
    )  # fmt: skip
    engine.start_ab_test(test.id, reason=f"{REASON}: 50/50 by customer")

    progress("creating alert rules")
    rule_ids, drift_rule = [], None
    for spec in RULES:
        if spec.model == DELIVERY and not delivery:
            continue
        rule = engine.create_alert_rule(
            spec.model, spec.metric, spec.comparison, spec.threshold, window_s=spec.window_s,
            for_s=spec.for_s, severity=spec.severity, repeat_s=0,
        )  # fmt: skip
        rule_ids.append(rule.id)
        if drift_rule is None and spec.metric.startswith("drift."):
            drift_rule = rule.id

    models = [CREDIT, *([DELIVERY] if delivery else [])]
    took = time.monotonic() - started
    progress(f"demo ready in {took:.1f} s")
    return DemoScenario(
        models=models,
        versions={m: [v.version for v in engine.list_versions(m)] for m in models},
        ab_test_id=test.id, rule_ids=rule_ids, drift_rule_id=drift_rule,
        sources=traffic_sources(data_dir, delivery=delivery), build_s=took, jobs=jobs,
    )  # fmt: skip


def _resume(engine: Engine, progress: Progress, data_dir: Path, started: float) -> DemoScenario:
    """The demo already built on this store: find its parts, create nothing."""
    models = [m.name for m in engine.list_models() if m.name in (CREDIT, DELIVERY)]
    for model in models:
        if engine.get_deployment(model) is None:
            raise Conflict(
                f"this store already has {model} without a production deployment, so it is not"
                " a demo store: run `mlc demo` with a fresh --store"
            )
    progress("the store already holds the demo: resuming its traffic")
    tests = engine.list_ab_tests(model=CREDIT)
    running = [t for t in tests if t.status is TestStatus.RUNNING]
    test = running[-1] if running else (tests[-1] if tests else None)
    rules = [r for m in models for r in engine.list_alert_rules(model=m)]
    drift = next((r.id for r in rules if r.metric_name.startswith("drift.")), None)
    return DemoScenario(
        models=models,
        versions={m: [v.version for v in engine.list_versions(m)] for m in models},
        ab_test_id=test.id if test else None, rule_ids=[r.id for r in rules],
        drift_rule_id=drift, sources=traffic_sources(data_dir, delivery=DELIVERY in models),
        build_s=time.monotonic() - started, resumed=True,
    )  # fmt: skip


def _wait(engine: Engine, job_id: str, timeout_s: float) -> TrainingJob:
    deadline = time.monotonic() + timeout_s
    while True:
        job = engine.get_training_status(job_id)
        if job.status.finished:
            return job
        if time.monotonic() > deadline:
            raise MlcError(f"demo: training job {job_id} did not finish in {timeout_s:.0f} s")
        time.sleep(0.1)
