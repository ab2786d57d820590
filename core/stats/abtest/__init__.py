"""A/B test statistics: pure functions over per-arm sufficient statistics (n, mean, M2).

Nothing here does I/O; the per-arm statistics come from DuckDB as sums shifted by each group's
own mean (``count(x), sum(x - c), sum((x - c)²)``), merged across groups with Chan et al.'s
pairwise formula. Never from raw ``Σx²``: for values of 100,000 ± 1 the raw-sum variance is
off by 1e-5 to 1e-4 (relative), the centred one matches numpy to ~1e-14. A proportion metric
(accuracy, error rate, conversion) is the same as a mean metric over 0/1 values, so one code
path serves both. Conventions used throughout:

- *control* is the baseline arm, *treatment* the challenger; the absolute lift is
  ``mean_t - mean_c`` and the relative lift is ``mean_t / mean_c - 1``. Larger is "better" in
  the Bayesian summaries; for a lower-is-better metric (latency, error rate) read
  ``chance_to_beat`` as the chance that the treatment is *higher*, i.e. worse.
- variances are sample variances (ddof=1): ``s² = M2 / (n - 1)``, ``M2 = Σ(x - x̄)²``.
- every test is two-sided; ``alpha`` is the total error rate (0.05 → 95% intervals).

One module per method, each with its formulas and sources in its docstring: ``ttest``
(``welch``), ``confidence_sequence`` (``sequential``), ``posterior`` (``bayesian``),
``sample_ratio`` (``srm``), ``multiple_comparisons`` (``holm``, ``benjamini_hochberg``),
``power`` (``sample_size``) and ``cuped``; ``arms`` holds the per-arm statistics they all take,
``comparison`` the frequentist result, ``inputs`` the defaults and checks. Import the names from
here (the modules are not named after the functions, so no function hides its module).
"""

from core.stats.abtest.arms import ArmStats
from core.stats.abtest.comparison import Comparison
from core.stats.abtest.confidence_sequence import sequential, sequential_rho
from core.stats.abtest.cuped import PairStats, cuped_adjust, cuped_arms, cuped_stats, cuped_theta
from core.stats.abtest.inputs import DEFAULT_ALPHA, DEFAULT_TUNING, SRM_THRESHOLD
from core.stats.abtest.multiple_comparisons import benjamini_hochberg, holm
from core.stats.abtest.posterior import BayesResult, bayesian
from core.stats.abtest.power import progress, sample_size
from core.stats.abtest.sample_ratio import SrmResult, srm, srm_periods
from core.stats.abtest.ttest import welch

__all__ = [
    "DEFAULT_ALPHA",
    "DEFAULT_TUNING",
    "SRM_THRESHOLD",
    "ArmStats",
    "BayesResult",
    "Comparison",
    "PairStats",
    "SrmResult",
    "bayesian",
    "benjamini_hochberg",
    "cuped_adjust",
    "cuped_arms",
    "cuped_stats",
    "cuped_theta",
    "holm",
    "progress",
    "sample_size",
    "sequential",
    "sequential_rho",
    "srm",
    "srm_periods",
    "welch",
]
