"""Issue 14 (a): nothing outside engine/ touches the engine's tables. webapp, handlers, domain,
scheduler and cli import no `engine.models` (directly: the engine's own modules use it); they
read through the engine's query API. Checked by import-linter (`make test`) and here."""

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
ROOT_PACKAGES = ("certflow", "cli", "domain", "engine", "handlers", "webapp", "scheduler")
OUTSIDE_ENGINE = ("webapp", "handlers", "domain", "scheduler", "cli")
CONTRACT_NAME = "Only the engine imports its tables (engine.models)"
CONTRACT_ID = "engine-tables"


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    sys.path.insert(0, str(ROOT))
    try:
        return grimp.build_graph(*ROOT_PACKAGES, cache_dir=None)
    finally:
        sys.path.remove(str(ROOT))


def _importers_of_engine_tables(graph: grimp.ImportGraph) -> list[str]:
    return sorted(
        importer
        for importer in graph.find_modules_that_directly_import("engine.models")
        if importer.split(".")[0] in OUTSIDE_ENGINE
    )


def test_pyproject_declares_the_contract():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    [contract] = [
        c for c in config["tool"]["importlinter"]["contracts"] if c["name"] == CONTRACT_NAME
    ]
    assert contract["id"] == CONTRACT_ID and contract["type"] == "forbidden"
    assert set(contract["source_modules"]) == set(OUTSIDE_ENGINE)
    assert contract["forbidden_modules"] == ["engine.models"]
    assert contract["allow_indirect_imports"] is True


def test_no_module_outside_the_engine_imports_its_tables(graph):
    assert _importers_of_engine_tables(graph) == []


def test_a_web_module_importing_the_tables_is_caught(graph):
    graph.add_import(importer="webapp.inbox", imported="engine.models")
    try:
        assert _importers_of_engine_tables(graph) == ["webapp.inbox"]
    finally:
        graph.remove_import(importer="webapp.inbox", imported="engine.models")


def _lint_imports() -> subprocess.CompletedProcess:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    return subprocess.run(  # noqa: S603 - our own venv's tool, fixed arguments
        [str(lint_imports), "--no-cache", "--contract", CONTRACT_ID],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_lint_imports_breaks_when_a_web_module_imports_the_tables():
    """What `make test` runs fails on a real web module importing engine.models, and passes
    again without it."""
    probe = ROOT / "webapp" / "_engine_tables_probe.py"
    probe.write_text("from engine.models import HumanTask  # noqa: F401\n", encoding="utf-8")
    try:
        broken = _lint_imports()
    finally:
        probe.unlink()
    assert broken.returncode != 0, broken.stdout
    assert "webapp._engine_tables_probe -> engine.models" in broken.stdout
    kept = _lint_imports()
    assert kept.returncode == 0, kept.stdout + kept.stderr
