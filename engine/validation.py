"""Static validation of BPMN/DMN definitions and their forms (`certflow validate`), no database.

`validate_paths` runs every check over all files together (call activities and business rule
tasks resolve across files) and returns the problems sorted by file and line:

0. size limits (before parsing), no DOCTYPE (engine.definition_checks);
1. XML well-formed; 2. XSD (BPMN 2.0 + spiffworkflow extensions; DMN against its own schema);
3. every executable process parses with the SpiffWorkflow parser of `engine.parsing`, called
processes and DMN decisions exist; 4. service task operators are registered handlers; 5. form
references of user/manual tasks point at JSON Schema files; 6. lane names are known roles;
7. reserved ids (`Start`, `End`, `Root`) are refused; 8. processes, lanes, participants and flow
nodes have names; 9. diagram interchange exists for everything bpmn.io must draw; 10. scripts and
expressions (BPMN and DMN) pass the restricted-script check of `engine.restricted`;
11. spiffworkflow extension elements and task properties are allowlisted.

A file that is not well-formed or fails its XSD gets only that problem; other files are still
checked.
"""

import ast
import json
import re
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for
from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from certflow.roles import role_for_lane
from engine import definition_checks
from engine.parsing import make_parser, parse_xml
from engine.restricted import ScriptRestrictionError, check_source

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
_FORM_PROPERTIES = ("formJsonSchemaFilename", "formUiSchemaFilename")
_DMN_QUESTION_MARK = re.compile(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)")  # as DMNEngine
_PROCESS_NOT_FOUND = re.compile(r"The process '(.*?)' was not found")

# (xpath, mode, label) of every text evaluated by the script engine in a BPMN file.
_BPMN_TEXT_SOURCES: tuple[tuple[str, str, str], ...] = (
    (".//bpmn:scriptTask/bpmn:script", "exec", "script"),
    (".//bpmn:extensionElements/spiffworkflow:preScript", "exec", "preScript"),
    (".//bpmn:extensionElements/spiffworkflow:postScript", "exec", "postScript"),
    (".//bpmn:sequenceFlow/bpmn:conditionExpression", "eval", "condition"),
    (".//bpmn:conditionalEventDefinition/bpmn:condition", "eval", "condition"),
    (".//bpmn:timerEventDefinition/bpmn:timeDate", "eval", "timer timeDate"),
    (".//bpmn:timerEventDefinition/bpmn:timeDuration", "eval", "timer timeDuration"),
    (".//bpmn:timerEventDefinition/bpmn:timeCycle", "eval", "timer timeCycle"),
    (".//spiffworkflow:messagePayload", "eval", "message payload"),
    (".//bpmn:multiInstanceLoopCharacteristics/bpmn:loopCardinality", "eval", "loopCardinality"),
    (".//bpmn:completionCondition", "eval", "completionCondition"),
    (".//bpmn:standardLoopCharacteristics/bpmn:loopCondition", "eval", "loopCondition"),
    (".//bpmn:correlationPropertyRetrievalExpression/*", "eval", "correlation expression"),
    (
        ".//spiffworkflow:processVariableCorrelation/spiffworkflow:expression",
        "eval",
        "correlation expression",
    ),
)


@dataclass(frozen=True)
class Problem:
    """One problem found in a definition file, printed as `file:line: element-id: message`."""

    file: str
    line: int
    element_id: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.element_id}: {self.message}"


def discover_files(paths: Sequence[str | Path]) -> list[Path]:
    """Expand directories recursively to their *.bpmn and *.dmn files (sorted).

    Other paths are returned as given, even when they do not exist (`validate_paths` reports
    those). A file reached twice is returned once.
    """
    found: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found.extend(
                sorted(
                    candidate
                    for candidate in path.rglob("*")
                    if candidate.suffix.lower() in {".bpmn", ".dmn"} and candidate.is_file()
                )
            )
        else:
            found.append(path)
    unique: list[Path] = []
    seen: set[Path] = set()
    for path in found:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return unique


