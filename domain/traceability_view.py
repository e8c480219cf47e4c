"""Which rule each step implements (issue 13, "Rules traceability, visible"; issue 15's table of
every rule): the rules catalogue against the diagram elements, handlers, forms, code and tests of
`processes/traceability.yaml` and the R-ids the diagrams' documentation cites, for the diagrams
given (the deployed versions on the quality pages, the files of processes/ for
docs/rules-coverage.md).

Flags: a rule with nothing implementing it; an element citing an R-id the catalogue does not
have (or a traceability entry for one); a traceability entry naming an element that the given
diagram does not have. No Flask, no engine: the callers hand in the diagrams."""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from domain.rule_catalogue import Rule

R_ID = re.compile(r"R-\d+(?:\.\d+)*[a-z]?")
NOT_STEPS = {
    "process",
    "collaboration",
    "participant",
    "laneSet",
    "lane",
    "sequenceFlow",
    "messageFlow",
    "definitions",
}
# Flag kinds, in the order the pages list them.
UNIMPLEMENTED = "unimplemented"
UNKNOWN_RULE = "unknown_rule"
MISSING_ELEMENT = "missing_element"


@dataclass(frozen=True)
class DiagramElement:
    id: str
    name: str
    cited: tuple[str, ...]  # the R-ids its documentation cites, as written
    kind: str = ""  # its XML element: userTask, lane, sequenceFlow, decision …


@dataclass(frozen=True)
class Diagram:
    """One deployed BPMN or DMN file; `process_id`/`version`: the deployed process it draws."""

    file: str  # as traceability.yaml names it: "certification.bpmn"
    elements: dict[str, DiagramElement]
    process_id: str | None = None
    version: int | None = None


@dataclass(frozen=True)
class ElementLink:
    file: str
    element_id: str
    name: str
    process_id: str | None
    version: int | None
    mapped: bool  # named in traceability.yaml
    cited: bool  # its documentation cites the rule
    exists: bool  # the given diagram has it
    kind: str = ""

    @property
    def is_step(self) -> bool:
        """A step of the flow or a decision, not a pool, lane, flow or the process itself."""
        return self.kind not in NOT_STEPS


@dataclass
class RuleRow:
    rule: Rule
    summary: str
    elements: list[ElementLink] = field(default_factory=list)
    handlers: list[str] = field(default_factory=list)  # operators, guards and validators
    forms: list[str] = field(default_factory=list)
    code: list[str] = field(default_factory=list)
    tests: list[str] = field(default_factory=list)
    partial: str = ""  # traceability.yaml `partial:`: what of the rule is still not built, why

    @property
    def present_elements(self) -> list[ElementLink]:
        return [link for link in self.elements if link.exists]

    @property
    def implemented(self) -> bool:
        return bool(self.present_elements or self.handlers or self.code)

    @property
    def processes(self) -> list[str]:
        """The deployed processes on whose diagram the rule has elements ("across diagrams")."""
        return sorted({e.process_id for e in self.present_elements if e.process_id})

    @property
    def missing(self) -> list[str]:
        """What the rule still lacks: "elements", "handlers", "tests" (issue 15's table)."""
        lacking = []
        if not self.present_elements:
            lacking.append("elements")
        if not (self.handlers or self.code):
            lacking.append("handlers")
        if not self.tests:
            lacking.append("tests")
        return lacking


@dataclass(frozen=True)
class Flag:
    kind: str  # UNIMPLEMENTED, UNKNOWN_RULE, MISSING_ELEMENT
    rule_id: str
    file: str | None = None
    element_id: str | None = None


@dataclass(frozen=True)
class Coverage:
    rules: int
    with_elements: int
    with_handlers: int
    with_tests: int
    implemented: int


@dataclass
class TraceabilityView:
    rows: list[RuleRow]
    flags: list[Flag]
    coverage: Coverage
    diagrams: dict[str, Diagram] = field(default_factory=dict)  # by file

    def row(self, rule_id: str) -> RuleRow | None:
        return next((row for row in self.rows if row.rule.id == rule_id), None)

    def element_rules(self, process_id: str) -> dict[str, list[str]]:
        """{element id: the rule ids it implements} on the diagram of a deployed process."""
        marks: dict[str, set[str]] = {}
        for row in self.rows:
            for link in row.present_elements:
                if link.process_id == process_id:
                    marks.setdefault(link.element_id, set()).add(row.rule.id)
        return {element: sorted(rules, key=rule_order) for element, rules in marks.items()}


def rule_order(rule_id: str) -> tuple:
    """R-8.10.1 after R-8.9, R-6.2.2a before R-6.2.2b."""
    match = re.fullmatch(r"R-([\d.]+)([a-z]?)", rule_id)
    if match is None:
        return ((10**6,), rule_id)
    return (tuple(int(p) for p in match.group(1).split(".") if p), match.group(2))


def expand(rid: str, known: Iterable[str]) -> list[str]:
    """A cited parent id (R-6.2.2) stands for its lettered children (R-6.2.2a, R-6.2.2b); a
    lettered sub-clause of a catalogue id (R-9.5.1d: reason d of R-9.5.1) stands for that id."""
    known = list(known)
    if rid in known:
        return [rid]
    if rid[-1].isalpha() and rid[:-1] in known:
        return [rid[:-1]]
    return [k for k in known if re.fullmatch(re.escape(rid) + r"[a-z]", k)]


