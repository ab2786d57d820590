"""Feature references: `view:feature`, or `view:*` for every feature of a view."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from core.errors import InvalidInput, NotFound
from core.features.definitions import ViewSpec


@dataclass(frozen=True)
class FeatureRef:
    view: str
    feature: str

    def __str__(self) -> str:
        return f"{self.view}:{self.feature}"


def parse(refs: Sequence[object], views: Mapping[str, ViewSpec]) -> list[FeatureRef]:
    """Resolve references against the views as they are (a reference that is not a
    `VIEW:FEATURE` string is refused); output names must not collide."""
    if isinstance(refs, str) or not refs:
        raise InvalidInput("name at least one feature, as VIEW:FEATURE (or VIEW:*)")
    out: list[FeatureRef] = []
    for ref in refs:
        if not isinstance(ref, str) or ref.count(":") != 1:
            raise InvalidInput(f"feature reference {ref!r} must be VIEW:FEATURE (or VIEW:*)")
        view_name, feature = (part.strip() for part in ref.split(":"))
        view = views.get(view_name)
        if view is None:
            known = ", ".join(sorted(views)) or "none yet: mlc features apply FILE.toml"
            raise NotFound(f"no feature view {view_name!r} (views: {known})")
        if feature == "*":
            out.extend(FeatureRef(view_name, f.name) for f in view.features)
            continue
        if not any(f.name == feature for f in view.features):
            raise NotFound(
                f"view {view_name} has no feature {feature!r}"
                f" (features: {', '.join(f.name for f in view.features)})"
            )
        out.append(FeatureRef(view_name, feature))
    seen: dict[str, FeatureRef] = {}
    for ref in out:
        other = seen.get(ref.feature.lower())
        if other == ref:
            raise InvalidInput(f"feature {ref} is asked for twice")
        if other is not None:
            raise InvalidInput(
                f"features {other} and {ref} would both be column {ref.feature!r}:"
                " ask for one of them"
            )
        seen[ref.feature.lower()] = ref
    return out


def by_view(refs: Sequence[FeatureRef]) -> dict[str, list[str]]:
    """Feature names per view, in the order asked."""
    grouped: dict[str, list[str]] = {}
    for ref in refs:
        grouped.setdefault(ref.view, []).append(ref.feature)
    return grouped