def validate_paths(
    paths: Sequence[str | Path],
    handler_names: Collection[str],
    guard_names: Collection[str] = frozenset(),
    validator_names: Collection[str] = frozenset(),
) -> list[Problem]:
    """Run every check over all files under `paths`; problems deduplicated, by file and line."""
    problems: set[Problem] = set()
    documents = [doc for doc in (_load(path, problems) for path in discover_files(paths)) if doc]
    documents = [doc for doc in documents if _schema_valid(doc, problems)]

    parse_problems: set[Problem] = set()
    parser = make_parser()
    _add_to_parser(parser, documents, parse_problems)
    _check_processes(parser, documents, parse_problems)

    handlers = frozenset(handler_names)
    for doc in documents:
        if doc.kind == "bpmn":
            for check in _BPMN_CHECKS:
                problems.update(check(doc))
            problems.update(_check_handlers(doc, handlers))
            problems.update(_check_guards(doc, frozenset(guard_names), frozenset(validator_names)))
        else:
            problems.update(_check_dmn_expressions(doc))

    # SpiffWorkflow sometimes refuses what a check above already reported (a malformed DMN
    # output entry, say): keep one problem per file, line and element.
    located = {(p.file, p.line, p.element_id) for p in problems}
    problems.update(p for p in parse_problems if (p.file, p.line, p.element_id) not in located)
    return sorted(problems, key=lambda p: (p.file, p.line, p.element_id, p.message))


# --- documents -------------------------------------------------------------------------------


@dataclass
class _Document:
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


def _load(path: Path, problems: set[Problem]) -> _Document | None:
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
    doc = _Document(path, label, kind, data, root, data.splitlines())
    for elem in root.iter():
        if isinstance(elem.tag, str) and elem.get("id"):
            doc.by_id.setdefault(elem.get("id"), elem)
    return doc


@cache
def _dmn_validator(schema_path: str) -> BpmnValidator:
    return BpmnValidator(schema_path)


def _schema_valid(doc: _Document, problems: set[Problem]) -> bool:
    if doc.kind == "bpmn":
        validator: BpmnValidator | None = VALIDATOR
        root = doc.fresh_root().getroottree()
    else:
        schema = DMN_SCHEMAS.get(etree.QName(doc.root).namespace or "")
        validator = _dmn_validator(schema) if schema else None
        root = doc.fresh_root()
    if validator is None:
        return True
    try:
        validator.validate(root, doc.label)
    except ValidationException as exc:
        line = exc.line_number if isinstance(exc.line_number, int) else 0
        # libxml2 reports where an element's start tag ends; point at where it starts.
        for elem in doc.root.iter():
            if elem.sourceline == line:
                line = doc.start_line(elem)
                break
        problems.add(Problem(doc.label, line, "-", f"XSD: {_message(exc)}"))
        return False
    return True


def _message(exc: BaseException) -> str:
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


def _bpmn(doc: _Document, local_names: Collection[str]) -> Iterator[Any]:
    yield from doc.root.iter(*(f"{{{BPMN_NS}}}{name}" for name in local_names))


# --- check 3: SpiffWorkflow parser -----------------------------------------------------------


def _add_to_parser(
    parser: SpiffBpmnParser, documents: list[_Document], problems: set[Problem]
) -> None:
    decisions: dict[str, _Document] = {}
    for doc in documents:
        try:
            if doc.kind == "bpmn":
                parser.add_bpmn_xml(doc.fresh_root().getroottree(), filename=doc.label)
                continue
            decision = doc.root.find(f"{{{etree.QName(doc.root).namespace}}}decision")
            decision_id = decision.get("id") if decision is not None else None
            if decision_id is None:
                problems.add(Problem(doc.label, doc.start_line(doc.root), "-", "no decision"))
                continue
            if decision_id in decisions:
                other = decisions[decision_id].label
                message = f"decision id '{decision_id}' is also defined in {other}"
                problems.add(Problem(doc.label, doc.start_line(decision), decision_id, message))
                continue
            decisions[decision_id] = doc
            parser.add_dmn_xml(doc.fresh_root(), filename=doc.label)
            parser.dmn_parsers[decision_id].parse()
        except Exception as exc:  # noqa: BLE001 - every parser failure becomes a problem
            problems.update(_problems_from_exception(exc, documents, doc, None))


