from __future__ import annotations

import pytest

from core.domain import ComparisonOperator
from core.errors import InvalidInput
from core.rollout.guardrails import (
    METRICS,
    AnalysisResult,
    Decision,
    Guardrail,
    Measurement,
    Verdict,
    analyse,
    decide,
    measure,
    parse_guardrail,
)

# --- parsing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "metric", "op", "threshold", "canonical"),
    [
        ("error_rate<0.02", "error_rate", ComparisonOperator.LT, 0.02, "error_rate<0.02"),
        ("latency_p99_ms < 50", "latency_p99_ms", ComparisonOperator.LT, 50.0, "latency_p99_ms<50"),
        ("accuracy>=0.85", "accuracy", ComparisonOperator.GE, 0.85, "accuracy>=0.85"),
        ("  f1 >  0.7 ", "f1", ComparisonOperator.GT, 0.7, "f1>0.7"),
        ("mae<=1.5e2", "mae", ComparisonOperator.LE, 150.0, "mae<=150"),
        ("requests == 10", "requests", ComparisonOperator.EQ, 10.0, "requests==10"),
        (
            "prediction_mean!=-0.5",
            "prediction_mean",
            ComparisonOperator.NE,
            -0.5,
            "prediction_mean!=-0.5",
        ),
    ],
)
def test_parse_each_operator(text, metric, op, threshold, canonical):
    g = parse_guardrail(text)
    assert g == Guardrail(metric, op, threshold, canonical)
    assert parse_guardrail(g.text) == g  # the canonical form round-trips


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "guardrail is empty"),
        ("   ", "guardrail is empty"),
        ("<0.02", "expected METRIC OP NUMBER"),
        ("errors<0.02", "unknown metric 'errors': expected one of error_rate, latency_p50_ms"),
        ("error_rate 0.02", "no operator"),
        ("error_rate=0.02", "no operator"),
        ("error_rate=>0.02", "no operator"),
        ("error_rate<", "threshold '' is not a finite number"),
        ("error_rate<abc", "threshold 'abc' is not a finite number"),
        ("error_rate<0.0.2", "threshold '0.0.2' is not a finite number"),
        ("error_rate<nan", "threshold 'nan' is not a finite number"),
        ("error_rate<inf", "threshold 'inf' is not a finite number"),
        ("error_rate<<0.02", "threshold '<0.02' is not a finite number"),
    ],
)
def test_parse_errors_name_the_problem(text, problem):
    with pytest.raises(InvalidInput, match=problem):
        parse_guardrail(text)


def test_unknown_metric_message_lists_every_metric():
    with pytest.raises(InvalidInput) as info:
        parse_guardrail("nope>1")
    assert all(m in info.value.message for m in METRICS)
    assert "\n" not in info.value.message


# --- measure --------------------------------------------------------------------------------

ERR = parse_guardrail("error_rate<0.02")
ACC = parse_guardrail("accuracy>=0.85")
P99 = parse_guardrail("latency_p99_ms<50")


def test_measure_failed():
    m = measure(ERR, 0.031, 412, 100)
    assert m == Measurement(
        "error_rate<0.02",
        0.031,
        412,
        Verdict.FAILED,
        "error_rate 0.031 breaks < 0.02 (412 requests)",
    )


def test_measure_successful():
    m = measure(ACC, 0.9, 300, 100)
    assert m.verdict is Verdict.SUCCESSFUL
    assert m.reason == "accuracy 0.9 holds >= 0.85 (300 labelled events)"


def test_measure_message_never_contradicts_the_verdict():
    m = measure(ERR, 0.0200001, 500, 100)
    assert m.verdict is Verdict.FAILED
    assert m.reason.startswith("error_rate 0.0200001 breaks")


def test_measure_too_few_samples_and_boundary():
    few = measure(ACC, 0.99, 12, 100)
    assert few.verdict is Verdict.INCONCLUSIVE
    assert few.reason == "only 12 labelled events, need 100"
    assert measure(ACC, 0.99, 99, 100).verdict is Verdict.INCONCLUSIVE
    assert measure(ACC, 0.99, 100, 100).verdict is Verdict.SUCCESSFUL  # == min is enough
    assert measure(ACC, 0.5, 100, 100).verdict is Verdict.FAILED
    assert measure(P99, 10.0, 0, 0).verdict is Verdict.SUCCESSFUL


@pytest.mark.parametrize("value", [None, float("nan")])
def test_measure_no_value_is_inconclusive(value):
    m = measure(ACC, value, 500, 100)
    assert m.verdict is Verdict.INCONCLUSIVE
    assert m.value is None
    assert m.reason == "no accuracy value yet (500 labelled events)"


def test_measure_rejects_negative_counts():
    with pytest.raises(InvalidInput, match="samples must be a non-negative integer"):
        measure(ERR, 0.01, -1, 10)
    with pytest.raises(InvalidInput, match="min_samples must be a non-negative integer"):
        measure(ERR, 0.01, 10, -1)


