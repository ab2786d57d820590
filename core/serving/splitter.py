"""Deterministic, sticky traffic splitting (the seed's `TrafficSplitter`).

A unit (a user, a session, a request) is hashed together with a salt (the A/B test or rollout
id) to a point in [0, 1); the versions' weights are laid end to end on that interval and the
unit gets the version whose segment holds its point. The same (salt, unit) therefore always
lands on the same version while the weights stay put, in any process, on any machine.

Layout rule: segments are placed in ascending version-number order, so the newest version
(the canary or challenger) sits at the TOP of the interval. When a canary grows (5% → 25%)
and the stable version shrinks by the same amount, the boundary only slides down: units
move from the stable arm to the canary arm and never back, so nobody flips to and fro between
versions during a progressive rollout. With more than two arms the same cumulative order by
version number applies.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from core.errors import InvalidInput
from core.traffic import describe, validate_traffic

_SEP = "\x1f"
# 53 bits is all a float64 mantissa holds: keeping exactly that many makes the point exact
# (identical in scalar Python and in numpy) and strictly below 1.0, which x / 2**64 is not
# once rounding carries 2**64 - 1 up to 1.0.
_SHIFT = 64 - 53
_SCALE = 2.0**-53


def _check_salt(salt: object) -> str:
    if not isinstance(salt, str):
        raise InvalidInput(f"salt must be a string, not {type(salt).__name__}")
    # The separator must not occur in the salt, or ("a\x1fb", "c") and ("a", "b\x1fc") would
    # hash alike; unit ids may contain anything since the salt's end is then unambiguous.
    if _SEP in salt:
        raise InvalidInput("salt must not contain the \\x1f separator character")
    return salt


def _check_unit(unit_id: object) -> None:
    if not isinstance(unit_id, str):
        raise InvalidInput(f"unit id must be a string, not {type(unit_id).__name__}")


def _first_not_text(values: Iterable[object]) -> object:
    return next(v for v in values if not isinstance(v, str))


def unit_point(salt: str, unit_id: str) -> float:
    """The unit's point in [0, 1): BLAKE2b (8-byte digest) of f"{salt}\\x1f{unit_id}" (UTF-8),
    read big-endian, top 53 bits / 2**53. Stable across processes and Python versions."""
    _check_salt(salt)
    _check_unit(unit_id)
    digest = hashlib.blake2b(f"{salt}{_SEP}{unit_id}".encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") >> _SHIFT) * _SCALE


class TrafficSplitter:
    """Assigns units to versions by weight, deterministically and stickily (see module doc)."""

    def __init__(self, traffic: Mapping[str, float], salt: str) -> None:
        self._traffic = validate_traffic(traffic)
        self._salt = _check_salt(salt)
        self._prefix = f"{salt}{_SEP}".encode()
        self._versions = list(self._traffic)
        cum = np.cumsum(np.fromiter(self._traffic.values(), dtype=np.float64))
        # Pin the end of the last non-empty segment to exactly 1.0 so float round-off in the
        # cumulative sum can never leave a sliver of [0, 1) unassigned.
        last = max(i for i, w in enumerate(self._traffic.values()) if w > 0)
        cum[last:] = 1.0
        self._cum = cum
        self._cum_list: list[float] = cum.tolist()
        self._names = np.array(self._versions, dtype=object)

    @property
    def traffic(self) -> dict[str, float]:
        """The normalised weights, in version order (a copy)."""
        return dict(self._traffic)

    @property
    def salt(self) -> str:
        """The salt (test or rollout id) mixed into every unit's hash."""
        return self._salt

    def assign(self, unit_id: str) -> str:
        """The version serving this unit."""
        point = unit_point(self._salt, unit_id)
        # First segment whose upper bound is above the point; empty (zero-weight) segments have
        # an upper bound equal to their lower one, so they are never chosen.
        return self._versions[bisect.bisect_right(self._cum_list, point)]

    def assign_many(self, unit_ids: Sequence[str]) -> list[str]:
        """`[assign(u) for u in unit_ids]`, with the lookup vectorised in numpy."""
        prefix = self._prefix
        try:
            blob = b"".join(
                hashlib.blake2b(prefix + u.encode(), digest_size=8).digest() for u in unit_ids
            )
        except AttributeError:
            bad = _first_not_text(unit_ids)
            raise InvalidInput(f"unit id must be a string, not {type(bad).__name__}") from None
        raw = np.frombuffer(blob, dtype=">u8")
        points = (raw >> np.uint64(_SHIFT)).astype(np.float64) * _SCALE
        idx = np.searchsorted(self._cum, points, side="right")
        return self._names[idx].tolist()

    def __repr__(self) -> str:
        return f"TrafficSplitter({describe(self._traffic)}, salt={self._salt!r})"
