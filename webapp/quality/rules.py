"""The rules catalogue section of the quality workspace (issue 13, "Rules traceability, visible"):

* `/quality/rules` — every rule (its number, the Chinese text, a summary in the page's language)
  against the elements of the deployed diagrams, handlers, forms and tests that implement it;
  coverage figures and flags (domain/traceability_view.py).
* `/quality/rules/diagram/<process>` — the deployed diagram in the vendored bpmn-js viewer with
  each element's rules as overlays; `?rule=R-8.7` highlights that rule's elements
  (static/js/rules_diagram.js; no inline script).
* `/quality/rules/diagram/<process>/source.bpmn` — the deployed BPMN it shows.

Rules are shown as 规则第x.y条 / Rule x.y, never as raw values."""

import json
import posixpath
import re
from collections import OrderedDict
from hashlib import sha256

import yaml
from flask import Response, abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext, pgettext

from certflow.db import db
from domain.rule_catalogue import ROOT, RULES_FILE, load_rules, summary_zh
from domain.traceability_view import Diagram, TraceabilityView, build_view, diagram_from_xml
from engine.sources import version_sources
from webapp.auth import roles_required
from webapp.i18n import current_language
from webapp.process_texts import localize_bpmn, ptext
from webapp.quality import QUALITY_ROLES, bp, section
from webapp.runtime import get_engine
from webapp.security import extend_csp

TRACEABILITY = ROOT / "processes" / "traceability.yaml"
RULE_PARAM = re.compile(r"^R-\d+(?:\.\d+)*[a-z]?$")

section(
    "quality.rules",
    lazy_gettext("Rules traceability"),
    lazy_gettext(
        "Every rule against the diagram steps, handlers, forms and tests that implement it, "
        "on the deployed diagrams; coverage and gaps."
    ),
    order=20,
)


def rule_label(rule_id: str) -> str:
    """规则第8.7条 / Rule 8.7; 规则第6.2.2条（a） / Rule 6.2.2 (a)."""
    match = re.fullmatch(r"R-([\d.]+)([a-z]?)", rule_id or "")
    if match is None:
        return rule_id or ""
    clause, item = match.groups()
    if item:
        return pgettext("rule", "Rule %(clause)s (%(item)s)", clause=clause, item=item)
    return pgettext("rule", "Rule %(clause)s", clause=clause)


bp.add_app_template_filter(rule_label)


# Parsed diagrams by content hash (a deployed file never changes), the latest PARSED_KEPT: every
# deployed version would otherwise stay in memory for the process's life.
_PARSED: OrderedDict[tuple, Diagram] = OrderedDict()
PARSED_KEPT = 128


def _parsed(file: str, content: bytes, process_id: str | None, version: int | None) -> Diagram:
    key = (file, sha256(content).hexdigest(), process_id, version)
    found = _PARSED.get(key)
    if found is None:
        found = _PARSED[key] = diagram_from_xml(file, content, process_id, version)
        while len(_PARSED) > PARSED_KEPT:
            _PARSED.popitem(last=False)
    return found


def humanized_test(reference: str) -> str:
    """tests/x.py::test_review_refuses_a_false_confirmation → "review refuses a false
    confirmation": what the test shows, in its own words."""
    name = reference.rpartition("::")[2].removeprefix("test_")
    return name.replace("_", " ")


def deployed_diagrams() -> tuple[list[Diagram], dict[str, tuple[int, str]]]:
    """The BPMN/DMN files of the latest deployed versions (by file name, as traceability.yaml
    names them) and {process id: (version, stored path of its BPMN)}."""
    diagrams: dict[str, Diagram] = {}
    processes: dict[str, tuple[int, str]] = {}
    extra: dict[str, bytes] = {}
    for process in get_engine().latest_processes():
        sources = version_sources(db.session, process.process_id)
        processes[process.process_id] = (sources.version, sources.main_path)
        file = posixpath.basename(sources.main_path)
        content = sources.files[sources.main_path].encode("utf-8")
        diagrams[file] = _parsed(file, content, process.process_id, sources.version)
        for path, text in sources.files.items():
            if path.endswith((".bpmn", ".dmn")):
                extra.setdefault(posixpath.basename(path), text.encode("utf-8"))
    for file, content in extra.items():  # decision tables, processes only ever called
        if file not in diagrams:
            diagrams[file] = _parsed(file, content, None, None)
    return list(diagrams.values()), processes


