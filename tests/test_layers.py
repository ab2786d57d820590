"""The dependency rules of DESIGN.md, checked in fresh interpreters (as Harlequin does).

Each package's modules are all imported in one new interpreter; `sys.modules` then shows
every top-level package they pulled in, directly or through another module.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INTERFACES = {"textual", "typer", "fastapi", "uvicorn", "app"}

_PROBE = """
import importlib, json, sys
found = {}
for name in sys.argv[1:]:
    before = set(sys.modules)
    importlib.import_module(name)
    found[name] = sorted({m.split('.')[0] for m in set(sys.modules) - before})
print(json.dumps(found))
"""


def _modules(package: str) -> list[str]:
    names = [package]
    for info in pkgutil.walk_packages([str(ROOT / package)], prefix=f"{package}."):
        names.append(info.name)
    return names


def _pulled_in(package: str) -> dict[str, set[str]]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, *_modules(package)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return {mod: set(pkgs) for mod, pkgs in json.loads(out.stdout).items()}


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [("core", INTERFACES), ("storage", INTERFACES | {"core"})],
)
def test_lower_floors_do_not_import_upper_ones(package: str, forbidden: set[str]) -> None:
    pulled = _pulled_in(package)
    assert len(pulled) > 3, "the probe found too few modules to mean anything"
    offenders = {mod: sorted(pkgs & forbidden) for mod, pkgs in pulled.items() if pkgs & forbidden}
    assert not offenders, f"layer rule broken: {offenders}"
