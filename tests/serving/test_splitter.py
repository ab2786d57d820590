from __future__ import annotations

import hashlib
import math

import numpy as np
import pytest

from core.errors import InvalidInput
from core.serving.splitter import TrafficSplitter, unit_point
from core.traffic import describe, percent_to_fractions, validate_traffic

N = 100_000
IDS = [f"user-{i}" for i in range(N)]


def within(observed: int, p: float, n: int = N) -> bool:
    """Observed count agrees with share p within four binomial standard errors."""
    return abs(observed / n - p) < 4 * math.sqrt(p * (1 - p) / n) + 1e-12


# --- unit_point -----------------------------------------------------------------------------


def test_unit_point_is_pinned_and_matches_an_independent_computation():
    # A golden value: if this changes, every running A/B test would reshuffle its users.
    assert unit_point("ab-test-1", "user-42") == 0.07672962226808533
    raw = int.from_bytes(hashlib.blake2b(b"ab-test-1\x1fuser-42", digest_size=8).digest(), "big")
    assert unit_point("ab-test-1", "user-42") == pytest.approx(raw / 2**64, abs=2**-52)


def test_unit_points_are_uniform_in_unit_interval():
    points = np.array([unit_point("s", u) for u in IDS[:20_000]])
    assert points.min() >= 0.0 and points.max() < 1.0
    hist, _ = np.histogram(points, bins=10, range=(0, 1))
    assert all(within(int(h), 0.1, 20_000) for h in hist)


def test_salt_with_separator_is_refused():
    with pytest.raises(InvalidInput, match="separator"):
        unit_point("a\x1fb", "c")
    with pytest.raises(InvalidInput, match="unit id"):
        unit_point("s", 42)  # type: ignore[arg-type]


# --- TrafficSplitter ------------------------------------------------------------------------


def test_assignment_is_sticky_within_and_across_splitters():
    first = TrafficSplitter({"v1": 0.9, "v2": 0.1}, salt="exp-1")
    again = first.assign_many(IDS)
    assert again == first.assign_many(IDS)
    fresh = TrafficSplitter({"v2": 0.1, "v1": 0.9}, salt="exp-1")  # key order must not matter
    assert fresh.assign_many(IDS) == again


def test_assign_many_equals_assign():
    splitter = TrafficSplitter({"v1": 0.5, "v2": 0.3, "v3": 0.2}, salt="x")
    assert splitter.assign_many(IDS) == [splitter.assign(u) for u in IDS]
    assert splitter.assign_many([]) == []


def test_canary_growth_only_moves_units_from_stable_to_canary():
    previous: list[str] | None = None
    for pct in (5, 25, 50, 100):
        w = pct / 100
        current = TrafficSplitter({"v1": 1 - w, "v2": w}, salt="rollout-7").assign_many(IDS)
        assert within(current.count("v2"), w) or w == 1.0
        if previous is not None:
            moves = {(a, b) for a, b in zip(previous, current, strict=True) if a != b}
            assert moves == {("v1", "v2")}
        previous = current
    assert previous == ["v2"] * N


def test_canary_sits_on_top_of_the_interval():
    splitter = TrafficSplitter({"v2": 0.95, "v10": 0.05}, salt="s")
    for u in IDS[:2000]:
        expected = "v10" if unit_point("s", u) >= 0.95 else "v2"  # v10 is newer than v2
        assert splitter.assign(u) == expected


def test_shares_match_weights_two_and_three_arms():
    two = TrafficSplitter({"v1": 0.8, "v2": 0.2}, salt="a").assign_many(IDS)
    assert within(two.count("v2"), 0.2)
    weights = {"v1": 0.5, "v2": 0.3, "v3": 0.2}
    three = TrafficSplitter(weights, salt="b").assign_many(IDS)
    for version, p in weights.items():
        assert within(three.count(version), p), version


def test_zero_weight_versions_are_kept_but_never_assigned():
    splitter = TrafficSplitter({"v1": 0.0, "v2": 1.0, "v3": 0.0}, salt="z")
    assert splitter.traffic == {"v1": 0.0, "v2": 1.0, "v3": 0.0}
    assert set(splitter.assign_many(IDS)) == {"v2"}


