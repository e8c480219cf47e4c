"""Editing a form's texts and simple properties in a studio draft (issue 12, "Forms").

A process owner changes what the person doing the task reads — the form's title and
description, each field's title, description and whether it is required, and the titles of a
choice's options — never the schema's structure (types, conditions, x-checks, x-options), so
the rules the form declares stay as reviewed. Whether the edited form is still a valid schema
whose references resolve is decided by `certflow validate` (engine/sources.validate_sources),
not here. ISO/IEC 17065 §8.3: the change goes through the draft's review like a diagram change.
"""

from collections.abc import Iterator, Mapping
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any

from domain.errors import RuleViolation

RULE = "ISO/IEC 17065 8.3"
MAX_TITLE = 200
MAX_DESCRIPTION = 4000
TEXT_KEYS = ("title", "description")
# What a refusal says (its field names where); the studio shows each in the page's language.
NOT_TEXT = "a text is expected"
NEEDED = "the person doing the task needs it"
TOO_LONG = "too long"
NO_FIELD = "the form has no such field"
NO_OPTION = "the field has no such option"
NOT_FLAG = "yes or no"


@dataclass(frozen=True)
class Option:
    key: str  # the value as text (what the edit names it by)
    value: Any
    title: str


@dataclass(frozen=True)
class FieldTexts:
    path: str  # property names joined by "/" (an array's items are implicit)
    title: str
    description: str
    required: bool | None  # None: the field has no enclosing object list to be required in
    options: tuple[Option, ...] = field(default_factory=tuple)


def option_key(value: Any) -> str:
    return (
        "null" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
    )


def _branches(node: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The option branches of a choice (``oneOf``/``anyOf`` of ``const`` with a title)."""
    for key in ("oneOf", "anyOf"):
        branches = node.get(key)
        if (
            isinstance(branches, list)
            and branches
            and all(isinstance(b, dict) and "const" in b for b in branches)
        ):
            return branches
    items = node.get("items")
    return _branches(items) if isinstance(items, dict) else []


def _children(node: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]] | None:
    """The properties of an object node (or of an array's object items) and its required list."""
    if isinstance(node.get("properties"), dict):
        return node["properties"], node.get("required") or []
    items = node.get("items")
    if isinstance(items, dict) and isinstance(items.get("properties"), dict):
        return items["properties"], items.get("required") or []
    return None


def _walk(node: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, dict, dict]]:
    """(path, property node, its parent object node) of every field, depth first."""
    found = _children(node)
    if found is None:
        return
    properties, _ = found
    parent = node if isinstance(node.get("properties"), dict) else node["items"]
    for name, sub in properties.items():
        if not isinstance(sub, dict):
            continue
        path = f"{prefix}{name}"
        yield path, sub, parent
        yield from _walk(sub, path + "/")


def text_fields(schema: Mapping[str, Any]) -> list[FieldTexts]:
    """What the studio's form editor offers, in the form's order."""
    rows = []
    for path, node, parent in _walk(schema):
        name = path.rsplit("/", 1)[-1]
        required = parent.get("required")
        rows.append(
            FieldTexts(
                path=path,
                title=str(node.get("title") or ""),
                description=str(node.get("description") or ""),
                required=name in required if isinstance(required, list) else None,
                options=tuple(
                    Option(option_key(b["const"]), b["const"], str(b.get("title") or ""))
                    for b in _branches(node)
                ),
            )
        )
    return rows


def _text(value: Any, where: str, limit: int, *, needed: bool) -> str:
    if not isinstance(value, str):
        raise RuleViolation(RULE, NOT_TEXT, field=where)
    value = value.strip()
    if needed and not value:
        raise RuleViolation(RULE, NEEDED, field=where)
    if len(value) > limit:
        raise RuleViolation(RULE, TOO_LONG, field=where)
    return value


def _set_text(node: dict, key: str, value: str) -> None:
    if value:
        node[key] = value
    else:
        node.pop(key, None)  # an emptied description is removed, not left as ""


def apply_edit(schema: Mapping[str, Any], edit: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `schema` with the edit's texts and required flags. `edit`: optional "title",
    "description" and "fields" {path: {"title", "description", "required", "options":
    {option key: title}}}. Unknown fields or options and missing titles are refused, naming
    the field (a RuleViolation whose field is the path, e.g. ``scope/title``)."""
    result = deepcopy(dict(schema))
    if "title" in edit:
        _set_text(result, "title", _text(edit["title"], "title", MAX_TITLE, needed=True))
    if "description" in edit:
        text = _text(edit["description"], "description", MAX_DESCRIPTION, needed=False)
        _set_text(result, "description", text)
    nodes = {path: (node, parent) for path, node, parent in _walk(result)}
    for path, changes in (edit.get("fields") or {}).items():
        if path not in nodes or not isinstance(changes, Mapping):
            raise RuleViolation(RULE, NO_FIELD, field=str(path))
        node, parent = nodes[path]
        _edit_field(path, node, parent, changes)
    return result


def _edit_field(path: str, node: dict, parent: dict, changes: Mapping[str, Any]) -> None:
    if "title" in changes:
        title = _text(changes["title"], f"{path}/title", MAX_TITLE, needed=True)
        _set_text(node, "title", title)
    if "description" in changes:
        text = _text(changes["description"], f"{path}/description", MAX_DESCRIPTION, needed=False)
        _set_text(node, "description", text)
    if "required" in changes:
        _set_required(path, parent, changes["required"])
    branches = {option_key(b["const"]): b for b in _branches(node)}
    for key, title in (changes.get("options") or {}).items():
        where = f"{path}/options/{key}"
        if key not in branches:
            raise RuleViolation(RULE, NO_OPTION, field=where)
        branches[key]["title"] = _text(title, where, MAX_TITLE, needed=True)


def _set_required(path: str, parent: dict, wanted: Any) -> None:
    name = path.rsplit("/", 1)[-1]
    if not isinstance(wanted, bool):
        raise RuleViolation(RULE, NOT_FLAG, field=f"{path}/required")
    current = list(parent.get("required") or [])
    if wanted and name not in current:
        parent["required"] = [*current, name]
    elif not wanted and name in current:
        current.remove(name)
        if current:
            parent["required"] = current
        else:
            parent.pop("required", None)


@dataclass(frozen=True)
class TextChange:
    where: str  # "" for the form itself, else the field path (with /options/<key>)
    what: str  # "title", "description", "required", "option"
    before: str
    after: str


def text_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[TextChange]:
    """The texts and required flags that differ between two versions of a form (the review)."""
    changes = [
        TextChange("", key, str(before.get(key) or ""), str(after.get(key) or ""))
        for key in TEXT_KEYS
        if (before.get(key) or "") != (after.get(key) or "")
    ]
    old = {row.path: row for row in text_fields(before)}
    for row in text_fields(after):
        was = old.get(row.path)
        if was is None:
            changes.append(TextChange(row.path, "added", "", row.title))
            continue
        for key in TEXT_KEYS:
            if getattr(was, key) != getattr(row, key):
                changes.append(TextChange(row.path, key, getattr(was, key), getattr(row, key)))
        if was.required != row.required:
            changes.append(TextChange(row.path, "required", str(was.required), str(row.required)))
        titles = {o.key: o.title for o in was.options}
        for option in row.options:
            if titles.get(option.key, option.title) != option.title:
                where = f"{row.path}/options/{option.key}"
                changes.append(TextChange(where, "option", titles[option.key], option.title))
    gone = old.keys() - {row.path for row in text_fields(after)}
    changes.extend(TextChange(path, "removed", old[path].title, "") for path in sorted(gone))
    return changes
