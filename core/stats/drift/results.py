"""What drift detection returns, per feature and for the dataset, and the thresholds and
sizes that choose each feature's method (see the package docstring)."""

from __future__ import annotations

from dataclasses import dataclass

P_THRESHOLD = 0.05
DISTANCE_THRESHOLD = 0.1
DATASET_SHARE = 0.5
"""The dataset drifts when at least this share of its features do."""
SMALL_REFERENCE = 1000
FEW_VALUES = 5
OTHER = "__other__"
PREDICTION = "__prediction__"
SCORE = "__score__"


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
