"""`LocalEngine` against the `Engine` protocol at run time: what pyright leaves unchecked.

pyright holds the types (`core/engine.py`, `_conforms`), but an implementation may take more
parameters than the protocol declares and other defaults, and pyright cannot see where a
`forward` leads or whether every capability's part still checks its reasons. A `log_events`
that took a `max_items` the protocol did not declare went unnoticed that way.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

from core.engine import Engine, LocalEngine
from core.errors import InvalidInput
from core.names import MAX_REASON


def _operations() -> list[str]:
    return sorted(
        name
        for base in inspect.getmro(Engine)
        if base not in (Engine, object) and getattr(base, "_is_protocol", False)
        for name, value in vars(base).items()
        if inspect.isfunction(value) and not name.startswith("_")
    )


def _parameters(function: Callable[..., Any]) -> list[tuple[str, object]]:
    """(name, default) after `self`: a forward shows its service method's own parameters."""
    return [(p.name, p.default) for p in list(inspect.signature(function).parameters.values())[1:]]


def test_every_capability_protocol_is_part_of_the_engine() -> None:
    from app.api.operations import by_name

    operations = _operations()
    assert len(set(operations)) == len(operations), "an operation declared by two protocols"
    # Every operation has its HTTP declaration, and nothing is declared that the engine lacks;
    # the data plane's three are served by hand (`app/api/routes/data_plane.py`).
    data_plane = {"predict", "log_events", "record_actuals"}
    assert set(operations) == set(by_name()) | data_plane


@pytest.mark.parametrize("name", _operations())
def test_the_local_engine_takes_each_operations_parameters_and_defaults(name: str) -> None:
    declared = _parameters(getattr(Engine, name))
    assert _parameters(getattr(LocalEngine, name)) == declared


def test_each_forward_calls_its_service_method_on_the_engines_service(
    engine: LocalEngine,
) -> None:
    forwards = {}
    for name in dir(LocalEngine):
        function = inspect.unwrap(
            inspect.getattr_static(LocalEngine, name), stop=lambda f: hasattr(f, "forwards")
        )
        if hasattr(function, "forwards"):
            forwards[name] = function.forwards
    assert len(forwards) == 14
    for name, (via, method) in forwards.items():
        service = getattr(engine, via)
        assert getattr(type(service), method.__name__) is method, name
    assert engine.list_models() == [] and engine.list_tokens() == []


LONG = "x" * (MAX_REASON + 1)

CHECKED: list[tuple[str, Callable[[LocalEngine], object]]] = [
    ("registry", lambda e: e.set_alias("m", "v1", "champion", reason=LONG)),
    ("deployments", lambda e: e.deploy("m", "v1", reason=LONG)),
    ("rollouts", lambda e: e.pause_rollout("m", reason=LONG)),
    ("alerting", lambda e: e.expire_silence("s", reason=LONG)),
    ("alerting comment", lambda e: e.ack_alert("a", LONG)),
    ("abtesting", lambda e: e.start_ab_test("t", reason=LONG)),
]


@pytest.mark.parametrize(("part", "call"), CHECKED, ids=[part for part, _ in CHECKED])
def test_each_capabilitys_part_checks_reasons_before_it_runs(
    engine: LocalEngine, part: str, call: Callable[[LocalEngine], object]
) -> None:
    # Nothing named exists: without the check first, each would say "not found".
    with pytest.raises(InvalidInput, match=r"(reason|comment) is 1,001 characters long"):
        call(engine)
