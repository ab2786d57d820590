"""`forward`: an engine operation that is exactly a service's method, declared in one line.

`LocalEngine` offers each operation of the `Engine` protocol; where one is a service's method
with the same parameters and meaning (`list_models` is `ModelRegistry.list_models`), writing
it out again would only be a copy that can drift. `list_models = forward("registry",
ModelRegistry.list_models)` calls `self.registry.list_models(...)`, and a type checker sees
the service method's own signature on the engine, so it holds the engine to the protocol.

An operation that adds anything (the engine's actor for the audit, a unit conversion, a
default the service does not have) is written out instead.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

S = TypeVar("S")
P = ParamSpec("P")
R = TypeVar("R")


def forward(via: str, method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[Any, P], R]:
    """A method calling `method` on the instance's attribute `via`, with the same signature.

    A plain function, so it binds like any method (pyright 1.1.414 does not apply a
    descriptor's `__get__` when it matches a class against a protocol); it wears `method`'s
    name, docstring and signature, so `help()` and `names.checks_reasons` see the real ones."""
    name = method.__name__

    def forwarded(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return getattr(getattr(self, via), name)(*args, **kwargs)

    functools.update_wrapper(forwarded, method)  # name, docstring, `__wrapped__` for the signature
    forwarded.forwards = (via, method)  # type: ignore[attr-defined]
    return forwarded


T = TypeVar("T")


def in_process(engine: object, parts: type[T]) -> T:
    """`engine` as the parts (`parts`, a protocol of attributes) an operation's in-process
    implementation uses. The capabilities' protocols (`core/<capability>/operations.py`) hold
    each operation's implementation on a `LocalEngine`, which has those parts; they are not
    members of the protocol, which `RemoteEngine` implements without them."""
    return cast(T, engine)
