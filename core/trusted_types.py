"""Types skops may load beyond its defaults: exactly what the estimator catalogue produces.

skops refuses these by default even in ordinary pipelines (measured with
`skops.io.get_untrusted_types` on every catalogue pipeline, fitted); anything else in a file is
refused by name, never "trust everything".
"""

from __future__ import annotations

TRUSTED_TYPES: tuple[str, ...] = (
    "numpy.dtype",
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
)
