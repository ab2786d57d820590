"""Data drift of current traffic against a version's stored training reference.

The reference is what `core.training.profile` stored with the version: the profile (counts,
std, histogram edges and counts, category shares) and, per numeric feature, a sorted sample of
at most 5,000 values (`reference_sample`). The training set is never re-read.

The method per feature is Evidently's default choice, `_get_default_stattest` in
`evidently/legacy/calculations/stattests/registry.py` (Evidently 0.7), as its column drift
(`get_one_column_drift`) calls it: after dropping nulls, NaN and +-inf from both sides, with
n = the feature's non-missing reference values (the profile's `count`, over the whole training
set) and k = the distinct values of reference and current together:

- n <= 1,000: numeric with k > 5 -> two-sample Kolmogorov–Smirnov (two-sided; the p-value is
  scipy's `ks_2samp` with `method="auto"`: exact when both samples have <= 10,000 values, else
  asymptotic); categorical, binary, or numeric with k <= 5 -> chi-square goodness of fit of the
  current counts against the reference shares when k > 2, else the two-proportion z-test.
  Drift when p < 0.05.
- n > 1,000: numeric with k > 5 -> Wasserstein distance divided by the standard deviation
  (ddof=0, floored at 0.001) of the reference values it is measured against
  (`_wasserstein_distance_norm`), here the stored sample; the others -> Jensen–Shannon
  *distance* with natural logarithms (`scipy.spatial.distance.jensenshannon`'s default base e,
  as Evidently calls it; its range is [0, sqrt(ln 2)] ~ [0, 0.833]). Drift when the distance
  >= 0.1.

For a numeric feature k comes from the profile's distinct count when that exceeds 5; else from
the stored sample's values with the current ones (the sample holds every value unless the
training set has more than 5,000 rows and a value rarer than ~1 in 5,000).

PSI is always reported, never used for the verdict: numeric features are binned on the
profile's histogram edges (the first and last bins are extended to -inf/+inf, so values outside
the training range count in the end bins); categorical ones use category shares. Empty bins get
a share of 1e-4 (Evidently's choice). Numeric features with k <= 5 use shares.

KS and Wasserstein come from one merge of the sorted reference sample with the sorted current
values (`np.searchsorted` of the current values into the <= 5,000-value reference); they equal
scipy's `ks_2samp` / `wasserstein_distance` on the same arrays. For large references (> 5,000
rows) the Wasserstein distance and its norm are therefore the sample's, not the full set's.

Current numeric values that are null, NaN or +-inf are skipped and counted (as the profile does);
each feature reports that count and its share of the window's rows. Current categories are
compared as strings (polars' cast); categories absent from the reference fall into "__other__"
when the reference has one (it caps categories at 50), else they are new categories with
reference share 0 (chi-square then reports p = 0). Binary values are compared as "0"/"1"
whichever way they were spelled ("true"/"false", "1.0"/"0.0", "1"/"0").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from scipy import special

from core.errors import InvalidInput

P_THRESHOLD = 0.05
DISTANCE_THRESHOLD = 0.1
DATASET_SHARE = 0.5
"""The dataset drifts when at least this share of its features do."""
SMALL_REFERENCE = 1000
FEW_VALUES = 5
PSI_EPSILON = 1e-4
KS_EXACT_MAX_N = 10_000  # scipy's MAX_AUTO_N: "auto" is exact when max(n1, n2) <= this
OTHER = "__other__"
PREDICTION = "__prediction__"
SCORE = "__score__"

_TRUE = {"true", "1", "1.0"}
_FALSE = {"false", "0", "0.0"}


@dataclass(frozen=True)
class FeatureDrift:
    feature: str
    kind: str  # "numeric" | "categorical" | "binary"
    method: str  # "ks" | "chi2" | "z" | "wasserstein" | "jensen_shannon"
    statistic: float  # the test statistic or the distance
    p_value: float | None  # for tests; None for distances
    threshold: float  # 0.05 for p-values, 0.1 for distances
    drifted: bool
    psi: float | None
    reference_size: int  # non-missing reference values (the profile's count)
    current_size: int  # non-missing current values
    current_missing: int = 0  # current nulls (and NaN/inf for numeric) skipped
    missing_share: float = 0.0  # current_missing / the window's rows
    unseen_categories: int | None = None
    """Categorical and binary: distinct current categories the reference never had. None for
    numeric features, and when the reference folded its tail into "__other__" and a current
    category is not among the ones it named (seen in that tail or not: the profile cannot say)."""


@dataclass(frozen=True)
class DriftAnalysis:
    features: list[FeatureDrift]
    drift_share: float
    dataset_drift: bool
    prediction: FeatureDrift | None
    status: str  # "ok" | "insufficient_data"
    current_size: int
    reason: str


# --------------------------------------------------------------------------- numeric kernels


def merge_ks_wasserstein(ref: np.ndarray, cur: np.ndarray) -> tuple[float, float]:
    """(KS statistic, Wasserstein-1 distance) of two sorted, finite, non-empty arrays.

    One merge: each current value's rank in the reference gives its position in the merged
    order; the cumulative reference count along that order is both ECDFs at once.
    """
    n1, n2 = len(ref), len(cur)
    n = n1 + n2
    # Reference values tied with a current value go first (side="right"): order within ties
    # does not matter for either statistic, as explained below.
    pos_cur = np.searchsorted(ref, cur, side="right") + np.arange(n2)
    is_ref = np.ones(n, dtype=np.int64)
    is_ref[pos_cur] = 0
    merged = np.empty(n, dtype=np.float64)
    merged[pos_cur] = cur
    merged[is_ref.astype(bool)] = ref
    ref_seen = np.cumsum(is_ref)
    cur_seen = np.arange(1, n + 1) - ref_seen
    diff = ref_seen / n1 - cur_seen / n2
    # ECDFs are right-continuous: only the last element of a run of equal values is a point
    # where both are evaluated (scipy searches with side="right").
    ends = np.empty(n, dtype=bool)
    np.not_equal(merged[1:], merged[:-1], out=ends[:-1])
    ends[-1] = True
    d = float(np.max(np.abs(diff[ends])))
    # Between ties the gap is 0, so partial counts inside a run of ties weigh nothing.
    w = float(np.sum(np.abs(diff[:-1]) * np.diff(merged)))
    return d, w


def ks_pvalue(d: float, n1: int, n2: int) -> tuple[float, float]:
    """(statistic, p-value) as scipy's two-sided `ks_2samp(method="auto")` reports them.

    In the exact regime scipy rounds the statistic to the lattice of the two ECDFs (h / lcm).
    """
    if max(n1, n2) <= KS_EXACT_MAX_N:
        try:
            from scipy.stats._stats_py import _attempt_exact_2kssamp
        except ImportError:  # pragma: no cover - a future scipy moved it: use the asymptotic
            pass
        else:
            ok, d_exact, prob = _attempt_exact_2kssamp(n1, n2, math.gcd(n1, n2), d, "two-sided")
            if ok:
                return float(d_exact), float(min(max(prob, 0.0), 1.0))
    from scipy.stats import kstwo

    m, n = sorted([float(n1), float(n2)], reverse=True)
    en = m * n / (m + n)
    return d, float(min(max(kstwo.sf(d, np.round(en)), 0.0), 1.0))


def psi(ref_shares: np.ndarray, cur_shares: np.ndarray, eps: float = PSI_EPSILON) -> float:
    """Population stability index; zero shares are replaced by `eps`."""
    p = np.where(ref_shares > 0, ref_shares, eps)
    q = np.where(cur_shares > 0, cur_shares, eps)
    return float(np.sum((q - p) * np.log(q / p)))


def _binned_counts(cur: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts of sorted `cur` in the profile's bins, the end bins open to +-inf."""
    if len(edges) < 2:
        return np.array([len(cur)])
    inner = np.searchsorted(cur, edges[1:-1], side="left")
    return np.diff(np.concatenate(([0], inner, [len(cur)])))


