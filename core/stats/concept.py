"""Concept drift: change detectors over a stream (e.g. the 0/1 error stream of labelled events).

Both detectors are ports of river 0.26's, with its defaults, its arithmetic (operations in the
same order, so the floating-point results are the same) and its habit of **restarting after a
detection**: the element after a detection starts an empty detector, so an abrupt change is
reported once, not again at every check while the window sheds the old regime; and
`change_points` gives river's detection indices on the same stream
(`tests/stats/test_concept.py` runs river beside them).

- `ADWIN`: adaptive windowing (Bifet & Gavaldà 2007, ADWIN2 with an exponential histogram of
  buckets), river's `drift.ADWIN` over its Rust `AdaptiveWindowing` (`rust_src/adwin.rs`):
  variance merging after Babcock et al., cuts checked every `clock` elements once the window
  holds more than `grace_period`, every boundary between buckets but the newest one a candidate
  cut, the bound with `min_window_length` corrections. A significant cut drops the oldest
  bucket, and the scan repeats until no cut is significant; that element is the detection.
- `PageHinkley`: river's `drift.PageHinkley` (mode "both": increases and decreases of the mean).

`change_points` runs one detector over a sequence and returns the indices flagged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from core.errors import InvalidInput


class ADWIN:
    """ADWIN2 as river 0.26 runs it. `update(x)` returns True when a change is detected at this
    element; the next `update` then starts from an empty window (river resets the detector).

    `width`, `total`, `variance` (the sum of squared deviations from the window mean) and
    `estimation` describe the current window. `n_detections` counts every detection since the
    detector was made (river's counter lives in the state it resets, so it never exceeds 1).
    """

    def __init__(
        self,
        delta: float = 0.002,
        clock: int = 32,
        max_buckets: int = 5,
        min_window_length: int = 5,
        grace_period: int = 10,
    ) -> None:
        if not 0.0 < delta < 1.0:
            raise InvalidInput(f"ADWIN delta must be in (0, 1), got {delta}")
        if clock < 1 or max_buckets < 1 or min_window_length < 1 or grace_period < 0:
            raise InvalidInput(
                "ADWIN clock, max_buckets and min_window_length must be >= 1, grace_period >= 0"
            )
        self.delta = float(delta)
        self.clock = int(clock)
        self.max_buckets = int(max_buckets)
        self.min_window_length = float(min_window_length)
        self.grace_period = float(grace_period)
        self.n_detections = 0
        self.drift_detected = False
        self._reset()

    def _reset(self) -> None:
        # Level i holds buckets of 2**i elements, oldest first: their totals and variances.
        self._totals: list[list[float]] = [[]]
        self._variances: list[list[float]] = [[]]
        self.width = 0.0
        self.total = 0.0
        self.variance = 0.0
        self._tick = 0

    @property
    def estimation(self) -> float:
        """Mean of the current window."""
        return self.total / self.width if self.width else 0.0

    def update(self, x: float) -> bool:
        value = float(x)
        if not math.isfinite(value):
            raise InvalidInput(f"ADWIN values must be finite, got {x!r}")
        if self.drift_detected:
            self._reset()
        self._insert(value)
        self.drift_detected = self._detect()
        if self.drift_detected:
            self.n_detections += 1
        return self.drift_detected

    def _insert(self, value: float) -> None:
        self._totals[0].append(value)
        self._variances[0].append(0.0)
        self.width += 1.0
        if self.width > 1.0:
            d = value - self.total / (self.width - 1.0)
            self.variance += (self.width - 1.0) * d * d / self.width
        self.total += value
        self._compress()

    def _compress(self) -> None:
        totals, variances, full = self._totals, self._variances, self.max_buckets + 1
        i = 0
        while len(totals[i]) == full:
            size = float(1 << i)
            t0, t1 = totals[i][0], totals[i][1]
            mu1, mu2 = t0 / size, t1 / size
            merged_variance = (
                variances[i][0] + variances[i][1] + size * 0.5 * (mu1 - mu2) * (mu1 - mu2)
            )
            if i + 1 == len(totals):
                totals.append([])
                variances.append([])
            totals[i + 1].append(t0 + t1)
            variances[i + 1].append(merged_variance)
            del totals[i][:2], variances[i][:2]
            i += 1

    def _drop_oldest(self) -> None:
        last = len(self._totals) - 1
        size = float(1 << last)
        total, variance = self._totals[last][0], self._variances[last][0]
        mu = total / size
        self.width -= size
        self.total -= total
        mu_window = self.total / self.width
        self.variance -= variance + size * self.width * (mu - mu_window) * (mu - mu_window) / (
            size + self.width
        )
        del self._totals[last][0], self._variances[last][0]
        if not self._totals[last]:
            self._totals.pop()
            self._variances.pop()

    def _cut_is_significant(self, n0: float, n1: float, delta_mean: float) -> bool:
        delta_prime = math.log(2.0 * math.log(self.width) / self.delta)
        m_recip = 1.0 / (n0 - self.min_window_length + 1.0) + 1.0 / (
            n1 - self.min_window_length + 1.0
        )
        under_root = 2.0 * m_recip * (self.variance / self.width) * delta_prime
        if under_root < 0.0:  # rounding made the variance negative: river's sqrt gives NaN
            return False
        epsilon = math.sqrt(under_root) + 2.0 / 3.0 * delta_prime * m_recip
        return abs(delta_mean) > epsilon

    def _cut_found(self) -> bool:
        """Scan every cut, oldest buckets first; drop the oldest bucket at the first
        significant one. W1 always keeps the newest bucket."""
        n0, n1, u0, u1 = 0.0, self.width, 0.0, self.total
        least = self.min_window_length
        for i in range(len(self._totals) - 1, -1, -1):
            size = float(1 << i)
            row = self._totals[i]
            newest = len(row) - 1 if i == 0 else -1
            for k, total in enumerate(row):
                n0 += size
                n1 -= size
                u0 += total
                u1 -= total
                if k == newest:
                    return False
                if (
                    n1 >= least
                    and n0 >= least
                    and self._cut_is_significant(n0, n1, u0 / n0 - u1 / n1)
                ):
                    self._drop_oldest()
                    return True
        return False

    def _detect(self) -> bool:
        self._tick += 1
        if self._tick % self.clock != 0 or not self.width > self.grace_period:
            return False
        detected = False
        while self._cut_found():
            detected = True
        return detected


class PageHinkley:
    """Page–Hinkley test as river 0.26 runs it; `update(x)` is True when a change is detected.

    The running mean includes x; the cumulative deviations are forgotten by `alpha` each step;
    a change is signalled once at least `min_instances` values were seen and a cumulative
    deviation moves more than `threshold` from its extreme. The next `update` starts afresh.
    """

    def __init__(
        self,
        min_instances: int = 30,
        delta: float = 0.005,
        threshold: float = 50.0,
        alpha: float = 1 - 0.0001,
        mode: str = "both",
    ) -> None:
        if mode not in ("up", "down", "both"):
            raise InvalidInput(f"PageHinkley mode must be 'up', 'down' or 'both', got {mode!r}")
        if min_instances < 1 or threshold <= 0 or not 0.0 < alpha <= 1.0:
            raise InvalidInput(
                "PageHinkley needs min_instances >= 1, threshold > 0, alpha in (0, 1]"
            )
        self.min_instances = min_instances
        self.delta = float(delta)
        self.threshold = float(threshold)
        self.alpha = float(alpha)
        self.mode = mode
        self.n_detections = 0
        self._reset()

    def _reset(self) -> None:
        self.drift_detected = False
        self.n = 0.0
        self.mean = 0.0
        self._sum_up = 0.0
        self._min_up = math.inf
        self._sum_down = 0.0
        self._max_down = -1.0  # river's start; the first sum is delta > -1, so it never shows

    def update(self, x: float) -> bool:
        value = float(x)
        if not math.isfinite(value):
            raise InvalidInput(f"PageHinkley values must be finite, got {x!r}")
        if self.drift_detected:
            self._reset()
        # river's stats.Mean and its order of operations.
        self.n += 1.0
        self.mean += (1.0 / self.n) * (value - self.mean)
        dev = value - self.mean
        self._sum_up = self.alpha * self._sum_up + dev - self.delta
        self._sum_down = self.alpha * self._sum_down + dev + self.delta
        self._min_up = min(self._min_up, self._sum_up)
        self._max_down = max(self._max_down, self._sum_down)
        if self.n >= self.min_instances:
            up = self.mode != "down" and self._sum_up - self._min_up > self.threshold
            down = self.mode != "up" and self._max_down - self._sum_down > self.threshold
            self.drift_detected = up or down
        if self.drift_detected:
            self.n_detections += 1
        return self.drift_detected


def change_points(errors: Sequence[float], detector: str = "adwin") -> list[int]:
    """Indices of `errors` at which the detector (river's defaults) signals a change; each
    detection restarts the detector, as river does."""
    if detector == "adwin":
        det: ADWIN | PageHinkley = ADWIN()
    elif detector == "page_hinkley":
        det = PageHinkley()
    else:
        raise InvalidInput(f"detector must be 'adwin' or 'page_hinkley', got {detector!r}")
    return [i for i, x in enumerate(errors) if det.update(x)]