def form_titles() -> dict[str, str]:
    """{form path as traceability.yaml names it: its title in the page's language}."""
    titles = {}
    for path in sorted((ROOT / "processes" / "forms").glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        titles[f"forms/{path.name}"] = ptext(schema.get("title") or "")
    return titles


def current_view() -> tuple[TraceabilityView, dict[str, tuple[int, str]]]:
    diagrams, processes = deployed_diagrams()
    traceability = yaml.safe_load(TRACEABILITY.read_text(encoding="utf-8"))
    return build_view(load_rules(RULES_FILE), traceability, diagrams), processes


def flag_place(view: TraceabilityView, flag, names: dict[str, str]) -> str:
    """Where a flag is, in words: the step by its name and the process by its name."""
    diagram = view.diagrams.get(flag.file or "")
    if diagram is None:
        return ""
    process = names.get(diagram.process_id or "", "")
    element = diagram.elements.get(flag.element_id or "")
    step = ptext(element.name) if element is not None else ""
    if step and process:
        return _("step “%(step)s” of “%(process)s”", step=step, process=process)
    if process:
        return _("the diagram “%(process)s”", process=process)
    return step


def step_names(row) -> list[str]:
    """The names of the rule's steps on the deployed diagrams, each once, in the page's language
    (pools, lanes and flows are no steps; their overlays show on the diagram)."""
    names: list[str] = []
    for link in row.present_elements:
        name = ptext(link.name) if link.is_step else ""
        if name and name not in names:
            names.append(name)
    return names


def summary(row) -> str:
    """In Chinese the rule's own words (its clause title or first sentence); in English the
    catalogue's summary."""
    return row.summary if current_language() == "en" else summary_zh(row.rule)


@bp.get("/rules")
@roles_required(*QUALITY_ROLES)
def rules():
    view, processes = current_view()
    names = {p.process_id: ptext(p.name) for p in get_engine().latest_processes()}
    return render_template(
        "quality/rules.html",
        view=view,
        summary=summary,
        process_names=names,
        processes=processes,
        form_titles=form_titles(),
        flag_place=lambda flag: flag_place(view, flag, names),
        humanized_test=humanized_test,
        step_names=step_names,
    )


@bp.get("/rules/diagram/<process_id>")
@roles_required(*QUALITY_ROLES)
def rules_diagram(process_id: str):
    view, processes = current_view()
    if process_id not in processes:
        abort(404)
    chosen = request.args.get("rule", "")
    if not RULE_PARAM.match(chosen) or view.row(chosen) is None:
        chosen = ""
    marks = view.element_rules(process_id)
    labels = {element: [rule_label(r) for r in rules] for element, rules in marks.items()}
    on_diagram = [row for row in view.rows if process_id in row.processes]
    highlighted = sorted(e for e, rules in marks.items() if chosen in rules)
    names = {p.process_id: ptext(p.name) for p in get_engine().latest_processes()}
    extend_csp("style-src", "'unsafe-inline'")  # bpmn-js styles its SVG inline
    return render_template(
        "quality/rules_diagram.html",
        process_id=process_id,
        process_name=names.get(process_id, ""),
        process_names=names,
        version=processes[process_id][0],
        labels=labels,
        element_rules=marks,
        rows=on_diagram,
        chosen=view.row(chosen) if chosen else None,
        highlighted=highlighted,
        summary=summary,
    )


@bp.get("/rules/diagram/<process_id>/source.bpmn")
@roles_required(*QUALITY_ROLES)
def rules_diagram_source(process_id: str):
    if process_id not in {p.process_id for p in get_engine().latest_processes()}:
        abort(404)
    sources = version_sources(db.session, process_id)
    content = sources.files[sources.main_path].encode("utf-8")
    return Response(localize_bpmn(content), mimetype="application/xml")
