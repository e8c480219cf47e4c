"""The documents `certflow validate` checks: a loaded BPMN/DMN file with line lookup, and the
problems found in it (`file:line: element-id: message`)."""

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from engine import definition_checks
from engine.parsing import parse_xml

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "bpmndi": BPMNDI_NS, "spiffworkflow": SPIFF_NS}

RESERVED_IDS = frozenset({"Start", "End", "Root"})

FLOW_NODE_TAGS = frozenset(
    (
        *("task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask"),
        *("receiveTask", "businessRuleTask", "callActivity", "subProcess", "transaction"),
        *("adHocSubProcess", "startEvent", "endEvent", "intermediateCatchEvent"),
        *("intermediateThrowEvent", "boundaryEvent", "exclusiveGateway", "parallelGateway"),
        *("inclusiveGateway", "eventBasedGateway", "complexGateway"),
    )
)
# Elements a problem inside an expression is attributed to (not the event definition etc.).
_OWNER_TAGS = FLOW_NODE_TAGS | {
    "sequenceFlow",
    "process",
    "collaboration",
    "participant",
    "lane",
    "message",
    "correlationProperty",
}


@dataclass(frozen=True)
class Problem:
    """One problem found in a definition file, printed as `file:line: element-id: message`."""

    file: str
    line: int
    element_id: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.element_id}: {self.message}"


@dataclass
class Document:
    path: Path
    label: str
    kind: str  # "bpmn" or "dmn"
    data: bytes
    root: Any  # lxml element
    lines: list[bytes]
    by_id: dict[str, Any] = field(default_factory=dict)

    def start_line(self, elem: Any) -> int:
        """Line of the element's start tag (lxml's sourceline is where the start tag ends)."""
        end = elem.sourceline or 0
        if not end or not isinstance(elem.tag, str):
            return end
        qname = etree.QName(elem).localname
        if elem.prefix:
            qname = f"{elem.prefix}:{qname}"
        pattern = re.compile(b"<" + re.escape(qname.encode()) + rb"(?=[\s/>]|$)")
        for number in range(min(end, len(self.lines)), max(0, end - 100), -1):
            if pattern.search(self.lines[number - 1]):
                return number
        return end

    def line_of_id(self, element_id: str) -> int:
        elem = self.by_id.get(element_id)
        return self.start_line(elem) if elem is not None else 0

    def problem(self, elem: Any, message: str, line: int | None = None) -> Problem:
        owner = _owner(elem, self.kind)
        element_id = owner.get("id") if owner is not None else "-"
        return Problem(
            self.label, self.start_line(elem) if line is None else line, element_id, message
        )

    def xpath(self, expression: str) -> list[Any]:
        return self.root.xpath(expression, namespaces=NS)

    def fresh_root(self) -> Any:
        """A separate tree for SpiffWorkflow (its validator rewrites some tags in place)."""
        return parse_xml(self.data)


def load_document(path: Path, problems: set[Problem]) -> Document | None:
    label = str(path)
    if not path.exists():
        problems.add(Problem(label, 0, "-", "no such file or directory"))
        return None
    try:
        too_big = definition_checks.size_problem(path.stat().st_size)  # before reading it
        data = b"" if too_big else path.read_bytes()
    except OSError as err:
        problems.add(Problem(label, 0, "-", f"cannot read file: {err.strerror or err}"))
        return None
    too_big = too_big or definition_checks.element_count_problem(data)  # before parsing it
    if too_big:
        problems.add(Problem(label, 0, "-", too_big))
        return None
    try:
        root = parse_xml(data)
    except etree.XMLSyntaxError as err:
        problems.add(Problem(label, err.lineno or 0, "-", f"XML is not well-formed: {err.msg}"))
        return None
    doctype = definition_checks.doctype_problem(root, data)
    if doctype:
        problems.add(Problem(label, doctype[0], "-", doctype[1]))
        return None
    namespace = etree.QName(root).namespace or ""
    if namespace == BPMN_NS:
        kind = "bpmn"
    elif "/DMN/" in namespace:
        kind = "dmn"
    else:
        problems.add(
            Problem(label, root.sourceline or 0, "-", f"not a BPMN or DMN document: {root.tag}")
        )
        return None
    doc = Document(path, label, kind, data, root, data.splitlines())
    for elem in root.iter():
        if isinstance(elem.tag, str) and elem.get("id"):
            doc.by_id.setdefault(elem.get("id"), elem)
    return doc


def exception_message(exc: BaseException) -> str:
    text = str(exc.args[0]) if exc.args else type(exc).__name__
    notes = [str(note) for note in getattr(exc, "notes", []) or [] if note]
    return "; ".join([text.strip(), *notes])


def _owner(elem: Any, kind: str) -> Any:
    """The element a problem found in `elem` is reported on (nearest meaningful id)."""
    node = elem
    while node is not None:
        if isinstance(node.tag, str) and node.get("id"):
            if kind == "dmn":
                return node
            qname = etree.QName(node)
            if qname.namespace == BPMN_NS and qname.localname in _OWNER_TAGS:
                return node
        node = node.getparent()
    return None


def bpmn_elements(doc: Document, local_names: Collection[str]) -> Iterator[Any]:
    yield from doc.root.iter(*(f"{{{BPMN_NS}}}{name}" for name in local_names))
