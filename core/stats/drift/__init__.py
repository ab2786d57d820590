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

Modules: `detect` (`detect_drift`), `features` (one feature's verdict), `kernels` (the
statistics), `current` (reading the window), `prediction` (the model's output), `results`
(`FeatureDrift`, `DriftAnalysis` and the thresholds). Import the names from here.
"""

from core.stats.drift.current import reference_shares, string_counts
from core.stats.drift.detect import detect_drift
from core.stats.drift.features import pseudo_sample
from core.stats.drift.kernels import (
    KS_EXACT_MAX_N,
    PSI_EPSILON,
    chi_square,
    jensen_shannon,
    ks_pvalue,
    merge_ks_wasserstein,
    psi,
    two_proportion_z,
)
from core.stats.drift.results import (
    DATASET_SHARE,
    DISTANCE_THRESHOLD,
    FEW_VALUES,
    OTHER,
    P_THRESHOLD,
    PREDICTION,
    SCORE,
    SMALL_REFERENCE,
    DriftAnalysis,
    FeatureDrift,
)

__all__ = [
    "DATASET_SHARE",
    "DISTANCE_THRESHOLD",
    "FEW_VALUES",
    "KS_EXACT_MAX_N",
    "OTHER",
    "PREDICTION",
    "PSI_EPSILON",
    "P_THRESHOLD",
    "SCORE",
    "SMALL_REFERENCE",
    "DriftAnalysis",
    "FeatureDrift",
    "chi_square",
    "detect_drift",
    "jensen_shannon",
    "ks_pvalue",
    "merge_ks_wasserstein",
    "pseudo_sample",
    "psi",
    "reference_shares",
    "string_counts",
    "two_proportion_z",
]
