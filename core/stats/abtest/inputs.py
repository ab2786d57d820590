"""Defaults and input checks shared by the A/B statistics: every number a caller passes is
checked here, so a bad one is an ``InvalidInput`` naming it, never a NaN further on."""

from __future__ import annotations

import math

from core.errors import InvalidInput

DEFAULT_ALPHA = 0.05
DEFAULT_TUNING = 5000
SRM_THRESHOLD = 0.001


def finite(value: float, name: str) -> float:
    """``value`` as a finite float, or InvalidInput naming ``name``."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(out):
        raise InvalidInput(f"{name} must be finite, got {value!r}")
    return out


def check_alpha(alpha: float) -> float:
    """``alpha`` (also used for thresholds) as a float in (0, 1)."""
    a = finite(alpha, "alpha")
    if not 0.0 < a < 1.0:
        raise InvalidInput(f"alpha must be in (0, 1), got {alpha!r}")
    return a
