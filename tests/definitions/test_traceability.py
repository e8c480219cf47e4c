"""Traceability: every requirement in scope maps to BPMN/DMN elements, handlers, guards, forms
and tests that exist, and every R-ID a diagram cites is mapped (processes/traceability.yaml)."""

import ast
import os
import re
from pathlib import Path

import yaml
from lxml import etree

import handlers  # noqa: F401  (registers handlers and guards)
from handlers import registered_guards, registered_operators, registered_validators
from tests.paths import ROOT

PROCESSES = ROOT / "processes"


def _catalogue() -> Path:
    """The requirements catalogue in `shared/spec/` beside the checkout (CI places a copy of
    shared/ there); CERTFLOW_SPEC_DIR overrides."""
    if os.environ.get("CERTFLOW_SPEC_DIR"):
        return Path(os.environ["CERTFLOW_SPEC_DIR"]) / "requirements.md"
    for parent in ROOT.parents:
        candidate = parent / "shared" / "spec" / "requirements.md"
        if candidate.is_file():
            return candidate
    return ROOT.parent / "shared" / "spec" / "requirements.md"


CATALOGUE = _catalogue()
TRACEABILITY = PROCESSES / "traceability.yaml"
R_ID = re.compile(r"R-\d+(?:\.\d+)*[a-z]?")


def catalogue_ids() -> list[str]:
    text = CATALOGUE.read_text(encoding="utf-8")
    return re.findall(r"^- (R-[\d.]+[a-z]?) ", text, flags=re.MULTILINE)


def load() -> dict:
    return yaml.safe_load(TRACEABILITY.read_text(encoding="utf-8"))


def element_ids(path: Path) -> set[str]:
    root = etree.parse(str(path)).getroot()
    return {el.get("id") for el in root.iter() if el.get("id")}


def defined_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


def cited_ids() -> dict[str, set[str]]:
    """R-IDs cited in the documentation of every BPMN/DMN element under processes/."""
    cited: dict[str, set[str]] = {}
    for path in sorted([*PROCESSES.rglob("*.bpmn"), *PROCESSES.rglob("*.dmn")]):
        root = etree.parse(str(path)).getroot()
        for el in root.iter():
            if not isinstance(el.tag, str):
                continue
            if etree.QName(el).localname in ("documentation", "description") and el.text:
                for rid in R_ID.findall(el.text):
                    cited.setdefault(rid, set()).add(path.name)
    return cited


def expand(rid: str, known: list[str]) -> list[str]:
    """A cited parent id (R-6.2.2) stands for its lettered children (R-6.2.2a, R-6.2.2b); a
    lettered sub-clause of a catalogue id (R-9.5.1d: reason d of R-9.5.1) stands for that id."""
    if rid in known:
        return [rid]
    if rid[-1].isalpha() and rid[:-1] in known:
        return [rid[:-1]]
    return [k for k in known if re.fullmatch(re.escape(rid) + r"[a-z]", k)]


def test_catalogue_is_readable():
    ids = catalogue_ids()
    assert len(ids) == len(set(ids)) > 40


def scope(data: dict, known: list[str]) -> list[str]:
    """`all`, or an explicit list while the implementation grows."""
    return known if data["scope"] == "all" else data["scope"]


def test_every_rule_of_the_catalogue_is_in_scope():
    assert load()["scope"] == "all"


def test_scope_ids_exist_and_each_has_implementation_and_test():
    data, known = load(), catalogue_ids()
    in_scope = scope(data, known)
    assert set(in_scope) <= set(known), set(in_scope) - set(known)
    mapped = data["requirements"]
    assert set(mapped) <= set(known), set(mapped) - set(known)
    missing = [rid for rid in in_scope if rid not in mapped]
    assert not missing, f"R-IDs in scope without a mapping: {missing}"
    for rid in in_scope:
        entry = mapped[rid]
        implemented = [
            k for k in ("elements", "handlers", "guards", "validators", "code") if entry.get(k)
        ]
        assert implemented, f"{rid} maps to no element, handler, guard or code"
        assert entry.get("tests"), f"{rid} has no test"


def test_every_reference_exists():
    data = load()
    operators, guards = registered_operators(), registered_guards()
    validators = registered_validators()
    problems = []
    for rid, entry in data["requirements"].items():
        for ref in entry.get("elements", []):
            file, _, element = ref.partition("#")
            path = PROCESSES / file
            if not path.is_file() or element not in element_ids(path):
                problems.append(f"{rid}: element {ref} does not exist")
        problems += [
            f"{rid}: handler {h} is not registered"
            for h in entry.get("handlers", [])
            if h not in operators
        ]
        problems += [
            f"{rid}: guard {g} is not registered"
            for g in entry.get("guards", [])
            if g not in guards
        ]
        problems += [
            f"{rid}: validator {v} is not registered"
            for v in entry.get("validators", [])
            if v not in validators
        ]
        problems += [
            f"{rid}: form {f} does not exist"
            for f in entry.get("forms", [])
            if not (PROCESSES / f).is_file()
        ]
        for ref in entry.get("code", []):
            file, _, name = ref.partition("::")
            path = ROOT / file
            if not path.is_file() or (name and name not in path.read_text(encoding="utf-8")):
                problems.append(f"{rid}: code {ref} does not exist")
        for ref in entry.get("tests", []):
            file, _, name = ref.partition("::")
            path = ROOT / file
            if not path.is_file() or name not in defined_functions(path):
                problems.append(f"{rid}: test {ref} does not exist")
    assert not problems, "\n".join(problems)


def test_every_cited_rule_is_a_known_id_and_mapped():
    data, known = load(), catalogue_ids()
    problems = []
    for rid, files in cited_ids().items():
        targets = expand(rid, known)
        if not targets:
            problems.append(f"{sorted(files)} cite {rid}, which is not in the catalogue")
        problems += [
            f"{sorted(files)} cite {t}, which traceability.yaml does not map"
            for t in targets
            if t not in data["requirements"]
        ]
    assert not problems, "\n".join(problems)


def test_mapped_elements_cite_their_rule():
    """An element listed for a rule says so in its documentation (readable in the modeler)."""
    known, problems = catalogue_ids(), []
    for rid, entry in load()["requirements"].items():
        for ref in entry.get("elements", []):
            file, _, element = ref.partition("#")
            root = etree.parse(str(PROCESSES / file)).getroot()
            nodes = [el for el in root.iter() if el.get("id") == element]
            docs = " ".join(
                child.text or ""
                for node in nodes
                for child in node
                if isinstance(child.tag, str)
                and etree.QName(child).localname in ("documentation", "description")
            )
            cited = {t for r in R_ID.findall(docs) for t in expand(r, known)}
            if rid not in cited:
                problems.append(f"{ref} is mapped to {rid} but its documentation does not cite it")
    assert not problems, "\n".join(problems)
