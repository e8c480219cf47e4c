"""The web package's shape (issue 14): no import circles between its modules, every module
outside webapp/api/ (another part's) at most 500 lines, one translation mechanism."""

import re
from pathlib import Path

import grimp

from tests.paths import WEBAPP

MAX_LINES = 500


def _own_modules() -> list[Path]:
    return [p for p in WEBAPP.rglob("*.py") if "api" not in p.relative_to(WEBAPP).parts]


def test_no_import_circles_between_web_modules():
    """Outside webapp/api/ (another part's, which still imports the package root), no module
    reaches back to one that reaches it — the package root included: views take the engine and
    clock from webapp.runtime, not from the composition root that imports them."""
    graph = grimp.build_graph("webapp", include_external_packages=False)
    modules = sorted(m for m in graph.modules if not m.startswith("webapp.api"))
    circles = [
        (a, b)
        for i, a in enumerate(modules)
        for b in modules[i + 1 :]
        if graph.chain_exists(importer=a, imported=b) and graph.chain_exists(importer=b, imported=a)
    ]
    assert circles == []
    # The one named in the review: the registry and the certificate PDF share the public view.
    assert not graph.chain_exists(importer="webapp.certificate_pdf", imported="webapp.registry")


def test_web_modules_stay_small():
    long = {
        str(p.relative_to(WEBAPP)): n
        for p in _own_modules()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_texts_come_from_the_catalog_only():
    """No second mechanism next to gettext (the registry's former `tr(zh, en)`)."""
    templates = WEBAPP / "templates"
    found = [
        str(p.relative_to(WEBAPP))
        for p in [*templates.rglob("*.html"), *_own_modules()]
        if re.search(r"\btr\(|\bbilingual\(", p.read_text(encoding="utf-8"))
    ]
    assert found == []
