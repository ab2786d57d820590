from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from app.cli.main import app
from core.engine import LocalEngine
from tests.conftest import add_versions
from tests.training.conftest import credit_small, write_config  # noqa: F401 (fixtures)


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        return json.loads(self.out)


Mlc = Callable[..., Result]


@pytest.fixture
def mlc(home: Path) -> Mlc:
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        res = runner.invoke(app, ["--store", str(home), *args], catch_exceptions=False)
        return Result(res.exit_code, res.stdout, res.stderr)

    return invoke


def with_versions(home: Path, model: str, upto: int) -> None:
    """`add_versions` on the store the `mlc` fixture's commands use (none holds it between
    commands)."""
    engine = LocalEngine.open(home)
    try:
        add_versions(engine, model, upto)
    finally:
        engine.close()
