"""Rebuild domain objects from JSON values: the inverse of `core.jsonable.to_jsonable`.

The remote engine receives what the API rendered with `to_jsonable` and must hand the CLI
and the TUI the same dataclasses the local engine returns, so that output is identical.
Unknown keys are ignored (a newer server may add fields); missing keys take the default.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar, Union

T = TypeVar("T")


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    # Domain modules use `from __future__ import annotations`: field types are strings.
    return typing.get_type_hints(cls)


def from_jsonable(tp: Any, data: Any) -> Any:
    """`data` (parsed JSON) as an instance of the type `tp`; TypeError/ValueError if it isn't."""
    if tp is Any or tp is object:
        return data
    origin = typing.get_origin(tp)
    if origin is Union or origin is types.UnionType:
        return _union(typing.get_args(tp), data)
    if origin is typing.Literal:
        if data not in typing.get_args(tp):
            raise ValueError(f"{data!r} is not one of {typing.get_args(tp)}")
        return data
    if origin is not None:
        return _generic(origin, typing.get_args(tp), data)
    if tp is type(None):
        if data is not None:
            raise TypeError(f"expected null, got {data!r}")
        return None
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _dataclass(tp, data)
    if isinstance(tp, type) and issubclass(tp, Enum):
        return tp(data)
    if tp is datetime:
        if not isinstance(data, str):
            raise TypeError(f"expected an ISO time, got {data!r}")
        return datetime.fromisoformat(data)
    if tp is Path:
        return Path(data)
    if tp is float:
        # JSON has one number type; an integral float may arrive as 1. NaN arrives as null.
        if data is None:
            return float("nan")
        if isinstance(data, bool) or not isinstance(data, int | float):
            raise TypeError(f"expected a number, got {data!r}")
        return float(data)
    if tp in (int, str, bool):
        if not isinstance(data, tp) or (tp is int and isinstance(data, bool)):
            raise TypeError(f"expected {tp.__name__}, got {data!r}")
        return data
    raise TypeError(f"cannot rebuild a {tp!r} from JSON")


def load(cls: type[T], data: Any) -> T:
    """Typed shorthand for a class: `load(Model, data)`."""
    return typing.cast(T, from_jsonable(cls, data))


def _union(args: tuple[Any, ...], data: Any) -> Any:
    if data is None and type(None) in args:
        return None
    errors: list[str] = []
    for arg in args:
        if arg is type(None):
            continue
        try:
            return from_jsonable(arg, data)
        except (TypeError, ValueError, KeyError) as e:
            errors.append(str(e))
    raise TypeError(f"{data!r} matches none of {args}: {'; '.join(errors)}")


def _generic(origin: Any, args: tuple[Any, ...], data: Any) -> Any:
    if origin in (list, set, frozenset, tuple):
        if not isinstance(data, list):
            raise TypeError(f"expected a list, got {data!r}")
        items = typing.cast("list[object]", data)
        if origin is tuple:
            if len(args) == 2 and args[1] is Ellipsis:
                return tuple(from_jsonable(args[0], v) for v in items)
            if args and len(args) != len(items):
                raise ValueError(f"expected {len(args)} items, got {len(items)}")
            return tuple(
                from_jsonable(a, v) for a, v in zip(args or [Any] * len(items), items, strict=False)
            )
        item = args[0] if args else Any
        rebuilt = [from_jsonable(item, v) for v in items]
        return (
            set(rebuilt)
            if origin is set
            else frozenset(rebuilt)
            if origin is frozenset
            else rebuilt
        )
    if origin is dict:
        if not isinstance(data, dict):
            raise TypeError(f"expected an object, got {data!r}")
        key, value = args if args else (Any, Any)
        members = typing.cast("dict[str, object]", data)  # parsed JSON: keys are text
        return {_key(key, k): from_jsonable(value, v) for k, v in members.items()}
    raise TypeError(f"cannot rebuild a {origin!r} from JSON")


def _key(tp: Any, key: str) -> Any:
    # JSON object keys are always strings; `to_jsonable` wrote them with str().
    if tp is int:
        return int(key)
    if tp is float:
        return float(key)
    return from_jsonable(tp, key)


def _dataclass(cls: type, data: Any) -> Any:
    if not isinstance(data, dict):
        raise TypeError(f"expected an object for {cls.__name__}, got {data!r}")
    hints = _hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.init and f.name in data:
            try:
                kwargs[f.name] = from_jsonable(hints[f.name], data[f.name])
            except (TypeError, ValueError) as e:
                raise type(e)(f"{cls.__name__}.{f.name}: {e}") from e
    return cls(**kwargs)
