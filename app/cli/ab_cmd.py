"""`mlc ab …`: A/B tests between versions of a model, with honest statistics."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from app.cli import owner as owners
from app.cli.confirm import confirm
from app.cli.output import cell, emit, fields, state, success, table
from core.domain import ABTest, TestStatus
from core.errors import InvalidInput

if TYPE_CHECKING:
    from core.abtesting import TestResults

app = typer.Typer(help="A/B tests: experiments between model versions.", no_args_is_help=True)
IdArg = Annotated[str, typer.Argument(metavar="TEST")]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
ReasonOption = Annotated[str, typer.Option(help="Why (goes to the audit log).")]


def _csv(text: str | None) -> list[str]:
    return [p.strip() for p in (text or "").split(",") if p.strip()]


@app.command("create")
def create(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model name.")],
    name: Annotated[str, typer.Option("--name", help="A name for the test.")],
    versions: Annotated[str, typer.Option(help="Versions, control first: v1,v2.")],
    split: Annotated[
        str | None, typer.Option(help="Percent per version in the same order: 50,50.")
    ] = None,
    metric: Annotated[
        str, typer.Option(help="Primary metric: accuracy, error_rate, latency_ms, prediction, mae.")
    ] = "accuracy",
    secondary: Annotated[
        str | None, typer.Option(help="Secondary metrics, comma separated.")
    ] = None,
    guardrail: Annotated[
        str | None, typer.Option(help="Guardrail metrics, comma separated.")
    ] = None,
    method: Annotated[str, typer.Option(help="fixed, sequential or bayesian.")] = "fixed",
    alpha: Annotated[float, typer.Option(help="Significance level.")] = 0.05,
    power: Annotated[float, typer.Option(help="Power for the sample size.")] = 0.8,
    mde: Annotated[
        float, typer.Option(help="Minimum detectable effect, relative (0.02 = 2%).")
    ] = 0.02,
    min_sample: Annotated[
        int, typer.Option(help="Minimum units per arm before any decision.")
    ] = 1000,
    unit: Annotated[str, typer.Option(help="request_id or unit_id.")] = "request_id",
    auto_promote: Annotated[
        bool, typer.Option("--auto-promote", help="Promote the winner by itself.")
    ] = False,
    reason: ReasonOption = "",
) -> None:
    """Create a test (status draft); `mlc ab start` sends it traffic."""
    names = _csv(versions)
    weights = None
    if split:
        try:
            values = [float(v) for v in _csv(split)]
        except ValueError:
            raise InvalidInput(
                f"invalid --split {split!r}: expected percentages like 50,50"
            ) from None
        if len(values) != len(names):
            raise InvalidInput(f"--split has {len(values)} values for {len(names)} versions")
        weights = dict(zip(names, values, strict=True))
    from core.abtesting import ABTestConfig  # scipy: paid only by `ab create`

    config = ABTestConfig(
        model=model, name=name, versions=names, split=weights, unit=unit, primary_metric=metric,
        secondary_metrics=_csv(secondary), guardrail_metrics=_csv(guardrail), alpha=alpha,
        power=power, mde=mde, method=method, min_sample_per_arm=min_sample, auto_promote=auto_promote,
    )  # fmt: skip
    test = state(ctx).engine().create_ab_test(config, reason=reason)
    emit(
        ctx,
        test,
        lambda: success(
            ctx, f"test {test.id} ({test.status}): {model} {', '.join(test.model_versions)}"
        ),
    )


@app.command("list")
def list_(
    ctx: typer.Context, model: Annotated[str | None, typer.Option(help="Only this model.")] = None
) -> None:
    """Every test."""
    tests = state(ctx).engine().list_ab_tests(model=model)
    emit(ctx, {"tests": tests}, lambda: table(
        ["TEST", "NAME", "MODEL", "STATUS", "VERSIONS", "SPLIT", "METRICS", "CREATED"],
        [[t.id, t.name, t.model_id, t.status, t.model_versions, t.traffic_split, t.success_metrics, t.created_at]
         for t in tests]))  # fmt: skip


@app.command("show")
def show(ctx: typer.Context, test_id: IdArg) -> None:
    """A test and its current analysis: per arm and metric, lift, interval, p-value, SRM, advice."""
    engine = state(ctx).engine()
    test = engine.get_ab_test(test_id)
    results = engine.analyze_test_results(test_id)
    emit(ctx, {"test": test, "results": results}, lambda: _print(test, results))


def _print(test: ABTest, r: TestResults) -> None:
    ended = test.status in (TestStatus.STOPPED, TestStatus.COMPLETED, TestStatus.INTERRUPTED)
    fields(
        [
            ("test", f"{test.id} {test.name} ({test.status})"),
            *([("why", test.reason or None)] if ended else []),
            ("model", f"{test.model_id} {test.environment}"),
            ("split", test.traffic_split),
            ("method", f"{r.method}, alpha {r.alpha}, unit {r.unit}"),
            ("control", r.control),
            (
                "SRM",
                f"p = {cell(r.srm.get('p_value'))}"
                + (" MISMATCH" if r.srm.get("mismatch") else " ok"),
            ),
            ("progress", r.power.get("progress") if isinstance(r.power, dict) else None),
            ("advice", r.recommendation),
            *(("note", note) for note in r.notes),
        ]
    )
    table(
        ["ARM", "METRIC", "ROLE", "N", "MEAN", "CONTROL N", "CONTROL MEAN", "LIFT", "REL", "CI", "P",
         "ADJ P", "P(BEAT)", "SIGNIFICANT"],
        [[c.treatment, c.metric, c.role, c.treatment_n, c.treatment_mean, c.control_n, c.control_mean,
          c.lift, c.rel_lift, list(c.ci), c.p_value, c.adjusted_p, c.chance_to_beat,
          "yes" if c.significant else "no"] for c in r.comparisons],
    )  # fmt: skip


def _action(name: str, dangerous: bool):  # noqa: ANN202 - a command factory
    def command(
        ctx: typer.Context, test_id: IdArg, reason: ReasonOption = "", yes: YesOption = False
    ) -> None:
        engine = state(ctx).engine()
        test = engine.get_ab_test(test_id)
        # An interrupted test has ended already: stop and pause answer that, and ask nothing.
        if dangerous and test.status is not TestStatus.INTERRUPTED:
            confirm(
                f"{name.capitalize()} test {test.id} on {test.model_id}"
                f" ({test.environment} traffic changes)?",
                yes=yes,
            )
        test = getattr(engine, f"{name}_ab_test")(test_id, reason=reason)

        def human() -> None:
            if test.status is TestStatus.INTERRUPTED:
                success(ctx, f"test {test.id} has ended: it was {test.reason}; traffic unchanged")
            else:
                success(ctx, f"test {test.id}: {test.status}")

        emit(ctx, test, human)

    command.__doc__ = {
        "start": "Send the test its split of the traffic (a resume: the map serving now is"
                 " the one pause and stop return to).",
        "pause": "Return to the traffic from before the test while paused.",
        "stop": "End the test and return to the traffic from before the test (an interrupted"
                " test is left as it is).",
    }[name]  # fmt: skip
    return command


app.command("start")(_action("start", True))
app.command("pause")(_action("pause", False))
app.command("stop")(_action("stop", True))


@app.command("analyze")
def analyze(ctx: typer.Context, test_id: IdArg) -> None:
    """The analysis alone (the `--json` shape is documented in the README)."""
    engine = state(ctx).engine()
    results = engine.analyze_test_results(test_id)
    emit(ctx, results, lambda: _print(engine.get_ab_test(test_id), results))


@app.command("split")
def split_(
    ctx: typer.Context,
    test_id: IdArg,
    split: Annotated[
        list[str],
        typer.Argument(metavar="SPLIT", help="70,30 (in the test's version order) or v1=70 v2=30"),
    ],
    reason: ReasonOption = "",
    yes: YesOption = False,
) -> None:
    """Change a test's split (must sum to 100)."""
    engine = state(ctx).engine()
    test = engine.get_ab_test(test_id)
    if len(split) == 1 and "=" not in split[0]:
        try:
            values = [float(v) for v in _csv(split[0])]
        except ValueError:
            raise InvalidInput(
                f"invalid split {split[0]!r}: expected percentages like 70,30"
            ) from None
        if len(values) != len(test.model_versions):
            raise InvalidInput(
                f"the split has {len(values)} values for {len(test.model_versions)} versions"
            )
        split = [f"{v}={p}" for v, p in zip(test.model_versions, values, strict=True)]
    weights: dict[str, float] = {}
    for item in split:
        version, sep, pct = item.partition("=")
        try:
            weights[version.strip()] = float(pct) if sep else float("nan")
        except ValueError:
            raise InvalidInput(f"invalid split {item!r}: expected VERSION=PERCENT") from None
        if not sep:
            raise InvalidInput(f"invalid split {item!r}: expected VERSION=PERCENT")
    confirm(f"Change test {test.id} split from {test.traffic_split} to {weights}?", yes=yes)
    test = engine.update_traffic_split(test_id, weights, reason=reason)
    emit(ctx, test, lambda: success(ctx, f"test {test.id} split {test.traffic_split}"))


@app.command("promote")
def promote(
    ctx: typer.Context,
    test_id: IdArg,
    force: Annotated[
        bool, typer.Option("--force", help="Promote the best observed arm without significance.")
    ] = False,
    reason: ReasonOption = "",
    yes: YesOption = False,
) -> None:
    """Send 100% of production to the winner (only when the analysis says so)."""
    engine = state(ctx).engine()
    test = engine.get_ab_test(test_id)
    owner = engine.traffic_owner(test.model_id, environment=test.environment)
    confirm(
        owners.question(
            f"Promote the winner of {test.id}: 100% of {test.model_id} {test.environment}?",
            owner if owner is not None and owner.id != test.id else None,
        ),
        yes=yes,
        type_to_confirm=test.model_id,
    )
    rev = engine.promote_winner(test_id, force=force, reason=reason)
    emit(
        ctx,
        rev,
        lambda: success(ctx, f"{rev.model_id} production revision {rev.revision}: {rev.traffic}"),
    )
