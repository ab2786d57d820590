"""A class skops does not know, to prove that unknown types are refused by name."""

from __future__ import annotations

from typing import Any


class SneakyEstimator:
    def __init__(self) -> None:
        self.payload = "would run arbitrary code if loaded blindly"

    def predict(self, X: Any) -> list[int]:
        return [0] * len(X)