def _check_processes(
    parser: SpiffBpmnParser, documents: list[_Document], problems: set[Problem]
) -> None:
    by_label = {doc.label: doc for doc in documents}
    for process_id in parser.get_process_ids():
        doc = by_label.get(parser.process_parsers[process_id].filename or "")
        if doc is None:
            continue
        for load in (parser.get_spec, parser.get_subprocess_specs):
            try:
                load(process_id)
            except Exception as exc:  # noqa: BLE001 - every parser failure becomes a problem
                problems.update(_problems_from_exception(exc, documents, doc, process_id))
    for doc in documents:
        if doc.kind != "bpmn":
            continue
        for call in _bpmn(doc, ["callActivity"]):
            called = call.get("calledElement")
            if called and called not in parser.process_parsers:
                problems.add(_missing_called_process(doc, call, called))


def _missing_called_process(doc: _Document, call: Any, called: str) -> Problem:
    return doc.problem(call, f"called process '{called}' is not defined in any validated file")


def _problems_from_exception(
    exc: Exception, documents: list[_Document], doc: _Document, process_id: str | None
) -> list[Problem]:
    message = _message(exc)
    if not isinstance(exc, ValidationException):
        message = f"{type(exc).__name__}: {message}"
    element_id = getattr(exc, "id", "") or ""
    if not element_id:
        missing = _PROCESS_NOT_FOUND.match(message)
        if missing:  # raised without a node by get_subprocess_specs: point at the call(s)
            found = [
                _missing_called_process(other, call, missing.group(1))
                for other in documents
                if other.kind == "bpmn"
                for call in _bpmn(other, ["callActivity"])
                if call.get("calledElement") == missing.group(1)
            ]
            if found:
                return found
    file_name = getattr(exc, "file_name", "") or ""
    target = next((d for d in documents if d.label == file_name), None)
    if target is None or (element_id and element_id not in target.by_id):
        candidates = [doc, *documents]
        target = next((d for d in candidates if element_id in d.by_id), doc)
    if not element_id:
        element_id = process_id or "-"
    line = getattr(exc, "line_number", None)
    if not isinstance(line, int) or not line:
        line = target.line_of_id(element_id) if element_id != "-" else 0
    return [Problem(target.label, line, element_id, message)]


# --- checks 4 to 10 on a BPMN document -------------------------------------------------------


def _check_handlers(doc: _Document, handler_names: frozenset[str]) -> Iterator[Problem]:
    for operator in doc.xpath(".//spiffworkflow:serviceTaskOperator"):
        name = operator.get("id")
        if name not in handler_names:
            yield doc.problem(
                operator, f"service task operator '{name}' is not a registered handler"
            )


def _check_guards(
    doc: _Document, guard_names: frozenset[str], validator_names: frozenset[str]
) -> Iterator[Problem]:
    """`guard` and `validate` task properties name registered guards and validators."""
    for prop in doc.xpath(".//spiffworkflow:property[@name='guard' or @name='validate']"):
        is_guard = prop.get("name") == "guard"
        if prop.get("value") not in (guard_names if is_guard else validator_names):
            kind = "task guard" if is_guard else "validator"
            yield doc.problem(prop, f"{kind} '{prop.get('value')}' is not registered")


def _check_forms(doc: _Document) -> Iterator[Problem]:
    # Any element's form property (deploy stores the forms of every task, not only user tasks).
    for prop in doc.root.iter(f"{{{SPIFF_NS}}}property"):
        if prop.get("name") in _FORM_PROPERTIES:
            error = _form_error(doc.path.parent, prop.get("name"), prop.get("value") or "")
            if error:
                yield doc.problem(prop, error)


