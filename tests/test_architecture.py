"""The house reads one way: each package imports only the layers below it, and no modules import
each other in a circle (docs/architecture.md).

Every import is read from the source with ``ast``: top-level imports, imports inside functions
(recoup imports heavy libraries lazily, and a lazy import is still a dependency) and imports
under ``if TYPE_CHECKING`` (a circle for the type checker is a circle for the reader). Only
recoup's own packages count; ``tests/`` and ``benchmarks/`` may import anything.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Bottom to top. A package may import its own modules and the packages of the layers below it.
LAYERS: tuple[str, ...] = (
    "warehouse",  # core: the DuckDB connection, migrations, GX on DuckDB
    "loading",  # X12 readers, feeds, ledger, structural gate, ingest, shipped reference data
    "marts",  # SQL models and the SQL templating
    "expectations",  # the rules: catalog, config, definitions, rules/, GX suites; read marts
    "reporting",  # reports and audit: read findings; rules handed over, not imported
    "demo",  # writes inboxes
    "flows",  # orchestration and the recoup command
    "deployments",  # Prefect deployments
)

#: Packages allowed less than everything below them.
NARROWER: Mapping[str, frozenset[str]] = {
    # The reports read findings (marts); rule ids, titles and thresholds are handed to them.
    "reporting": frozenset({"warehouse", "loading", "marts"}),
    # The demo writes inboxes: it may use loading's writers and helpers, nothing above.
    "demo": frozenset({"warehouse", "loading"}),
}

#: Top-level folders that are not part of the layered code.
OUTSIDE = frozenset({"tests", "benchmarks", "docs", "data"})


def allowed(package: str) -> frozenset[str]:
    """The packages ``package`` may import besides itself."""
    if package in NARROWER:
        return NARROWER[package]
    return frozenset(LAYERS[: LAYERS.index(package)])


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def sources(root: Path = ROOT) -> dict[str, str]:
    """Every module of the layered packages: dotted name -> source text."""
    found: dict[str, str] = {}
    for package in sorted(p.parent.name for p in root.glob("*/__init__.py")):
        if package in OUTSIDE:
            continue
        for path in sorted((root / package).rglob("*.py")):
            found[module_name(path, root)] = path.read_text()
    return found


def _is_package(name: str, modules: Mapping[str, str]) -> bool:
    return any(other.startswith(name + ".") for other in modules)


def imports(name: str, source: str, modules: Mapping[str, str]) -> set[str]:
    """The first-party modules ``name`` imports, wherever the import statement stands.

    ``from pkg import mod`` counts as importing ``pkg.mod`` when that is a module (else ``pkg``);
    relative imports are resolved against ``name``.
    """
    found: set[str] = set()
    top_level = {module.split(".")[0] for module in modules}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                if not _is_package(name, modules):
                    anchor = anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = []
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                targets.append(submodule if submodule in modules else base)
        else:
            continue
        for target in targets:
            if target.split(".")[0] not in top_level:
                continue  # the standard library or a third-party package
            # the longest known module the target names (``import a.b.c`` of a function path)
            while target not in modules and "." in target:
                target = target.rsplit(".", 1)[0]
            if target != name:
                found.add(target)
    return found


def import_graph(modules: Mapping[str, str]) -> dict[str, set[str]]:
    return {name: imports(name, source, modules) for name, source in modules.items()}


def layer_violations(graph: Mapping[str, Iterable[str]]) -> list[str]:
    """One line per import against the layer order, or from a package no layer holds."""
    problems: list[str] = []
    for name, targets in sorted(graph.items()):
        package = name.split(".")[0]
        if package not in LAYERS:
            problems.append(f"{name}: package {package!r} is in no layer (add it to LAYERS)")
            continue
        for target in sorted(targets):
            other = target.split(".")[0]
            if other != package and other not in allowed(package):
                problems.append(f"{name} imports {target}: {package} may not import {other}")
    return problems


def circles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The import circles: strongly connected groups of two or more modules (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def package_circles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Circles between top-level packages (each edge an import of one module by another)."""
    packages: dict[str, set[str]] = {}
    for name, targets in graph.items():
        package = name.split(".")[0]
        packages.setdefault(package, set()).update(
            target.split(".")[0] for target in targets if target.split(".")[0] != package
        )
    return circles(packages)


def problems(modules: Mapping[str, str]) -> list[str]:
    graph = import_graph(modules)
    found = layer_violations(graph)
    found += [f"import circle: {' <-> '.join(group)}" for group in circles(graph)]
    found += [f"package circle: {' <-> '.join(group)}" for group in package_circles(graph)]
    return found


