"""Checks 4 to 11 of `certflow validate` on one document: handlers, guards and validators
registered, forms, lanes, reserved ids, names, diagram interchange, restricted scripts and
expressions (BPMN and DMN), allowlisted extensions. Each yields Problems."""

import ast
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for
from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from certflow.roles import role_for_lane
from engine import definition_checks
from engine.event_checks import EVENT_CHECKS
from engine.form_checks import CHECKS_KEY
from engine.restricted import ScriptRestrictionError, check_source
from engine.validation_document import (
    BPMN_NS,
    FLOW_NODE_TAGS,
    RESERVED_IDS,
    SPIFF_NS,
    Document,
    Problem,
    bpmn_elements,
)

_FORM_PROPERTIES = ("formJsonSchemaFilename", "formUiSchemaFilename")
_DMN_QUESTION_MARK = re.compile(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)")  # as DMNEngine

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


def check_handlers(doc: Document, handler_names: frozenset[str]) -> Iterator[Problem]:
    for operator in doc.xpath(".//spiffworkflow:serviceTaskOperator"):
        name = operator.get("id")
        if name not in handler_names:
            yield doc.problem(
                operator, f"service task operator '{name}' is not a registered handler"
            )


def check_guards(
    doc: Document, guard_names: frozenset[str], validator_names: frozenset[str]
) -> Iterator[Problem]:
    """`guard` and `validate` task properties name registered guards and validators."""
    for prop in doc.xpath(".//spiffworkflow:property[@name='guard' or @name='validate']"):
        is_guard = prop.get("name") == "guard"
        if prop.get("value") not in (guard_names if is_guard else validator_names):
            kind = "task guard" if is_guard else "validator"
            yield doc.problem(prop, f"{kind} '{prop.get('value')}' is not registered")


def check_form_checks(doc: Document, check_names: frozenset[str]) -> Iterator[Problem]:
    """The checks a task's form declares (`"x-checks"`) are registered form checks."""
    for prop in doc.xpath(".//spiffworkflow:property[@name='formJsonSchemaFilename']"):
        try:
            schema = json.loads((doc.path.parent / (prop.get("value") or "")).read_text("utf-8"))
        except (OSError, ValueError):
            continue  # _check_forms reports an unreadable form
        declared = schema.get(CHECKS_KEY, []) if isinstance(schema, dict) else []
        if not isinstance(declared, list):
            yield doc.problem(prop, f"form '{prop.get('value')}': {CHECKS_KEY} must be a list")
            continue
        for name in declared:
            if name not in check_names:
                yield doc.problem(
                    prop, f"form '{prop.get('value')}': form check {name!r} is not registered"
                )


def _check_forms(doc: Document) -> Iterator[Problem]:
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


def _check_lanes(doc: Document) -> Iterator[Problem]:
    for lane in bpmn_elements(doc, ["lane"]):
        name = (lane.get("name") or "").strip()
        if name and role_for_lane(name) is None:
            yield doc.problem(
                lane,
                f"lane name '{name}' is not a known role (use a role id such as 'market' "
                "or its Chinese name such as '市场部')",
            )


def _check_reserved_ids(doc: Document) -> Iterator[Problem]:
    for elem in doc.root.iter():
        if isinstance(elem.tag, str) and elem.get("id") in RESERVED_IDS:
            yield Problem(
                doc.label,
                doc.start_line(elem),
                elem.get("id"),
                f"id '{elem.get('id')}' is reserved by SpiffWorkflow (it would silently replace "
                "an internal task); rename it",
            )


def _check_names(doc: Document) -> Iterator[Problem]:
    for elem in bpmn_elements(doc, FLOW_NODE_TAGS | {"process", "lane", "participant"}):
        if not (elem.get("name") or "").strip():
            yield doc.problem(elem, f"{etree.QName(elem).localname} has no name")


def _check_diagram(doc: Document) -> Iterator[Problem]:
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
    for collaboration in bpmn_elements(doc, ["collaboration"]):
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
    for elem in bpmn_elements(doc, FLOW_NODE_TAGS | {"lane", "participant"}):
        if elem.get("id") not in shapes:
            yield doc.problem(elem, "no diagram shape (bpmndi:BPMNShape)")
    for flow in bpmn_elements(doc, ["sequenceFlow"]):
        if flow.get("id") not in edges:
            yield doc.problem(flow, "no diagram edge (bpmndi:BPMNEdge)")


def _participants(collaboration: Any) -> list[Any]:
    return collaboration.findall(f"{{{BPMN_NS}}}participant")


def _check_bpmn_expressions(doc: Document) -> Iterator[Problem]:
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
    doc: Document, elem: Any, source: str, mode: str, label: str
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


def _check_task_durations(doc: Document) -> Iterator[Problem]:
    """`dueIn` / `followUpIn` are ISO 8601 durations SpiffWorkflow's parser reads (the task
    index computes the due and follow-up dates with it: a bad one would fail the task's step)."""
    for prop in doc.xpath(".//spiffworkflow:property[@name='dueIn' or @name='followUpIn']"):
        value = (prop.get("value") or "").strip()
        try:
            parsed = TimerEventDefinition.parse_iso_duration(value) if value else {}
        except Exception:  # SpiffWorkflow raises a bare Exception('Invalid duration')
            parsed = {}
        if not parsed or not any(parsed.values()):
            yield doc.problem(
                prop,
                f"{prop.get('name')} '{value}' is not an ISO 8601 duration (e.g. P5D, PT4H)",
            )


def _check_extensions(doc: Document) -> Iterator[Problem]:
    for elem, message in definition_checks.extension_problems(doc.root):
        yield doc.problem(elem, message)


BPMN_CHECKS: tuple[Callable[[Document], Iterator[Problem]], ...] = (
    _check_extensions,
    _check_forms,
    _check_lanes,
    _check_task_durations,
    _check_reserved_ids,
    _check_names,
    _check_diagram,
    _check_bpmn_expressions,
    *EVENT_CHECKS,  # message variables, timer values (engine/event_checks.py)
)


# --- check 10 on a DMN document --------------------------------------------------------------


def check_dmn_expressions(doc: Document) -> Iterator[Problem]:
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
