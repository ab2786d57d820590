"""A version's signature: what its artifact expects and returns, read from the fitted
estimator itself when it is registered, and checked against the model it joins."""

from __future__ import annotations

from typing import Any, cast

from core.domain import FeatureType, Model, Task
from core.errors import InvalidInput
from core.jsonable import to_jsonable


def read_signature(estimator: Any, model: Model) -> dict[str, Any]:
    """What the artifact expects and returns, read from the fitted estimator itself."""
    if not hasattr(estimator, "predict"):
        raise InvalidInput(f"artifact holds a {type(estimator).__name__}, which cannot predict")
    inputs = getattr(estimator, "feature_names_in_", None)
    inputs = [str(c) for c in inputs] if inputs is not None else None
    declared = [f.name for f in model.features]
    if declared and inputs is not None and sorted(inputs) != sorted(declared):
        missing = sorted(set(declared) - set(inputs))
        extra = sorted(set(inputs) - set(declared))
        raise InvalidInput(
            f"artifact's features do not match model {model.id!r}:"
            + (f" missing {', '.join(missing)}" if missing else "")
            + (f" unexpected {', '.join(extra)}" if extra else "")
        )
    classes = getattr(estimator, "classes_", None)
    if model.task is Task.CLASSIFICATION and classes is None:
        raise InvalidInput(
            f"artifact's {type(estimator).__name__} has no classes_: not a classifier"
        )
    return {
        "estimator": type(estimator).__name__,
        "inputs": inputs,
        "feature_types": feature_types(estimator, inputs),
        "n_features": getattr(estimator, "n_features_in_", None),
        "classes": to_jsonable(list(classes)) if classes is not None else None,
        "predict_proba": hasattr(estimator, "predict_proba"),
    }


def feature_types(estimator: Any, inputs: list[str] | None) -> dict[str, str] | None:
    """Column types read off a fitted ColumnTransformer: a column fed to an encoder is
    categorical, any other numeric. None when the estimator does not show its columns."""
    from sklearn.compose import ColumnTransformer  # pyright: ignore[reportMissingTypeStubs]  # scikit-learn ships no stubs
    from sklearn.pipeline import Pipeline  # pyright: ignore[reportMissingTypeStubs]  # scikit-learn ships no stubs

    def steps(pipeline: Pipeline) -> list[tuple[str, object]]:
        return cast("list[tuple[str, object]]", pipeline.steps)  # (name, estimator) pairs

    if inputs is None:
        return None
    first = steps(estimator)[0][1] if isinstance(estimator, Pipeline) else estimator
    if not isinstance(first, ColumnTransformer):
        return None
    types = {name: FeatureType.NUMERIC.value for name in inputs}
    fitted: list[tuple[str, object, object]] = getattr(first, "transformers_", [])
    for _, transformer, columns in fitted:
        chain = steps(transformer) if isinstance(transformer, Pipeline) else [("", transformer)]
        if any("Encoder" in type(step).__name__ for _, step in chain):
            for column in cast("list[object]", columns) if isinstance(columns, list) else []:
                if isinstance(column, str) and column in types:
                    types[column] = FeatureType.CATEGORICAL.value
    return types
