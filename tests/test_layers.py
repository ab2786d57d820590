"""The dependency rules of DESIGN.md.

Floors: each package's modules are all imported in one new interpreter (as Harlequin does);
`sys.modules` then shows every top-level package they pulled in, directly or through another
module. SQL and the arrows between core's capabilities are read from the source with `ast`.
"""

from __future__ import annotations

import ast
import json
import pkgutil
import re
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


# ------------------------------------------------------------------ SQL stays in storage

_SQL = re.compile(
    r"\bSELECT\b.*\bFROM\b"
    r"|\bINSERT\s+(?:OR\s+[A-Z]+\s+)?INTO\b"
    r"|\bUPDATE\s+\S+\s+SET\b"
    r"|\bDELETE\s+FROM\b"
    r"|\b(?:CREATE|ALTER|DROP)\s+(?:OR\s+REPLACE\s+)?(?:TEMP\s+)?(?:TABLE|VIEW|INDEX)\b"
    r"|\bCOPY\s+\w+\s+(?:FROM|TO)\b",
    re.S,
)
"""SQL as this code base writes it: keywords in capitals, so prose ("select a feature from
the list", "update the set") never matches."""


def _docstrings(tree: ast.Module) -> set[int]:
    """Ids of the docstring nodes: documentation may quote SQL, code may not hold it."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def sql_in(source: str) -> list[int]:
    """Lines of the string literals (f-strings' fixed parts joined) that hold SQL."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            text = node.value
        elif isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "?" for v in node.values)
        else:
            continue
        if _SQL.search(str(text)):
            lines.append(node.lineno)
    return sorted(set(lines))


@pytest.mark.parametrize("package", ["core", "app"])
def test_no_sql_above_storage(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert len(files) > 10
    offenders = {str(f.relative_to(ROOT)): lines for f in files if (lines := sql_in(f.read_text()))}
    assert not offenders, f"SQL outside storage/ (move it into a storage repository): {offenders}"


def test_the_sql_check_finds_sql_and_passes_prose() -> None:
    caught = '''
"""Docs may quote `INSERT INTO t SELECT * FROM df`."""
def tally(conn, job):
    n = conn.scalar("SELECT count(*) FROM training_trials WHERE job_id = ?", [job])
    conn.execute(f"UPDATE {table} SET status = ?", ["done"])
    conn.execute(
        "DELETE FROM events"
        " WHERE at < ?"
    )
    conn.execute("INSERT OR REPLACE INTO t VALUES (?)")
    return "CREATE TABLE x (a INT)", n
'''
    assert sql_in(caught) == [4, 5, 7, 10, 11]
    prose = """
HELP = "select a feature from the list; update the set of views; insert into the queue"
NOTE = f"press enter to select, {key} to delete from the list"
"""
    assert sql_in(prose) == []
    # the check runs where it must: the SQL of storage/ is found by the same function
    assert sql_in((ROOT / "storage" / "repos" / "training.py").read_text())