# ---- the project ------------------------------------------------------------------------------


def test_the_project_reads_one_way() -> None:
    assert problems(sources()) == []


def test_every_shipped_package_has_a_layer() -> None:
    """The wheel ships exactly the layered packages (pyproject's hatch list), so none escapes."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    shipped = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    assert sorted(shipped) == sorted(LAYERS)
    assert {name.split(".")[0] for name in sources()} == set(LAYERS)
    assert pyproject["project"]["scripts"]["recoup"] == "flows.cli:main"


def test_the_graph_sees_lazy_and_relative_imports() -> None:
    """The reader is not blind: known edges of the project are in the graph it builds."""
    graph = import_graph(sources())
    # lazy imports inside the `demo` command and inside the tasks
    assert "expectations.catalog" in graph["flows.cli"]
    assert "marts.build" in graph["flows.tasks"]
    assert "marts.partitions" in graph["flows.tasks"]
    # ``from demo import practice as pr`` is an import of the module demo.practice
    assert "demo.practice" in graph["demo.simulate"]
    # the rule catalog reads the marts' helper, the structural gate the core's GX runner
    assert "marts.templating" in graph["expectations.catalog"]
    assert "warehouse.gx_runner" in graph["loading.structural"]


# ---- the checker itself fails on what it must catch ---------------------------------------------

CLEAN = {
    "warehouse": "",
    "warehouse.connection": "import duckdb\n",
    "loading": "",
    "loading.ingest": "from warehouse.connection import open_warehouse\n",
    "expectations": "",
    "expectations.catalog": "from loading import ingest\nfrom marts import models\n",
    "marts": "",
    "marts.models": "from warehouse import connection\n",
}


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        pytest.param({}, [], id="clean"),
        pytest.param(
            {"loading.feeds": "from expectations.catalog import RULES\n"},
            [
                "loading.feeds imports expectations.catalog: loading may not import expectations",
                "package circle: expectations <-> loading",
            ],
            id="upward-top-level",
        ),
        pytest.param(
            {"reporting": "", "reporting.html": "def f():\n    from expectations import catalog\n"},
            ["reporting.html imports expectations.catalog: reporting may not import expectations"],
            id="upward-lazy-in-function",
        ),
        pytest.param(
            {"demo": "", "demo.generator": "import marts.models\n"},
            ["demo.generator imports marts.models: demo may not import marts"],
            id="demo-above-loading",
        ),
        pytest.param(
            {
                "flows": "",
                "flows.cli": "def serve():\n    from deployments.serve import serve_deployments\n",
                "deployments": "",
                "deployments.serve": "from flows.cli import main\n",
            },
            [
                "flows.cli imports deployments.serve: flows may not import deployments",
                "import circle: deployments.serve <-> flows.cli",
                "package circle: deployments <-> flows",
            ],
            id="flows-to-deployments",
        ),
        pytest.param(
            {"scratch": "", "scratch.tool": "import warehouse\n"},
            [
                "scratch: package 'scratch' is in no layer (add it to LAYERS)",
                "scratch.tool: package 'scratch' is in no layer (add it to LAYERS)",
            ],
            id="unlayered-package",
        ),
        pytest.param(
            {
                "demo": "",
                "demo.sessions": (
                    "from typing import TYPE_CHECKING\n"
                    "if TYPE_CHECKING:\n    from demo.simulate import Context\n"
                ),
                "demo.simulate": "from .sessions import Session\n",
            },
            ["import circle: demo.sessions <-> demo.simulate"],
            id="circle-type-checking-and-relative",
        ),
        pytest.param(
            {
                "loading.a": "from loading import b\n",
                "loading.b": "def f():\n    import loading.c\n",
                "loading.c": "from . import a\n",
            },
            ["import circle: loading.a <-> loading.b <-> loading.c"],
            id="circle-of-three",
        ),
    ],
)
def test_the_checker_catches(extra: dict[str, str], expected: list[str]) -> None:
    assert problems({**CLEAN, **extra}) == expected


def test_package_circles_are_caught_even_if_a_layer_allowed_them() -> None:
    graph = {"a.x": {"b.y"}, "b.y": {"c.z"}, "c.z": {"a.w"}, "a.w": set()}
    assert package_circles(graph) == [["a", "b", "c"]]
    assert circles(graph) == []  # no module circle: only the packages go round
