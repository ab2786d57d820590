"""The operation table (`app/api/operations.py`) against the `Engine` protocol it serves: the
client builds calls from `args`, `returns` and the body fields without importing the protocol,
so these hold each declaration to the method it names."""

from __future__ import annotations

import inspect
import subprocess
import sys
import typing

import pytest

from app import wire
from app.api import schemas
from app.api.operations import OPERATIONS, PATH_DEFAULTS, Op
from app.api.routes.table import placeholders
from app.client import RemoteEngine
from core.engine import Engine, LocalEngine

TABLED = [op for op in OPERATIONS if op.name != "get_historical_features"]  # a frame: by hand


def _params(op: Op) -> dict[str, inspect.Parameter]:
    found = dict(inspect.signature(getattr(Engine, op.name)).parameters)
    del found["self"]
    return found


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: f"{op.verb} {op.path}")
def test_args_are_the_methods_positional_parameters(op: Op) -> None:
    positional = [n for n, p in _params(op).items() if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert list(op.args) == positional


@pytest.mark.parametrize("op", TABLED, ids=lambda op: f"{op.verb} {op.path}")
def test_returns_is_the_methods_return_type(op: Op) -> None:
    assert wire.result_type(op.returns) == typing.get_type_hints(getattr(Engine, op.name))["return"]


@pytest.mark.parametrize("op", TABLED, ids=lambda op: f"{op.verb} {op.path}")
def test_every_wire_name_is_a_parameter_and_every_parameter_travels(op: Op) -> None:
    params = _params(op)
    travels = {op.arg(p) for p in placeholders(op.path)} | set(op.query) | set(op.fixed)
    if op.body_arg is not None:
        travels.add(op.body_arg)
    elif op.body is not None and not op.custom:
        fields = getattr(schemas, op.body).model_fields
        travels |= {op.arg(f) for f in fields}
        for name, field in fields.items():
            # The client leaves out what the caller did not give (and None): the body's
            # default must then be the engine's.
            engine_default = params[op.arg(name)].default
            if engine_default is not inspect.Parameter.empty and field.default != engine_default:
                assert engine_default is None and field.default in ([], {}), (name, op.name)
    assert travels <= set(params), travels - set(params)
    if not op.custom:
        assert set(params) <= travels, set(params) - travels
    for part in placeholders(op.path):
        default = params[op.arg(part)].default
        assert default is inspect.Parameter.empty or default == PATH_DEFAULTS[part]
    # The server calls the local engine with the arguments by name.
    local = inspect.signature(getattr(LocalEngine, op.name)).parameters
    assert set(params) == set(local) - {"self"}


def test_the_remote_engine_offers_every_method_of_the_protocol() -> None:
    # Engine composes one protocol per capability: its methods are its bases'.
    protocol = {n for base in Engine.__mro__ if base is not object
                for n, v in vars(base).items() if inspect.isfunction(v) and n[0] != "_"}  # fmt: skip
    # Not vacuous: an empty table would skip every parametrized test above, and a protocol
    # whose methods were not found (its bases composed otherwise) would pass the first check.
    assert OPERATIONS and TABLED
    assert {"predict", "log_events", "record_actuals", "rollback"} <= protocol
    assert protocol <= {n for n in dir(RemoteEngine) if callable(getattr(RemoteEngine, n))}
    assert {op.name for op in OPERATIONS} <= protocol


def test_a_client_imports_no_server_and_no_scipy() -> None:
    code = "import sys, app.client; print(sorted({'fastapi', 'pydantic', 'scipy', 'sklearn', 'polars'} & set(sys.modules)))"  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
