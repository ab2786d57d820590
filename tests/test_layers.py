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


# ------------------------------------------------------------------ arrows between capabilities

FLOOR = {
    "core.domain": "the seed's data models",
    "core.errors": "the error types",
    "core.names": "names and version refs",
    "core.clock": "UTC time",
    "core.jsonable": "JSON of domain objects",
    "core.fromjson": "domain objects from JSON",
    "core.inputs": "files a user names",
    "core.timeparse": "durations",
    "core.trusted_types": "the skops allow-list",
    "core.lifecycle": "the version status machine",
    "core.periodic": "background duties' timer",
    "core.audit": "the hash-chained audit log every mutation appends to",
    "core.traffic": "traffic maps, checked and described",
    "core.model_frame": "the frame an estimator reads, in training and serving",
    "core.stats": "pure statistics",
    "core.events": "prediction events: request checks and the durable writer",
    "core.registry": "models and versions, which every capability acts on",
    "core.forward": "LocalEngine's typed forwards to a service",
}
"""What a capability may import: modules (and packages) below every capability. A floor
module imports only the floor."""

COMPOSERS = {"core", "core.engine", "core.fleet", "core.retrain", "core.auth"}
"""Above or beside the capabilities, importing what they compose (the engine, the fleet view,
retrain policies across alerting and training, tokens); no capability
imports them."""

ALLOWED = {
    ("abtesting", "core.deployments.owners"): "an A/B test owns traffic by deployments' hooks",
    ("rollout", "core.deployments.owners"): "a rollout owns traffic by deployments' hooks",
    ("rollout", "core.monitoring.window"): "a rollout's guardrails are monitoring's window metrics",
}
"""(capability, module it imports from another capability): why. Keep it short: a shared
piece belongs on the floor."""


def _module_names(package: str) -> dict[str, Path]:
    found = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imports(tree: ast.AST, types: bool) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement, inside functions too; those under `if TYPE_CHECKING:` only
    with `types`."""
    found: list[ast.Import | ast.ImportFrom] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If) and not types and "TYPE_CHECKING" in ast.unparse(node.test):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))
    return found


def import_graph(package: str, *, types: bool = True) -> dict[str, set[str]]:
    """{module of `package`: the modules of `package` it imports}, from every import
    statement (inside functions too, and in `TYPE_CHECKING` blocks unless `types` is False:
    then the graph is what runs); `from a import b` is an arrow to `a.b` when that is a
    module, else to `a`."""
    modules = _module_names(package)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        arrows: set[str] = set()
        for node in _imports(ast.parse(path.read_text()), types):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                base = node.module or ""
                if node.level:
                    here = name.split(".") if is_package else name.split(".")[:-1]
                    here = here[: len(here) - node.level + 1]
                    base = ".".join([*here, *([base] if base else [])])
                targets = [
                    f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                    for a in node.names
                ]
            for target in targets:
                while target and target not in modules:  # `import a.b.c` runs a.b.c
                    target = target.rpartition(".")[0]
                if target and target != name:
                    arrows.add(target)
        graph[name] = arrows
    return graph


def _under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def capability_offenders(graph: dict[str, set[str]]) -> dict[str, list[str]]:
    """Arrows of core's graph the rules above forbid, by importing module."""
    offenders: dict[str, list[str]] = {}
    for module, arrows in graph.items():
        if any(_under(module, c) for c in COMPOSERS - {"core"}) or module == "core":
            continue
        floor = any(_under(module, f) for f in FLOOR)
        own = module.split(".")[1]
        for target in sorted(arrows):
            if any(_under(target, f) for f in FLOOR):
                continue
            if not floor and target.split(".")[1] == own and target != "core":
                continue  # inside its own capability
            if not floor and (own, target) in ALLOWED:
                continue
            offenders.setdefault(module, []).append(target)
    return offenders


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected set of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_capabilities_import_the_floor_and_listed_edges_only() -> None:
    graph = import_graph("core")
    capabilities = {m.split(".")[1] for m in graph if m.count(".") >= 1} - {
        f.split(".")[1] for f in FLOOR
    }
    assert {"serving", "monitoring", "training", "features"} <= capabilities
    assert not capability_offenders(graph)
    assert all(FLOOR[f] and any(_under(m, f) for m in graph) for f in FLOOR), "stale floor"
    stale = [edge for edge in ALLOWED if not any(edge[1] in graph[m] for m in graph
             if _under(m, f"core.{edge[0]}"))]  # fmt: skip
    assert not stale, f"allowed edges no longer used (remove them): {stale}"


def test_no_import_circles_among_storage_repositories_or_core_capabilities() -> None:
    # What runs: `storage.conn` names the audit seal for its types only.
    storage = import_graph("storage", types=False)
    assert "storage.repos.late_marks" in storage["storage.repos.events"]
    assert not cycles(storage)
    core = import_graph("core")
    between = {  # capability → capabilities, the graph the circles would be in
        c: {t.split(".")[1] for m in core if _under(m, f"core.{c}") for t in core[m]} - {c}
        for c in {m.split(".")[1] for m in core if m.count(".") >= 1}
    }
    assert not cycles(between)


def test_the_arrow_checks_catch_a_sideways_import_and_a_circle(tmp_path: Path) -> None:
    graph = import_graph("core")
    graph["core.serving.gateway"] = graph["core.serving.gateway"] | {"core.monitoring.metrics"}
    graph["core.features.online"] = graph["core.features.online"] | {"core.engine"}
    graph["core.registry"] = graph["core.registry"] | {"core.training.pipeline"}
    assert capability_offenders(graph) == {
        "core.features.online": ["core.engine"],
        "core.registry": ["core.training.pipeline"],
        "core.serving.gateway": ["core.monitoring.metrics"],
    }
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    # A circle through an import inside a function is found; one through types alone only
    # in the graph of types.
    pkg = tmp_path / "pkg"
    (pkg / "repos").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "repos" / "__init__.py").write_text("")
    (pkg / "repos" / "b.py").write_text("def f():\n    from . import a\n    return a\n")
    (pkg / "repos" / "c.py").write_text("from pkg.repos import a\n")
    (pkg / "repos" / "d.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.repos import c\n"
    )
    (pkg / "repos" / "a.py").write_text("from pkg.repos import b, d\n")
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        assert cycles(import_graph("pkg", types=False)) == [["pkg.repos.a", "pkg.repos.b"]]
        assert cycles(import_graph("pkg")) == [
            ["pkg.repos.a", "pkg.repos.b", "pkg.repos.c", "pkg.repos.d"]
        ]
    finally:
        ROOT = saved
