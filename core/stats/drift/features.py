"""One feature's drift verdict: the method Evidently's default would choose for it, run on
the reference and the current values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from core.stats.drift.kernels import (
    binned_counts,
    chi_square,
    jensen_shannon,
    ks_pvalue,
    merge_ks_wasserstein,
    psi,
    two_proportion_z,
)
from core.stats.drift.results import (
    DISTANCE_THRESHOLD,
    FEW_VALUES,
    OTHER,
    P_THRESHOLD,
    SMALL_REFERENCE,
    FeatureDrift,
)


def _missing_share(missing: int, present: int) -> float:
    rows = missing + present
    return missing / rows if rows else 0.0


def categorical_drift(
    name: str,
    kind: str,
    ref_shares: Mapping[Any, float],
    ref_count: int,
    cur_counts: Mapping[Any, int],
    cur_missing: int,
) -> FeatureDrift:
    """Evidently's `_get_default_stattest` for a categorical column (and for a numeric one with
    at most 5 distinct values): `ref_count` <= 1,000 -> `chi_stat_test` when reference and
    current hold more than 2 values together, else `z_stat_test`; larger -> `jensenshannon`."""
    unseen = [k for k in cur_counts if k not in ref_shares]
    cur_counts = dict(cur_counts)
    if OTHER in ref_shares:
        other = sum(v for k, v in cur_counts.items() if k not in ref_shares)
        cur_counts = {k: v for k, v in cur_counts.items() if k in ref_shares}
        if other:
            cur_counts[OTHER] = other
    keys = list(ref_shares) + [k for k in cur_counts if k not in ref_shares]
    p = np.array([ref_shares.get(k, 0.0) for k in keys], dtype=float)
    obs = np.array([cur_counts.get(k, 0) for k in keys], dtype=float)
    n_cur = int(obs.sum())
    q = obs / n_cur
    present = {k for k, s in zip(keys, p, strict=True) if s > 0} | {
        k for k, c in cur_counts.items() if c > 0
    }
    small = ref_count <= SMALL_REFERENCE
    if small and len(present) <= 2:
        method = "z"
        if len(present) < 2:
            stat, p_value = 0.0, 1.0
        else:
            first = sorted(present, key=str)[0]
            i = keys.index(first)
            stat, p_value = two_proportion_z(float(p[i] / p.sum()), ref_count, float(q[i]), n_cur)
    elif small:
        method = "chi2"
        stat, p_value = chi_square(obs, p)
    else:
        method, stat, p_value = "jensen_shannon", jensen_shannon(p, q), None
    threshold = P_THRESHOLD if p_value is not None else DISTANCE_THRESHOLD
    drifted = p_value < threshold if p_value is not None else stat >= threshold
    unknowable = bool(unseen) and OTHER in ref_shares
    return FeatureDrift(
        feature=name,
        kind=kind,
        method=method,
        statistic=stat,
        p_value=p_value,
        threshold=threshold,
        drifted=bool(drifted),
        psi=psi(p / p.sum(), q),
        reference_size=ref_count,
        current_size=n_cur,
        current_missing=cur_missing,
        missing_share=_missing_share(cur_missing, n_cur),
        unseen_categories=None if kind == "numeric" or unknowable else len(unseen),
    )


def _few_value_counts(values: np.ndarray) -> dict[float, int]:
    keys, counts = np.unique(values, return_counts=True)
    return {float(k): int(c) for k, c in zip(keys, counts, strict=True)}


def _distinct_together(fp: Mapping[str, Any], ref_sorted: np.ndarray, cur: np.ndarray) -> int:
    """Distinct values of reference and current together (Evidently's `n_values`), exact while
    it matters: at most `FEW_VALUES` + 1. Both arrays are sorted."""
    ref_distinct = int(fp.get("distinct") or 0)
    if ref_distinct > FEW_VALUES:
        return ref_distinct
    ref_values = ref_sorted[np.r_[True, ref_sorted[1:] != ref_sorted[:-1]]]
    cur_values = cur[np.r_[True, cur[1:] != cur[:-1]]]
    if len(cur_values) > FEW_VALUES:
        return len(cur_values)
    return max(ref_distinct, len(np.union1d(ref_values, cur_values)))


def numeric_drift(
    name: str,
    fp: Mapping[str, Any],
    ref_sorted: np.ndarray,
    cur: np.ndarray,
    cur_missing: int,
) -> FeatureDrift:
    """Evidently's `_get_default_stattest` for a numerical column: more than 5 distinct values
    in reference and current together -> `ks_stat_test` for a reference of <= 1,000 non-missing
    values, else `wasserstein_stat_test` (`_wasserstein_distance_norm`); at most 5 -> as a
    categorical column (chi-square / z-test / Jensen–Shannon on the values' shares)."""
    ref_count = int(fp["count"])
    if _distinct_together(fp, ref_sorted, cur) <= FEW_VALUES:
        shares = {k: c / len(ref_sorted) for k, c in _few_value_counts(ref_sorted).items()}
        return categorical_drift(
            name, "numeric", shares, ref_count, _few_value_counts(cur), cur_missing
        )
    d, w = merge_ks_wasserstein(ref_sorted, cur)
    if ref_count <= SMALL_REFERENCE:
        method = "ks"
        stat, p_value = ks_pvalue(d, len(ref_sorted), len(cur))
        threshold = P_THRESHOLD
        drifted = p_value < threshold
    else:
        method, p_value, threshold = "wasserstein", None, DISTANCE_THRESHOLD
        # Evidently: max(np.std(reference), 0.001), the reference the distance is measured to.
        stat = w / max(float(np.std(ref_sorted)), 0.001)
        drifted = stat >= threshold
    hist: Mapping[str, Any] = fp.get("histogram") or {}
    edges = np.asarray(hist.get("edges") or [], dtype=float)
    ref_counts = np.asarray(hist.get("counts") or [], dtype=float)
    score = None
    if len(ref_counts) and ref_counts.sum() > 0:
        cur_counts = binned_counts(cur, edges)
        score = psi(ref_counts / ref_counts.sum(), cur_counts / len(cur))
    return FeatureDrift(
        feature=name,
        kind="numeric",
        method=method,
        statistic=float(stat),
        p_value=p_value,
        threshold=threshold,
        drifted=bool(drifted),
        psi=score,
        reference_size=ref_count,
        current_size=len(cur),
        current_missing=cur_missing,
        missing_share=_missing_share(cur_missing, len(cur)),
    )


def pseudo_sample(fp: Mapping[str, Any], max_values: int = 5000) -> np.ndarray:
    """A sorted stand-in for a missing reference sample, spread evenly inside each histogram bin
    (exact ECDF at the edges). Used for prediction drift, whose profile stores no sample."""
    hist: Mapping[str, Any] = fp.get("histogram") or {}
    edges = np.asarray(hist.get("edges") or [], dtype=float)
    counts = np.asarray(hist.get("counts") or [], dtype=float)
    if len(counts) == 0 or counts.sum() <= 0:
        return np.empty(0)
    total = float(counts.sum())
    scaled = np.round(counts * min(total, max_values) / total).astype(int)
    parts: list[np.ndarray] = []
    for i, c in enumerate(scaled):
        if c > 0:
            last = i == len(scaled) - 1
            parts.append(np.linspace(float(edges[i]), float(edges[i + 1]), int(c), endpoint=last))
    return np.sort(np.concatenate(parts)) if parts else np.empty(0)