def diagram_from_xml(
    file: str, xml: bytes | str, process_id: str | None = None, version: int | None = None
) -> Diagram:
    """The elements of a BPMN/DMN file with their names and the R-ids their documentation
    (DMN: description) cites."""
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    root = etree.fromstring(data, parser)
    elements: dict[str, DiagramElement] = {}
    for node in root.iter():
        if not isinstance(node.tag, str) or not node.get("id"):
            continue
        cited: list[str] = []
        for child in node:
            if not isinstance(child.tag, str):
                continue
            if etree.QName(child).localname in ("documentation", "description") and child.text:
                cited += [rid for rid in R_ID.findall(child.text) if rid not in cited]
        elements[node.get("id")] = DiagramElement(
            node.get("id"), node.get("name") or "", tuple(cited), etree.QName(node).localname
        )
    return Diagram(file, elements, process_id, version)


def diagrams_from_directory(path: Path) -> list[Diagram]:
    """The BPMN and DMN files of a processes directory (what `make run` deploys)."""
    files = sorted([*path.rglob("*.bpmn"), *path.rglob("*.dmn")])
    return [diagram_from_xml(p.relative_to(path).as_posix(), p.read_bytes()) for p in files]


def _element_links(
    rid: str, entry: dict, diagrams: dict[str, Diagram], citing: dict[str, list[tuple[str, str]]]
) -> list[ElementLink]:
    links: dict[tuple[str, str], ElementLink] = {}
    cited_here = set(citing.get(rid, []))
    for ref in entry.get("elements", []) or []:
        file, _, element_id = ref.partition("#")
        diagram = diagrams.get(file)
        element = diagram.elements.get(element_id) if diagram else None
        links[(file, element_id)] = ElementLink(
            file,
            element_id,
            element.name if element else "",
            diagram.process_id if diagram else None,
            diagram.version if diagram else None,
            mapped=True,
            cited=(file, element_id) in cited_here,
            exists=element is not None,
            kind=element.kind if element else "",
        )
    for file, element_id in citing.get(rid, []):
        if (file, element_id) not in links:
            diagram = diagrams[file]
            element = diagram.elements[element_id]
            links[(file, element_id)] = ElementLink(
                file,
                element_id,
                element.name,
                diagram.process_id,
                diagram.version,
                mapped=False,
                cited=True,
                exists=True,
                kind=element.kind,
            )
    return list(links.values())


def build_view(
    rules: list[Rule], traceability: dict, diagrams: Iterable[Diagram]
) -> TraceabilityView:
    """The catalogue against what implements each rule, its coverage and its flags."""
    by_file = {d.file: d for d in diagrams}
    known = [rule.id for rule in rules]
    flags: list[Flag] = []
    # Which elements cite which catalogue rule; a citation of no catalogue rule is flagged.
    citing: dict[str, list[tuple[str, str]]] = {}
    for diagram in by_file.values():
        for element in diagram.elements.values():
            for cited in element.cited:
                expanded = expand(cited, known)
                if not expanded:
                    flags.append(Flag(UNKNOWN_RULE, cited, diagram.file, element.id))
                for rid in expanded:
                    if (diagram.file, element.id) not in citing.setdefault(rid, []):
                        citing[rid].append((diagram.file, element.id))
    entries = (traceability or {}).get("requirements", {}) or {}
    flags += [Flag(UNKNOWN_RULE, rid, "traceability.yaml") for rid in entries if rid not in known]
    rows = []
    for rule in rules:
        entry = entries.get(rule.id, {}) or {}
        row = RuleRow(
            rule=rule,
            summary=entry.get("summary", ""),
            elements=_element_links(rule.id, entry, by_file, citing),
            handlers=[
                h for key in ("handlers", "guards", "validators") for h in entry.get(key) or []
            ],
            forms=list(entry.get("forms") or []),
            code=list(entry.get("code") or []),
            tests=list(entry.get("tests") or []),
            partial=str(entry.get("partial") or "").strip(),
        )
        flags += [
            Flag(MISSING_ELEMENT, rule.id, link.file, link.element_id)
            for link in row.elements
            if not link.exists
        ]
        if not row.implemented:
            flags.append(Flag(UNIMPLEMENTED, rule.id))
        rows.append(row)
    coverage = Coverage(
        rules=len(rows),
        with_elements=sum(1 for row in rows if row.present_elements),
        with_handlers=sum(1 for row in rows if row.handlers),
        with_tests=sum(1 for row in rows if row.tests),
        implemented=sum(1 for row in rows if row.implemented),
    )
    order = {UNIMPLEMENTED: 0, UNKNOWN_RULE: 1, MISSING_ELEMENT: 2}
    flags.sort(
        key=lambda f: (order[f.kind], rule_order(f.rule_id), f.file or "", f.element_id or "")
    )
    return TraceabilityView(rows, flags, coverage, by_file)
