"""What a draft does to the rules, for the review page and the modeler (issue 12): the draft's
validation result and its traceability effect (domain/traceability_effect.py) — the deployed
diagrams with the draft's base files against the same with the draft's files — and the rules
catalogue as the properties panel offers it (规则第x.y条 and the rule's text; nobody types an id).
"""

import posixpath
from dataclasses import dataclass
from typing import Any

import yaml
from flask_babel import pgettext
from lxml import etree

from certflow.db import db
from domain.rule_catalogue import RULES_FILE, Rule, load_rules, summary_zh
from domain.traceability_effect import TraceabilityEffect, traceability_effect
from domain.traceability_view import Diagram, diagram_from_xml
from engine.sources import version_sources
from webapp.i18n import current_language
from webapp.quality.rules import TRACEABILITY, deployed_diagrams, rule_label


@dataclass(frozen=True)
class DraftEffect:
    problems: list[dict[str, Any]] | None  # certflow validate on the draft: [] ok; None: not run
    effect: TraceabilityEffect | None  # None: a diagram of the draft cannot be read


def traceability_data() -> dict:
    return yaml.safe_load(TRACEABILITY.read_text(encoding="utf-8")) or {}


def _diagrams(files: dict[str, str], process_id: str, main_path: str) -> dict[str, Diagram]:
    found = {}
    for path, text in files.items():
        if path.endswith((".bpmn", ".dmn")):
            file = posixpath.basename(path)
            owner = process_id if path == main_path else None
            found[file] = diagram_from_xml(file, text, owner)
    return found


def effect_between(
    before_files: dict[str, str], after_files: dict[str, str], process_id: str, main_path: str
) -> TraceabilityEffect | None:
    """The effect on every rule of going from one set of a process's files to another (a rule
    keeping an element on another deployed diagram is not left without one); None when a
    diagram cannot be read."""
    deployed = {d.file: d for d in deployed_diagrams()[0]}
    try:
        before = _diagrams(before_files, process_id, main_path)
        after = _diagrams(after_files, process_id, main_path)
    except etree.XMLSyntaxError:
        return None
    return traceability_effect(
        load_rules(RULES_FILE),
        traceability_data(),
        {**deployed, **before}.values(),
        {**deployed, **after}.values(),
    )


def draft_effect(draft, problems: list[dict[str, Any]]) -> DraftEffect:
    if draft.base_version is None:
        base_files = draft.files
    else:
        base_files = version_sources(db.session, draft.process_id, draft.base_version).files
    return DraftEffect(
        problems, effect_between(base_files, draft.files, draft.process_id, draft.main_path)
    )


def rule_summary(rule: Rule, traceability: dict) -> str:
    """In Chinese the rule's own words; in English the traceability data's summary."""
    if current_language() == "en":
        entry = (traceability.get("requirements") or {}).get(rule.id) or {}
        return entry.get("summary") or summary_zh(rule)
    return summary_zh(rule)


def panel_rules(main_path: str) -> dict[str, Any]:
    """For the properties panel: every rule (label, text) and, by element id of the draft's
    diagram, the rules traceability.yaml maps to it (they are not edited in the diagram)."""
    traceability = traceability_data()
    file = posixpath.basename(main_path)
    mapped: dict[str, list[str]] = {}
    for rule_id, entry in (traceability.get("requirements") or {}).items():
        for ref in (entry or {}).get("elements") or []:
            ref_file, _, element_id = ref.partition("#")
            if ref_file == file:
                mapped.setdefault(element_id, []).append(rule_id)
    return {
        "catalogue": [
            {
                "id": rule.id,
                "label": rule_label(rule.id),
                "text": rule_summary(rule, traceability),
            }
            for rule in load_rules(RULES_FILE)
        ],
        "mapped": mapped,
        # For cited ids the catalogue lists by their items (R-6.2.2 for R-6.2.2a and b).
        "clauseLabel": pgettext("rule", "Rule %(clause)s", clause="{clause}"),
        "itemLabel": pgettext(
            "rule", "Rule %(clause)s (%(item)s)", clause="{clause}", item="{item}"
        ),
    }
