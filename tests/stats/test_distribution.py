"""Reference vs current distributions for the Drift screen, against hand-computed shares."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import InvalidInput
from core.stats.distribution import OTHER, category_shares, numeric_histogram


def test_numeric_bins_share_edges_across_both_sides() -> None:
    ref = np.array([0.0] * 100 + [10.0] * 100)
    cur = np.array([5.0] * 50 + [10.0] * 50)
    edges, r, c = numeric_histogram(ref, cur, bins=4)
    assert edges == [0.0, 2.5, 5.0, 7.5, 10.0]
    assert r == [0.5, 0.0, 0.0, 0.5]
    assert c == [0.0, 0.0, 0.5, 0.5]  # 5.0 sits on an edge: it starts the bin on its right


def test_one_wild_value_does_not_stretch_the_range() -> None:
    ref = np.arange(1000, dtype=float)
    cur = np.arange(1000, dtype=float)
    cur[-1] = 1e9
    edges, r, c = numeric_histogram(ref, cur, bins=10)
    assert edges[0] == pytest.approx(np.quantile(ref, 0.005))
    assert edges[-1] == pytest.approx(np.quantile(ref, 0.995)) and edges[-1] < 1000
    assert sum(r) == pytest.approx(1.0) and sum(c) == pytest.approx(1.0)
    assert c[-1] == pytest.approx(r[-1])  # 1e9 is counted, in the last bin
    # Edges 4.995 … 994.005, width 98.901: the first bin holds 0 … 103 (0 … 4 lie below it).
    assert r[0] == 104 / 1000


def test_missing_sides_and_constants() -> None:
    assert numeric_histogram(np.array([]), np.array([]), 5) == ([], [], [])
    edges, r, c = numeric_histogram(np.array([1.0, 2.0, 3.0, 4.0]), np.array([np.nan, np.inf]), 3)
    assert len(edges) == 4 and c == [] and sum(r) == pytest.approx(1.0)
    assert numeric_histogram(np.array([3.0, 3.0]), np.array([]), 20) == ([2.5, 3.5], [1.0], [])
    with pytest.raises(InvalidInput):
        numeric_histogram(np.array([1.0]), np.array([1.0]), 0)


def test_categories_keep_the_top_and_fold_the_rest() -> None:
    ref = {"a": 0.5, "b": 0.3, OTHER: 0.2}
    cur = {"a": 2, "c": 6, "b": 2}
    cats, r, c = category_shares(ref, cur, top=2)
    assert cats == ["c", "a", OTHER]  # ranked by the larger share: c .6, a .5, b .3
    assert r == pytest.approx([0.0, 0.5, 0.5])
    assert c == pytest.approx([0.6, 0.2, 0.2])
    cats, r, c = category_shares(ref, cur)
    assert cats == ["c", "a", "b", OTHER]
    assert r == pytest.approx([0.0, 0.5, 0.3, 0.2]) and c == pytest.approx([0.6, 0.2, 0.2, 0.0])


def test_categories_without_current_data_or_other() -> None:
    cats, r, c = category_shares({"y": 0.5, "x": 0.5}, {})
    assert cats == ["x", "y"] and r == [0.5, 0.5] and c == []  # ties by name, no OTHER needed
    cats, r, c = category_shares({}, {"1": 3, "0": 1})
    assert cats == ["1", "0"] and r == [] and c == [0.75, 0.25]
    with pytest.raises(InvalidInput):
        category_shares({}, {}, top=0)
