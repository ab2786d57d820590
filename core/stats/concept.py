"""Concept drift: change detectors over a stream (e.g. the 0/1 error stream of labelled events).

- `ADWIN`: adaptive windowing (Bifet & Gavaldà 2007, ADWIN2 with an exponential histogram of
  buckets) with river's defaults and river's arithmetic (variance merging after Babcock et al.,
  cuts checked every `clock` elements once the window exceeds `grace_period`, the cut bound
  with `min_window_length` corrections). On a change the oldest bucket is dropped until no cut
  is significant, so several consecutive checks may report the same change.
- `PageHinkley`: river's Page–Hinkley test (mode "both": increases and decreases of the mean),
  reset after each detection.

`change_points` runs one detector over a sequence and returns the indices flagged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from core.errors import InvalidInput


class ADWIN:
    """ADWIN2. `update(x)` returns True when a change is detected at this element."""

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
            raise InvalidInput("ADWIN clock, max_buckets and min_window_length must be >= 1")
        self.delta = delta
        self.clock = clock
        self.max_buckets = max_buckets
        self.min_window_length = min_window_length
        self.grace_period = grace_period
        # rows[i] holds buckets of 2**i elements, oldest first: [total, variance] pairs.
        self._rows: list[list[list[float]]] = [[]]
        self.width = 0.0
        self.total = 0.0
        self.variance = 0.0  # sum of squared deviations from the window mean
        self.n_detections = 0
        self._tick = 0

    @property
    def estimation(self) -> float:
        """Mean of the current window."""
        return self.total / self.width if self.width else 0.0

    def update(self, x: float) -> bool:
        value = float(x)
        if not math.isfinite(value):
            raise InvalidInput(f"ADWIN values must be finite, got {x!r}")
        self._insert(value)
        return self._detect()

    def _insert(self, value: float) -> None:
        self._rows[0].append([value, 0.0])
        self.width += 1
        if self.width > 1:
            prev_mean = self.total / (self.width - 1)
            self.variance += (self.width - 1) * (value - prev_mean) ** 2 / self.width
        self.total += value
        self._compress()

    def _compress(self) -> None:
        i = 0
        while i < len(self._rows) and len(self._rows[i]) == self.max_buckets + 1:
            if i + 1 == len(self._rows):
                self._rows.append([])
            row = self._rows[i]
            (t1, v1), (t2, v2) = row[0], row[1]
            size = 2.0**i
            mu1, mu2 = t1 / size, t2 / size
            merged_var = v1 + v2 + size * size * (mu1 - mu2) ** 2 / (2 * size)
            self._rows[i + 1].append([t1 + t2, merged_var])
            del row[:2]
            i += 1

    def _drop_oldest(self) -> float:
        last = len(self._rows) - 1
        row = self._rows[last]
        size = 2.0**last
        total, var = row[0]
        self.width -= size
        self.total -= total
        mu, mu_window = total / size, self.total / self.width
        self.variance -= var + size * self.width * (mu - mu_window) ** 2 / (size + self.width)
        del row[0]
        if not row and last > 0:
            self._rows.pop()
        return size

    def _cut_is_significant(self, n0: float, n1: float, delta_mean: float) -> bool:
        delta_prime = math.log(2 * math.log(self.width) / self.delta)
        m_recip = 1.0 / (n0 - self.min_window_length + 1) + 1.0 / (n1 - self.min_window_length + 1)
        epsilon = (
            math.sqrt(2 * m_recip * (self.variance / self.width) * delta_prime)
            + 2 / 3 * delta_prime * m_recip
        )
        return abs(delta_mean) > epsilon

    def _detect(self) -> bool:
        self._tick += 1
        if self._tick % self.clock != 0 or self.width <= self.grace_period:
            return False
        detected = False
        reduce = True
        while reduce:
            reduce = False
            n0, n1, u0, u1 = 0.0, self.width, 0.0, self.total
            # W0 grows from the oldest bucket; W1 is the rest of the window. Every boundary
            # between two buckets is a candidate cut (river skips the newest bucket of each
            # row; the paper, and this code, do not).
            buckets = [
                (2.0**i, b[0]) for i in range(len(self._rows) - 1, -1, -1) for b in self._rows[i]
            ]
            for size, total in buckets[:-1]:
                n0 += size
                n1 -= size
                u0 += total
                u1 -= total
                if (
                    n1 >= self.min_window_length
                    and n0 >= self.min_window_length
                    and self._cut_is_significant(n0, n1, u0 / n0 - u1 / n1)
                ):
                    reduce = detected = True
                    self._drop_oldest()
                    break
        if detected:
            self.n_detections += 1
        return detected


class PageHinkley:
    """Page–Hinkley test with river's defaults; `update(x)` is True when a change is detected.

    The running mean includes x; the cumulative deviations are forgotten by `alpha` each step;
    a change is signalled once at least `min_instances` values were seen and a cumulative
    deviation moves more than `threshold` from its extreme. The detector resets after a change.
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
        self.delta = delta
        self.threshold = threshold
        self.alpha = alpha
        self.mode = mode
        self.n_detections = 0
        self._reset()
        self.drift_detected = False

    def _reset(self) -> None:
        self.n = 0
        self.mean = 0.0
        self._sum_up = 0.0
        self._min_up = math.inf
        self._sum_down = 0.0
        self._max_down = -math.inf

    def update(self, x: float) -> bool:
        value = float(x)
        if not math.isfinite(value):
            raise InvalidInput(f"PageHinkley values must be finite, got {x!r}")
        if self.drift_detected:
            self._reset()
        self.n += 1
        self.mean += (value - self.mean) / self.n
        up = down = False
        if self.mode in ("up", "both"):
            self._sum_up = self.alpha * self._sum_up + (value - self.mean - self.delta)
            self._min_up = min(self._min_up, self._sum_up)
            up = self._sum_up - self._min_up > self.threshold
        if self.mode in ("down", "both"):
            self._sum_down = self.alpha * self._sum_down + (value - self.mean + self.delta)
            self._max_down = max(self._max_down, self._sum_down)
            down = self._max_down - self._sum_down > self.threshold
        self.drift_detected = self.n >= self.min_instances and (up or down)
        if self.drift_detected:
            self.n_detections += 1
        return self.drift_detected


def change_points(errors: Sequence[float], detector: str = "adwin") -> list[int]:
    """Indices of `errors` at which the detector (river defaults) signals a change."""
    if detector == "adwin":
        det: ADWIN | PageHinkley = ADWIN()
    elif detector == "page_hinkley":
        det = PageHinkley()
    else:
        raise InvalidInput(f"detector must be 'adwin' or 'page_hinkley', got {detector!r}")
    return [i for i, x in enumerate(errors) if det.update(x)]