# --- analyse --------------------------------------------------------------------------------


def test_analyse_all_hold_is_successful():
    r = analyse([ERR, P99], {"error_rate": (0.01, 500), "latency_p99_ms": (30.0, 500)}, 100)
    assert r.verdict is Verdict.SUCCESSFUL
    assert r.failures == 0
    assert [m.guardrail for m in r.measurements] == ["error_rate<0.02", "latency_p99_ms<50"]


def test_analyse_any_failure_wins_over_inconclusive():
    values = {"error_rate": (0.05, 500), "accuracy": (None, 0), "latency_p99_ms": (80.0, 500)}
    r = analyse([ERR, ACC, P99], values, 100)
    assert r.verdict is Verdict.FAILED
    assert r.failures == 2
    assert [m.verdict for m in r.measurements] == [
        Verdict.FAILED,
        Verdict.INCONCLUSIVE,
        Verdict.FAILED,
    ]


def test_analyse_inconclusive_without_failure_and_missing_metric():
    r = analyse([ERR, ACC], {"error_rate": (0.01, 500)}, 100)
    assert r.verdict is Verdict.INCONCLUSIVE
    assert r.failures == 0
    assert r.measurements[1] == Measurement(
        "accuracy>=0.85", None, 0, Verdict.INCONCLUSIVE, "no data for accuracy"
    )


def test_analyse_with_no_guardrails_is_successful():
    assert analyse([], {}, 100) == AnalysisResult([], Verdict.SUCCESSFUL, 0)


# --- decide ---------------------------------------------------------------------------------

OK = analyse([ERR], {"error_rate": (0.01, 500)}, 100)
BAD = analyse([ERR], {"error_rate": (0.031, 412)}, 100)
UNSURE = analyse([ERR, ACC], {"error_rate": (0.01, 500), "accuracy": (0.9, 12)}, 100)


def test_decide_success_promotes_and_keeps_the_tally():
    decision, total, reason = decide(OK, 1, 2)
    assert (decision, total) == (Decision.PROMOTE_STEP, 1)
    assert reason == "the guardrail holds"


def test_decide_inconclusive_pauses_naming_guardrails():
    decision, total, reason = decide(UNSURE, 0, 0)
    assert (decision, total) == (Decision.PAUSE, 0)
    assert "accuracy>=0.85: only 12 labelled events, need 100" in reason
    assert "error_rate" not in reason


def test_decide_failure_limit_zero_aborts_on_first_failure():
    decision, total, reason = decide(BAD, 0, 0)
    assert (decision, total) == (Decision.ABORT, 1)
    assert "error_rate<0.02: error_rate 0.031 breaks < 0.02 (412 requests)" in reason


def test_decide_failure_limit_two_accumulates_across_calls():
    failures = 0
    decisions = []
    for result in (BAD, OK, BAD, BAD):
        decision, failures, _ = decide(result, failures, 2)
        decisions.append(decision)
    assert decisions == [Decision.RETRY, Decision.PROMOTE_STEP, Decision.RETRY, Decision.ABORT]
    assert failures == 3


def test_decide_counts_every_failed_measurement():
    two_bad = analyse([ERR, P99], {"error_rate": (0.5, 500), "latency_p99_ms": (90.0, 500)}, 10)
    assert decide(two_bad, 0, 1)[:2] == (Decision.ABORT, 2)
    assert decide(two_bad, 0, 2)[:2] == (Decision.RETRY, 2)


def test_decide_rejects_negative_counts():
    with pytest.raises(InvalidInput, match="failure_limit"):
        decide(OK, 0, -1)
    with pytest.raises(InvalidInput, match="failures_so_far"):
        decide(OK, -1, 0)


def test_measure_message_shows_enough_digits_for_inclusive_operators():
    m = measure(parse_guardrail("error_rate<=0.02"), 0.0200001, 500, 100)
    assert m.verdict is Verdict.FAILED
    assert m.reason == "error_rate 0.0200001 breaks <= 0.02 (500 requests)"
    assert measure(ERR, 0.02, 500, 100).reason == "error_rate 0.02 breaks < 0.02 (500 requests)"


@pytest.mark.parametrize("text", ["error_rate<1_000", "error_rate<1e999", "error_rate<0x10"])
def test_parse_accepts_only_plain_finite_decimals(text):
    with pytest.raises(InvalidInput, match="is not a finite number"):
        parse_guardrail(text)


def test_parse_accepts_leading_dot_and_sign():
    assert parse_guardrail("prediction_mean > -.5").threshold == -0.5
    assert parse_guardrail("mae < +3.").text == "mae<3"


def test_measure_nan_with_too_few_samples_stores_none():
    m = measure(ACC, float("nan"), 3, 100)
    assert (m.value, m.verdict) == (None, Verdict.INCONCLUSIVE)