def test_different_salts_are_nearly_independent():
    a = TrafficSplitter({"v1": 0.5, "v2": 0.5}, salt="test-a").assign_many(IDS)
    b = TrafficSplitter({"v1": 0.5, "v2": 0.5}, salt="test-b").assign_many(IDS)
    agree = sum(x == y for x, y in zip(a, b, strict=True))
    assert within(agree, 0.5)  # independent 50/50 arms agree half the time


def test_traffic_property_is_a_normalised_ordered_copy():
    splitter = TrafficSplitter({"v10": 0.25, "v9": 0.75 + 1e-9}, salt="s")
    traffic = splitter.traffic
    assert list(traffic) == ["v9", "v10"]
    assert math.fsum(traffic.values()) == pytest.approx(1.0, abs=1e-15)
    traffic["v9"] = 0.0
    assert splitter.traffic["v9"] > 0.7
    assert splitter.salt == "s"


def test_bad_unit_id_in_batch_is_invalid_input():
    splitter = TrafficSplitter({"v1": 1.0}, salt="s")
    with pytest.raises(InvalidInput, match="unit id must be a string"):
        splitter.assign_many(["a", 3])  # type: ignore[list-item]


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("traffic", "problem"),
    [
        ({"v1": float("nan"), "v2": 1.0}, "weight for v1 is NaN"),
        ({"v1": float("inf"), "v2": 0.0}, "weight for v1 is infinite"),
        ({"v1": 1.1, "v2": -0.1}, r"weight for v2 is negative \(-0.1\)"),
        ({"v1": 0.5, "v2": 0.4}, "weights sum to 0.9, not 1"),
        ({"v1": 0.0, "v2": 0.0}, "all weights are zero"),
        ({"stable": 1.0}, "bad version key 'stable'"),
        ({"v0": 1.0}, "bad version key 'v0'"),
        ({"v01": 1.0}, "bad version key 'v01'"),
        ({"v1": True}, "weight for v1 must be a number, not bool"),
        ({"v1": "1"}, "weight for v1 must be a number, not str"),
        ({}, "traffic is empty"),
    ],
)
def test_validation_errors_name_the_problem(traffic, problem):
    with pytest.raises(InvalidInput, match=problem):
        validate_traffic(traffic)
    with pytest.raises(InvalidInput, match=problem):
        TrafficSplitter(traffic, salt="s")


def test_validate_tolerance_and_normalisation():
    out = validate_traffic({"v2": 0.3 + 5e-7, "v1": 0.7})
    assert list(out) == ["v1", "v2"]
    assert math.fsum(out.values()) == pytest.approx(1.0, abs=1e-15)
    with pytest.raises(InvalidInput, match="sum to"):
        validate_traffic({"v1": 0.7, "v2": 0.3 + 5e-7}, tolerance=1e-7)


# --- percentages and description ------------------------------------------------------------


def test_percent_to_fractions():
    assert percent_to_fractions({"v2": 5, "v1": 95}) == {"v1": 0.95, "v2": 0.05}
    with pytest.raises(InvalidInput, match="percentages sum to 95, not 100"):
        percent_to_fractions({"v1": 90, "v2": 5})
    with pytest.raises(InvalidInput, match="percentage for v2 is negative"):
        percent_to_fractions({"v1": 105, "v2": -5})
    with pytest.raises(InvalidInput, match="all percentages are zero"):
        percent_to_fractions({"v1": 0})


def test_describe():
    assert describe({"v2": 0.05, "v1": 0.95}) == "v1 95% · v2 5%"
    assert describe({"v1": 2 / 3, "v2": 1 / 3}) == "v1 66.67% · v2 33.33%"
    assert describe({"v1": 0.875, "v2": 0.125}) == "v1 87.5% · v2 12.5%"
    assert describe({"v1": 0.0, "v3": 1.0}) == "v1 0% · v3 100%"
