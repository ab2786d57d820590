"""The version status state machine."""

from __future__ import annotations

from core.domain import ModelStatus as S
from core.errors import IllegalTransition

ALLOWED: dict[S, frozenset[S]] = {
    S.REGISTERED: frozenset({S.VALIDATED, S.REJECTED, S.ARCHIVED}),
    S.VALIDATED: frozenset({S.STAGING, S.PRODUCTION, S.ARCHIVED}),
    S.STAGING: frozenset({S.PRODUCTION, S.VALIDATED, S.ARCHIVED}),
    S.PRODUCTION: frozenset({S.STAGING, S.VALIDATED, S.ARCHIVED}),
    S.ARCHIVED: frozenset({S.VALIDATED}),
    S.REJECTED: frozenset({S.ARCHIVED}),
}

DEPLOYABLE = frozenset({S.VALIDATED, S.STAGING, S.PRODUCTION})

_WHY: dict[tuple[S, S], str] = {
    (S.REJECTED, S.STAGING): "a rejected version can never be deployed",
    (S.REJECTED, S.PRODUCTION): "a rejected version can never be deployed",
    (S.REJECTED, S.VALIDATED): "a rejected version stays rejected; train a new version",
    (S.ARCHIVED, S.PRODUCTION): "an archived version must be restored to validated first",
    (S.ARCHIVED, S.STAGING): "an archived version must be restored to validated first",
    (S.REGISTERED, S.STAGING): "a version must be validated before it is deployed",
    (S.REGISTERED, S.PRODUCTION): "a version must be validated before it is deployed",
}


def check_transition(version_id: str, current: S, target: S) -> None:
    if target == current:
        raise IllegalTransition(f"{version_id} is already {current}")
    if target not in ALLOWED[current]:
        why = _WHY.get((current, target))
        allowed = ", ".join(sorted(ALLOWED[current])) or "nothing"
        raise IllegalTransition(
            f"cannot move {version_id} from {current} to {target}: "
            + (why if why else f"from {current} it can go to {allowed}")
        )