def _form_error(base: Path, property_name: str, value: str) -> str | None:
    if not value.strip():
        return f"{property_name} is empty"
    outside = definition_checks.form_reference_problem(base, property_name, value)
    if outside:
        return outside
    form_path = base / value
    if not form_path.is_file():
        return f"{property_name} '{value}' not found ({form_path})"
    try:
        content = json.loads(form_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        return f"{property_name} '{value}' cannot be read: {err}"
    except json.JSONDecodeError as err:
        return f"{property_name} '{value}' is not valid JSON: {err.msg} at line {err.lineno}"
    if property_name != "formJsonSchemaFilename":
        return None
    if not isinstance(content, dict | bool):
        return f"{property_name} '{value}' is not a JSON Schema (expected an object)"
    try:
        validator_for(content).check_schema(content)
    except SchemaError as err:
        where = "/".join(str(part) for part in err.path) or "(root)"
        return f"{property_name} '{value}' is not a valid JSON Schema at {where}: {err.message}"
    return None


def _check_lanes(doc: _Document) -> Iterator[Problem]:
    for lane in _bpmn(doc, ["lane"]):
        name = (lane.get("name") or "").strip()
        if name and role_for_lane(name) is None:
            yield doc.problem(
                lane,
                f"lane name '{name}' is not a known role (use a role id such as 'market' "
                "or its Chinese name such as '市场部')",
            )


def _check_reserved_ids(doc: _Document) -> Iterator[Problem]:
    for elem in doc.root.iter():
        if isinstance(elem.tag, str) and elem.get("id") in RESERVED_IDS:
            yield Problem(
                doc.label,
                doc.start_line(elem),
                elem.get("id"),
                f"id '{elem.get('id')}' is reserved by SpiffWorkflow (it would silently replace "
                "an internal task); rename it",
            )


def _check_names(doc: _Document) -> Iterator[Problem]:
    for elem in _bpmn(doc, FLOW_NODE_TAGS | {"process", "lane", "participant"}):
        if not (elem.get("name") or "").strip():
            yield doc.problem(elem, f"{etree.QName(elem).localname} has no name")


def _check_diagram(doc: _Document) -> Iterator[Problem]:
    planes = doc.xpath(".//bpmndi:BPMNPlane")
    if not planes:
        yield Problem(
            doc.label,
            doc.start_line(doc.root),
            "-",
            "no diagram (bpmndi:BPMNDiagram with a BPMNPlane): bpmn.io cannot open this file",
        )
        return
    shown = {plane.get("bpmnElement") for plane in planes}
    for collaboration in _bpmn(doc, ["collaboration"]):
        if collaboration.get("id") in shown:
            shown.update(
                participant.get("processRef") for participant in _participants(collaboration)
            )
    for process in doc.xpath("./bpmn:process"):
        if process.get("id") not in shown:
            yield doc.problem(
                process, "no diagram plane shows this process (nor a collaboration containing it)"
            )
    shapes = {shape.get("bpmnElement") for shape in doc.xpath(".//bpmndi:BPMNShape")}
    edges = {edge.get("bpmnElement") for edge in doc.xpath(".//bpmndi:BPMNEdge")}
    for elem in _bpmn(doc, FLOW_NODE_TAGS | {"lane", "participant"}):
        if elem.get("id") not in shapes:
            yield doc.problem(elem, "no diagram shape (bpmndi:BPMNShape)")
    for flow in _bpmn(doc, ["sequenceFlow"]):
        if flow.get("id") not in edges:
            yield doc.problem(flow, "no diagram edge (bpmndi:BPMNEdge)")


def _participants(collaboration: Any) -> list[Any]:
    return collaboration.findall(f"{{{BPMN_NS}}}participant")


def _check_bpmn_expressions(doc: _Document) -> Iterator[Problem]:
    for xpath, mode, label in _BPMN_TEXT_SOURCES:
        for elem in doc.xpath(xpath):
            if elem.text and elem.text.strip():
                problem = _restricted_text(doc, elem, elem.text, mode, label)
                if problem:
                    yield problem
    for param in doc.xpath(".//spiffworkflow:serviceTaskOperator//spiffworkflow:parameter"):
        value = param.get("value")
        if value is not None:
            try:
                check_source(value.strip(), "eval")
            except ScriptRestrictionError as err:
                yield doc.problem(param, f"service parameter '{param.get('id')}': {err}")


def _restricted_text(
    doc: _Document, elem: Any, source: str, mode: str, label: str
) -> Problem | None:
    """Check a script (exec, run as written) or an expression (eval, run stripped)."""
    offset = 0
    if mode == "eval":
        stripped = source.strip()
        offset = source[: len(source) - len(source.lstrip())].count("\n")
        source = stripped
    try:
        check_source(source, mode)
    except ScriptRestrictionError as err:
        # The text starts on the line where the element's start tag ends (lxml's sourceline).
        line = (elem.sourceline or 0) + offset + max(err.lineno or 1, 1) - 1
        return doc.problem(elem, f"{label}: {err}", line=line)
    return None


def _check_extensions(doc: _Document) -> Iterator[Problem]:
    for elem, message in definition_checks.extension_problems(doc.root):
        yield doc.problem(elem, message)


_BPMN_CHECKS: tuple[Callable[[_Document], Iterator[Problem]], ...] = (
    _check_extensions,
    _check_forms,
    _check_lanes,
    _check_reserved_ids,
    _check_names,
    _check_diagram,
    _check_bpmn_expressions,
)


# --- check 10 on a DMN document --------------------------------------------------------------


def _check_dmn_expressions(doc: _Document) -> Iterator[Problem]:
    dmn = etree.QName(doc.root).namespace
    ns = {"dmn": dmn}
    for table in doc.root.iterfind(".//dmn:decisionTable", namespaces=ns):
        input_expressions: list[str] = []
        for column in table.findall("dmn:input", namespaces=ns):
            text = column.find("dmn:inputExpression/dmn:text", namespaces=ns)
            expression = (text.text or "").strip() if text is not None else ""
            problem = (
                _restricted_text(doc, text, text.text, "eval", "input expression")
                if expression
                else None
            )
            if problem:
                yield problem
            # Entries are checked against a stand-in when the input itself is refused.
            input_expressions.append(expression if expression and not problem else "dmninputexpr")
        for rule in table.findall("dmn:rule", namespaces=ns):
            for index, entry in enumerate(rule.findall("dmn:inputEntry", namespaces=ns)):
                text = entry.find("dmn:text", namespaces=ns)
                if text is None or (text.text or "").strip() in ("", "-"):
                    continue
                column_input = (
                    input_expressions[index] if index < len(input_expressions) else "dmninputexpr"
                )
                evaluated = _dmn_input_entry_expression(column_input, text.text)
                label = f"input entry (evaluated as {evaluated.strip()!r})"
                problem = _restricted_text(doc, text, evaluated, "eval", label)
                if problem:
                    yield problem
            for entry in rule.findall("dmn:outputEntry", namespaces=ns):
                text = entry.find("dmn:text", namespaces=ns)
                if text is not None and (text.text or "").strip():
                    problem = _restricted_text(doc, text, text.text, "eval", "output entry")
                    if problem:
                        yield problem


def _dmn_input_entry_expression(input_expression: str, entry: str) -> str:
    """The expression SpiffWorkflow's DMNEngine.evaluate actually evaluates for an input entry."""
    if _DMN_QUESTION_MARK.search(entry):
        return _DMN_QUESTION_MARK.sub("dmninputexpr", entry)
    try:
        ast.parse(entry)  # DMNEngine.needs_eq: a complete expression is compared with ==
    except SyntaxError:
        return input_expression + entry  # an operator fragment such as ">= 80"
    return f"({input_expression}) == ({entry})"
