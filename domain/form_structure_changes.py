"""What changed in a form's structure between two versions (issue 12, the review of a draft and
the comparison of two versions, ISO/IEC 17065 8.3: changes identified): a field's type, its
choices (enum / const options), its rules (bounds, lengths, patterns, formats), the checks and
option sources it declares (x-checks, x-options) and the order of the fields. Texts and required
flags are domain/form_text_edit.text_changes; added and removed fields are listed there too."""

import json
from collections.abc import Mapping
from typing import Any

from domain.form_text_edit import TextChange, _branches, _walk, option_key

CHECKS = "x-checks"
OPTIONS = "x-options"
RULE_KEYS = (
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minLength",
    "maxLength", "pattern", "format", "minItems", "maxItems", "uniqueItems", "const", "default",
)  # fmt: skip


def _shown(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _choices(node: Mapping[str, Any]) -> list[str]:
    enum = node.get("enum")
    if enum is None and isinstance(node.get("items"), dict):
        enum = node["items"].get("enum")
    if isinstance(enum, list):
        return [option_key(value) for value in enum]
    return [option_key(branch["const"]) for branch in _branches(node)]


def _rules(node: Mapping[str, Any]) -> dict[str, Any]:
    return {key: node[key] for key in RULE_KEYS if key in node}


def _field_changes(path: str, was: Mapping[str, Any], now: Mapping[str, Any]) -> list[TextChange]:
    changes = []
    for what, read in (
        ("type", lambda n: n.get("type")),
        ("choices", _choices),
        ("rules", _rules),
        ("checks", lambda n: n.get(CHECKS)),
        ("options_source", lambda n: n.get(OPTIONS)),
    ):
        before, after = read(was), read(now)
        if before != after:
            changes.append(TextChange(path, what, _shown(before or None), _shown(after or None)))
    return changes


def structure_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[TextChange]:
    """The structural differences of the fields present in both versions, the form's own
    x-checks, and the order of the fields when it changed."""
    changes = []
    if before.get(CHECKS) != after.get(CHECKS):
        changes.append(
            TextChange("", "checks", _shown(before.get(CHECKS)), _shown(after.get(CHECKS)))
        )
    old = {path: node for path, node, _parent in _walk(before)}
    new = {path: node for path, node, _parent in _walk(after)}
    for path, node in new.items():
        if path in old:
            changes.extend(_field_changes(path, old[path], node))
    kept_old = [path for path in old if path in new]
    kept_new = [path for path in new if path in old]
    if kept_old != kept_new:
        changes.append(TextChange("", "order", ", ".join(kept_old), ", ".join(kept_new)))
    return changes
