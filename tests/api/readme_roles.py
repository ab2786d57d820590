"""The README's table of HTTP routes and their roles, read as data: what the route × role
matrix test (test_auth_matrix.py) holds the code and the OpenAPI schema to.

A row's first cell names one or more routes (`` `METHOD path` ``, joined by ` · `; one
without a method has the method before it), the second their roles (one for all, or one each, joined the same way). In a path, `?…` (the query) is
left out, `a\\|b` is either segment, `…/x` is the one route of that method whose path ends
so (the README shortens long prefixes), and `…` alone is the route before it in the row.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
HEADER = "| method and path | role | engine operation |"
ROLES = ("none", "viewer", "operator", "admin")

Key = tuple[str, str]
"""(method, path shape): a path with its placeholders' names left out (`/a/{}/b`)."""


def shape(path: str) -> str:
    return "/".join("{}" if s.startswith("{") else s for s in path.split("/"))


def _cells(line: str) -> list[str]:
    return [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def _expand(path: str) -> list[str]:
    """`/a/x\\|y` → `/a/x`, `/a/y`."""
    options = [segment.replace("\\|", "|").split("|") for segment in path.split("/")]
    return ["/".join(choice) for choice in itertools.product(*options)]


def rows(text: str | None = None) -> list[list[str]]:
    """The table's rows (cells), header and rule left out."""
    lines = (text if text is not None else README.read_text()).splitlines()
    start = lines.index(HEADER) + 2
    found = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        found.append(_cells(line))
    return found


def roles(served: set[Key], text: str | None = None) -> dict[Key, str]:
    """Every route the README's table names, with its role. `served` (the app's routes)
    resolves the shortened `…/x` paths; a path that resolves to no route, or to several,
    raises naming it."""
    table: dict[Key, str] = {}
    for cells in rows(text):
        entries = _entries(cells[0])
        given = [r.strip() for r in cells[1].split("·")]
        assert given and all(r in ROLES for r in given), f"unknown role in {cells[1]!r}"
        assert len(given) in (1, len(entries)), f"{len(entries)} routes, roles {given}"
        previous: list[str] = []
        for i, (method, raw) in enumerate(entries):
            path = raw.split("?")[0]
            if path == "…":
                paths = previous
            elif path.startswith("…"):
                paths = [_resolve(method, p, served) for p in _expand(path[1:])]
            else:
                paths = _expand(path)
            role = given[0] if len(given) == 1 else given[i]
            for p in paths:
                key = (method, shape(p))
                assert key not in table, f"{method} {p} is in the README's table twice"
                table[key] = role
            previous = paths
    return table


def _entries(cell: str) -> list[tuple[str, str]]:
    """(method, path) of each `` `METHOD path` `` in `cell`; one without a method has the
    method of the one before it."""
    found: list[tuple[str, str]] = []
    for text in re.findall(r"`([^`]+)`", cell):
        method, _, path = text.rpartition(" ")
        if not method:
            assert found, f"{text!r} names no method"
            method = found[-1][0]
        assert method.isupper(), f"{text!r}: no method"
        found.append((method, path))
    return found


def _resolve(method: str, tail: str, served: set[Key]) -> str:
    matches = [p for m, p in served if m == method and p.endswith(shape(tail))]
    if len(matches) != 1:
        raise AssertionError(
            f"README's '{method} …{tail}' names {len(matches)} served routes: {matches}"
        )
    return matches[0]
