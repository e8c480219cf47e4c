"""Issue 14, "one house": the import contracts, no import cycles, no module over 500 lines.

There are no exceptions: no import cycle between our modules and no module over 500 lines
(outside tests/ and migrations/). `cli/` is the composition root: it may import every layer, and
the kernel (`certflow/`) imports none of the layers built on it.
"""

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest

from tests.paths import ROOT

ROOT_PACKAGES = (
    "certflow",
    "cli",
    "domain",
    "engine",
    "handlers",
    "webapp",
    "scheduler",
    "scenarios",
)
MAX_LINES = 500

# (source, forbidden) of the contracts in pyproject.toml [tool.importlinter].
CONTRACTS = {
    ("engine", frozenset({"handlers", "domain", "webapp"})),
    ("domain", frozenset({"engine", "handlers", "webapp"})),
    ("handlers", frozenset({"webapp"})),
    (
        "certflow",
        frozenset({"cli", "domain", "engine", "handlers", "scheduler", "webapp", "scenarios"}),
    ),
} | {  # the whole-case scenarios: only cli/ uses them (issue 13)
    (source, frozenset({"scenarios"}))
    for source in ("domain", "engine", "handlers", "webapp", "scheduler")
}

NOT_COUNTED = {"tests", "migrations", ".venv", "node_modules", ".git"}


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    sys.path.insert(0, str(ROOT))  # our packages, from this checkout
    try:
        return grimp.build_graph(*ROOT_PACKAGES, cache_dir=None)
    finally:
        sys.path.remove(str(ROOT))


# -- (a) import contracts ------------------------------------------------------------------------
def test_pyproject_declares_the_three_contracts():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    linter = config["tool"]["importlinter"]
    assert set(linter["root_packages"]) == set(ROOT_PACKAGES)
    declared = {
        (source, frozenset(contract["forbidden_modules"]))
        for contract in linter["contracts"]
        # Direct-import contracts (engine.models) are checked in test_engine_tables_contract.py.
        if contract["type"] == "forbidden" and not contract.get("allow_indirect_imports")
        for source in contract["source_modules"]
    }
    assert declared == CONTRACTS


def test_lint_imports_keeps_every_contract():
    """What `make test` runs: import-linter over this checkout."""
    lint_imports = Path(sys.executable).with_name("lint-imports")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(  # noqa: S603 - our own venv's tool, fixed arguments
        [str(lint_imports), "--no-cache"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def _illegal_chains(graph: grimp.ImportGraph) -> list[str]:
    found = []
    for source, forbidden in sorted(CONTRACTS, key=lambda c: c[0]):
        for target in sorted(forbidden):
            chain = graph.find_shortest_chain(importer=source, imported=target, as_packages=True)
            if chain:
                found.append(f"{source} → {target}: {' → '.join(chain)}")
    return found


def test_no_package_imports_what_its_contract_forbids(graph):
    assert _illegal_chains(graph) == []


def test_a_forbidden_import_is_caught(graph):
    """The check can fail: one engine → handlers import (even indirect) breaks the contract."""
    graph.add_import(importer="engine.core", imported="cli.main")  # cli imports handlers
    try:
        assert graph.chain_exists(importer="engine", imported="handlers", as_packages=True)
        assert any(line.startswith("engine → handlers") for line in _illegal_chains(graph))
    finally:
        graph.remove_import(importer="engine.core", imported="cli.main")


# -- (b) import cycles ---------------------------------------------------------------------------
def _elementary_cycles(graph: grimp.ImportGraph) -> set[tuple[str, ...]]:
    """Every simple cycle of direct imports between our modules, each written from its
    alphabetically first module (the graph is small; cycles are searched in order)."""
    modules = sorted(graph.modules)
    order = {module: index for index, module in enumerate(modules)}
    imports = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in modules}
    cycles: set[tuple[str, ...]] = set()

    def search(start: str, path: list[str], on_path: set[str]) -> None:
        for imported in imports[path[-1]]:
            if imported == start and len(path) > 1:
                cycles.add(tuple(path))
            elif order[imported] > order[start] and imported not in on_path:
                path.append(imported)
                on_path.add(imported)
                search(start, path, on_path)
                on_path.discard(path.pop())

    for start in modules:
        search(start, [start], {start})
    return cycles


def test_no_new_import_cycles(graph):
    assert sorted(_elementary_cycles(graph)) == [], "import cycles"


def test_a_new_cycle_is_found(graph):
    graph.add_import(importer="engine.errors", imported="engine.service")
    try:
        assert any(
            cycle[0] == "engine.errors" and "engine.service" in cycle
            for cycle in _elementary_cycles(graph)
        )
    finally:
        graph.remove_import(importer="engine.errors", imported="engine.service")


# -- (c) module size -----------------------------------------------------------------------------
def _line_counts() -> dict[str, int]:
    counts = {}
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if NOT_COUNTED & set(relative.parts[:-1]):
            continue
        counts[relative.as_posix()] = len(path.read_text(encoding="utf-8").splitlines())
    return counts


def test_no_module_passes_500_lines():
    counts = _line_counts()
    too_long = {path: lines for path, lines in counts.items() if lines > MAX_LINES}
    assert too_long == {}, f"modules over {MAX_LINES} lines"


def test_a_long_module_is_found():
    """The size check can fail: a module of 501 lines is reported."""
    long_module = ROOT / "domain" / "_architecture_probe.py"
    long_module.write_text("x = 1\n" * (MAX_LINES + 1), encoding="utf-8")
    try:
        assert _line_counts()["domain/_architecture_probe.py"] == MAX_LINES + 1
    finally:
        long_module.unlink()