# ----------------------------------------------------------------------- categorical kernels


def jensen_shannon(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen–Shannon distance with natural logs (scipy's `jensenshannon` default)."""
    p = p / p.sum()
    q = q / q.sum()
    m = (p + q) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        left = np.where(p > 0, p * np.log(p / m), 0.0)
        right = np.where(q > 0, q * np.log(q / m), 0.0)
    return float(math.sqrt(max(float(np.sum(left) + np.sum(right)) / 2.0, 0.0)))


def chi_square(observed: np.ndarray, ref_shares: np.ndarray) -> tuple[float, float]:
    """Goodness of fit of current counts against reference shares (`scipy.stats.chisquare`
    with expected = share x current total). A count where the reference has none -> inf, p 0."""
    expected = ref_shares / ref_shares.sum() * observed.sum()
    if np.any((expected == 0) & (observed > 0)):
        return math.inf, 0.0
    keep = expected > 0
    stat = float(np.sum((observed[keep] - expected[keep]) ** 2 / expected[keep]))
    dof = int(np.count_nonzero(keep)) - 1
    if dof < 1:
        return 0.0, 1.0
    return stat, float(special.chdtrc(dof, stat))


def two_proportion_z(p1: float, n1: int, p2: float, n2: int) -> tuple[float, float]:
    """Evidently's two-proportion z-test (pooled variance), two-sided."""
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    var = pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2)
    if var <= 0:
        return 0.0, 1.0
    z = (p1 - p2) / math.sqrt(var)
    return float(z), float(2 * special.ndtr(-abs(z)))


# ----------------------------------------------------------------------- per-feature results


def _missing_share(missing: int, present: int) -> float:
    rows = missing + present
    return missing / rows if rows else 0.0


def _categorical_drift(
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


def _numeric_drift(
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
        return _categorical_drift(
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
    hist = fp.get("histogram") or {}
    edges = np.asarray(hist.get("edges") or [], dtype=float)
    ref_counts = np.asarray(hist.get("counts") or [], dtype=float)
    score = None
    if len(ref_counts) and ref_counts.sum() > 0:
        cur_counts = _binned_counts(cur, edges)
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


def _pseudo_sample(fp: Mapping[str, Any], max_values: int = 5000) -> np.ndarray:
    """A sorted stand-in for a missing reference sample, spread evenly inside each histogram bin
    (exact ECDF at the edges). Used for prediction drift, whose profile stores no sample."""
    hist = fp.get("histogram") or {}
    edges = np.asarray(hist.get("edges") or [], dtype=float)
    counts = np.asarray(hist.get("counts") or [], dtype=float)
    if len(counts) == 0 or counts.sum() <= 0:
        return np.empty(0)
    total = counts.sum()
    scaled = np.round(counts * min(total, max_values) / total).astype(int)
    parts = []
    for i, c in enumerate(scaled):
        if c > 0:
            last = i == len(scaled) - 1
            parts.append(np.linspace(edges[i], edges[i + 1], c, endpoint=last))
    return np.sort(np.concatenate(parts)) if parts else np.empty(0)


# ------------------------------------------------------------------------------ current data


def _canon_binary(key: Any) -> Any:
    k = str(key).strip().lower()
    return "1" if k in _TRUE else "0" if k in _FALSE else str(key)


def _ref_shares(fp: Mapping[str, Any], kind: str) -> dict[Any, float]:
    freqs = fp.get("frequencies") or {}
    if kind != "binary":
        return {str(k): float(v) for k, v in freqs.items()}
    out: dict[Any, float] = {}
    for k, v in freqs.items():
        c = k if k == OTHER else _canon_binary(k)
        out[c] = out.get(c, 0.0) + float(v)
    return out


def _as_strings(series: pl.Series) -> pl.Series:
    if series.dtype.is_float():
        series = series.fill_nan(None)
    return series.cast(pl.String)


def _string_counts(series: pl.Series, kind: str) -> tuple[dict[Any, int], int]:
    s = _as_strings(series)
    missing = s.null_count()
    vc = s.drop_nulls().rename("v").value_counts(name="n")
    counts: dict[Any, int] = {}
    for k, c in zip(vc["v"].to_list(), vc["n"].to_list(), strict=True):
        key = _canon_binary(k) if kind == "binary" else k
        counts[key] = counts.get(key, 0) + int(c)
    return counts, missing


def _sorted_numeric(current: pl.DataFrame, names: list[str]) -> dict[str, tuple[np.ndarray, int]]:
    """Per column: finite values sorted ascending, and how many were missing. One polars pass
    sorts all columns in parallel; non-finite values become nulls and sort last."""
    if not names:
        return {}
    exprs = []
    for name in names:
        col = pl.col(name).cast(pl.Float64)
        exprs.append(pl.when(col.is_finite()).then(col).sort(nulls_last=True).alias(name))
    frame = current.select(exprs)
    out = {}
    for name in names:
        s = frame[name]
        missing = s.null_count()
        out[name] = (s.head(len(s) - missing).to_numpy(), missing)
    return out


def _check_columns(current: pl.DataFrame, features: Mapping[str, Any]) -> None:
    absent = [name for name in features if name not in current.columns]
    if absent:
        raise InvalidInput(f"current data has no column for features: {', '.join(absent)}")
    for name, fp in features.items():
        dtype = current.schema[name]
        numeric_ok = dtype.is_numeric() or dtype in (pl.Boolean, pl.Null)
        if fp.get("type") == "numeric" and not numeric_ok:
            raise InvalidInput(f"feature {name!r} is numeric but its column is {dtype}")


# -------------------------------------------------------------------------------- prediction


def _prediction_drift(
    pp: Mapping[str, Any] | None, current_predictions: Mapping[str, Any] | None
) -> FeatureDrift | None:
    if not pp or not current_predictions:
        return None
    labels = current_predictions.get("prediction", current_predictions.get("predictions"))
    scores = current_predictions.get("score", current_predictions.get("scores"))
    if pp.get("type") == "numeric":  # regression: the predicted value
        return _numeric_prediction(PREDICTION, pp, labels)
    if pp.get("type") != "classification":
        raise InvalidInput(f"unknown prediction profile type {pp.get('type')!r}")
    if pp.get("score") and scores is not None:
        sc = np.asarray(scores, dtype=float)
        if sc.ndim == 2 and sc.shape[1] == 2:
            sc = sc[:, 1]
        return _numeric_prediction(SCORE, pp["score"], sc)
    classes = pp.get("classes")
    if classes and labels is not None:
        arr = np.asarray(labels)
        if arr.ndim != 1:
            raise InvalidInput(f"predicted labels must be one-dimensional, got {arr.shape}")
        counts, missing = _string_counts(pl.Series("p", arr), "categorical")
        return _categorical_drift(
            PREDICTION,
            "categorical",
            _ref_shares(classes, "categorical"),
            int(classes["count"]),
            counts,
            missing,
        )
    return None


def _numeric_prediction(name: str, fp: Mapping[str, Any], values: Any) -> FeatureDrift | None:
    if values is None:
        return None
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1:
        raise InvalidInput(f"{name} values must be one-dimensional, got shape {arr.shape}")
    finite = np.sort(arr[np.isfinite(arr)])
    ref = _pseudo_sample(fp)
    if len(finite) == 0 or len(ref) == 0:
        return None
    return _numeric_drift(name, fp, ref, finite, len(arr) - len(finite))


# ---------------------------------------------------------------------------------- entry


def detect_drift(
    profile: Mapping[str, Any],
    samples: Mapping[str, list[float]],
    current: pl.DataFrame,
    *,
    current_predictions: Mapping[str, Any] | None = None,
    min_current: int = 100,
    share_threshold: float = DATASET_SHARE,
) -> DriftAnalysis:
    """Drift of `current` (a frame holding the profile's feature columns) against the stored
    reference `profile` + `samples` (see the module docstring for the methods).

    `current_predictions` may hold "prediction" (regression values or predicted class labels)
    and/or "score" (the positive-class score, or a binary predict_proba matrix); prediction
    drift uses the score when both the profile and the caller have one, else the labels. Its
    reference is the profile's histogram (no sample is stored for predictions), so its KS /
    Wasserstein are computed against values spread evenly within the histogram bins.

    Features of type "datetime", and features with no values on either side, are left out.
    """
    if not isinstance(current, pl.DataFrame):
        raise InvalidInput(f"current data must be a polars DataFrame, got {type(current)}")
    if not isinstance(profile, Mapping) or not isinstance(profile.get("features"), Mapping):
        raise InvalidInput("profile must be a mapping with 'rows' and 'features'")
    if min_current < 1 or not 0.0 < share_threshold <= 1.0:
        raise InvalidInput("min_current must be >= 1 and share_threshold in (0, 1]")
    features = {
        name: fp
        for name, fp in profile["features"].items()
        if fp.get("type") in ("numeric", "categorical", "binary")
    }
    _check_columns(current, features)
    unknown = set(current_predictions or {}) - {"prediction", "predictions", "score", "scores"}
    if unknown:
        raise InvalidInput(
            f"current_predictions keys must be 'prediction' and/or 'score', got {sorted(unknown)}"
        )
    n = current.height
    if n < min_current:
        return DriftAnalysis(
            features=[],
            drift_share=0.0,
            dataset_drift=False,
            prediction=None,
            status="insufficient_data",
            current_size=n,
            reason=f"only {n} current rows; drift needs at least {min_current}",
        )

    numeric = [name for name, fp in features.items() if fp["type"] == "numeric"]
    sorted_cur = _sorted_numeric(current, numeric)
    results: list[FeatureDrift] = []
    skipped: list[str] = []
    for name, fp in features.items():
        kind = fp["type"]
        if int(fp.get("count") or 0) == 0:
            skipped.append(name)
            continue
        if kind == "numeric":
            cur, missing = sorted_cur[name]
            stored = samples.get(name)
            ref = _pseudo_sample(fp) if stored is None else np.asarray(stored, dtype=float)
            if len(cur) == 0 or len(ref) == 0:
                skipped.append(name)
                continue
            results.append(_numeric_drift(name, fp, ref, cur, missing))
        else:
            counts, missing = _string_counts(current[name], kind)
            if not counts:
                skipped.append(name)
                continue
            results.append(
                _categorical_drift(
                    name, kind, _ref_shares(fp, kind), int(fp["count"]), counts, missing
                )
            )
    prediction = _prediction_drift(profile.get("predictions"), current_predictions)
    drifted = [r.feature for r in results if r.drifted]
    share = len(drifted) / len(results) if results else 0.0
    dataset = bool(results) and share >= share_threshold
    reason = (
        f"{len(drifted)} of {len(results)} features drifted ({share:.0%}"
        f"{', dataset drift' if dataset else ''})"
        + (f": {', '.join(drifted)}" if drifted else "")
        + (f"; prediction drift ({prediction.method})" if prediction and prediction.drifted else "")
        + (f"; skipped (no values): {', '.join(skipped)}" if skipped else "")
    )
    return DriftAnalysis(
        features=results,
        drift_share=share,
        dataset_drift=dataset,
        prediction=prediction,
        status="ok",
        current_size=n,
        reason=reason,
    )
