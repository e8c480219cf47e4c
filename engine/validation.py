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

import re
from collections.abc import Collection, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from engine.parsing import make_parser
from engine.registry import HandlerRegistry
from engine.validation_checks import (
    BPMN_CHECKS,
    check_dmn_expressions,
    check_form_checks,
    check_guards,
    check_handlers,
)
from engine.validation_document import (
    Document,
    Problem,
    bpmn_elements,
    exception_message,
    load_document,
)
from engine.validation_params import check_parameters

__all__ = ["Problem", "discover_files", "validate_paths"]


_PROCESS_NOT_FOUND = re.compile(r"The process '(.*?)' was not found")


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
    handler_names: Collection[str] = frozenset(),
    guard_names: Collection[str] = frozenset(),
    validator_names: Collection[str] = frozenset(),
    *,
    registry: HandlerRegistry | None = None,
) -> list[Problem]:
    """Run every check over all files under `paths`; problems deduplicated, by file and line.
    Operators, guards and validators are those of `registry` when given, else the names."""
    check_names = None
    if registry is not None:
        handler_names = registry.operators()
        guard_names, validator_names = registry.guards(), registry.validators()
        check_names = registry.form_checks()
    problems: set[Problem] = set()
    loaded = (load_document(path, problems) for path in discover_files(paths))
    documents = [doc for doc in loaded if doc]
    documents = [doc for doc in documents if _schema_valid(doc, problems)]

    parse_problems: set[Problem] = set()
    parser = make_parser()
    _add_to_parser(parser, documents, parse_problems)
    _check_processes(parser, documents, parse_problems)

    handlers = frozenset(handler_names)
    for doc in documents:
        if doc.kind == "bpmn":
            for check in BPMN_CHECKS:
                problems.update(check(doc))
            problems.update(check_handlers(doc, handlers))
            problems.update(check_guards(doc, frozenset(guard_names), frozenset(validator_names)))
            if check_names is not None:
                problems.update(check_form_checks(doc, check_names))
            if registry is not None:
                problems.update(check_parameters(doc, registry))
        else:
            problems.update(check_dmn_expressions(doc))

    # SpiffWorkflow sometimes refuses what a check above already reported (a malformed DMN
    # output entry, say): keep one problem per file, line and element.
    located = {(p.file, p.line, p.element_id) for p in problems}
    problems.update(p for p in parse_problems if (p.file, p.line, p.element_id) not in located)
    return sorted(problems, key=lambda p: (p.file, p.line, p.element_id, p.message))


@cache
def _dmn_validator(schema_path: str) -> BpmnValidator:
    return BpmnValidator(schema_path)


def _schema_valid(doc: Document, problems: set[Problem]) -> bool:
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
        problems.add(Problem(doc.label, line, "-", f"XSD: {exception_message(exc)}"))
        return False
    return True


# --- check 3: SpiffWorkflow parser -----------------------------------------------------------


def _add_to_parser(
    parser: SpiffBpmnParser, documents: list[Document], problems: set[Problem]
) -> None:
    decisions: dict[str, Document] = {}
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
    parser: SpiffBpmnParser, documents: list[Document], problems: set[Problem]
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
        for call in bpmn_elements(doc, ["callActivity"]):
            called = call.get("calledElement")
            if called and called not in parser.process_parsers:
                problems.add(_missing_called_process(doc, call, called))


def _missing_called_process(doc: Document, call: Any, called: str) -> Problem:
    return doc.problem(call, f"called process '{called}' is not defined in any validated file")


def _problems_from_exception(
    exc: Exception, documents: list[Document], doc: Document, process_id: str | None
) -> list[Problem]:
    message = exception_message(exc)
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
                for call in bpmn_elements(other, ["callActivity"])
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
