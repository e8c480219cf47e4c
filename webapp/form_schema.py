"""The JSON Schema side of task forms: the field kind of a (sub)schema, its types and options,
the messages of the form parser. Pure Python; shared by webapp.forms_render (the field tree) and
webapp.form_submission (the submitted form → data).
"""

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

PREFIX = "f/"
ROW, REMOVE, KEEP, PRESENT = "__row", "__remove", "__keep", "__present"
RADIO_MAX_OPTIONS = 5
TEXTAREA_MIN_LENGTH = 500
# Widgets a form may declare (`"x-widget"`): an allowlist, value = the field kind. An
# indicator checklist is an array of item rows (webapp.evidence_checklist renders it).
WIDGETS = {"indicator-checklist": "indicator_checklist"}

Path = tuple[str | int, ...]


def N_(message: str) -> str:
    """Marks a message for translation (extracted into the catalogs; translated by the caller)."""
    return message


MSG_NUMBER = N_("Enter a number.")
MSG_INTEGER = N_("Enter a whole number.")
MSG_CHOICE = N_("Choose one of the options.")
MSG_JSON = N_("Enter valid JSON.")
MSG_FILE_UNKNOWN = N_("This file is not available.")


# -- schema helpers -------------------------------------------------------------------------------
def resolve(schema: Any, root: Mapping[str, Any]) -> dict[str, Any]:
    """Follow a local ``$ref`` (``#/$defs/x``); anything else is returned as it is."""
    seen = 0
    while isinstance(schema, Mapping) and "$ref" in schema and seen < 20:
        ref = schema["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#/"):
            break
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, Mapping) else {}
        merged = {k: v for k, v in schema.items() if k != "$ref"}
        schema = {**target, **merged}
        seen += 1
    return dict(schema) if isinstance(schema, Mapping) else {}


def _const_options(schema: Mapping[str, Any]) -> list[tuple[Any, str]] | None:
    for key in ("oneOf", "anyOf"):
        branches = schema.get(key)
        if (
            isinstance(branches, list)
            and branches
            and all(isinstance(b, Mapping) and "const" in b for b in branches)
        ):
            return [(b["const"], str(b.get("title", b["const"]))) for b in branches]
    return None


def schema_types(schema: Mapping[str, Any]) -> tuple[set[str], bool]:
    """The JSON types a schema allows (without "null") and whether null is allowed."""
    declared = schema.get("type")
    if isinstance(declared, str):
        types = {declared}
    elif isinstance(declared, list):
        types = {t for t in declared if isinstance(t, str)}
    else:
        types = set()
        values: list[Any] = []
        if "enum" in schema and isinstance(schema["enum"], list):
            values = schema["enum"]
        elif "const" in schema:
            values = [schema["const"]]
        else:
            values = [v for v, _ in (_const_options(schema) or [])]
        for value in values:
            types.add(_json_type(value))
        if not types:
            if "properties" in schema:
                types.add("object")
            elif "items" in schema:
                types.add("array")
    nullable = "null" in types
    if isinstance(schema.get("enum"), list) and None in schema["enum"]:
        nullable = True
    types.discard("null")
    return types, nullable


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def enum_options(schema: Mapping[str, Any]) -> list[tuple[Any, str]] | None:
    """(value, label) pairs of an enumeration (``enum``, or ``oneOf`` of ``const`` + title)."""
    options = _const_options(schema)
    if options is None and isinstance(schema.get("enum"), list):
        options = [(v, str(v)) for v in schema["enum"]]
    if options is None:
        return None
    return [(v, label) for v, label in options if v is not None]


def unavailable_options(schema: Mapping[str, Any]) -> list[tuple[Any, str, str]]:
    """(value, label, reason) of the options the rules refuse (``x-unavailable``, set by
    webapp.form_options): shown disabled with the reason."""
    entries = schema.get("x-unavailable")
    if not isinstance(entries, list):
        return []
    return [
        (e["const"], str(e.get("title", e["const"])), str(e.get("reason", "")))
        for e in entries
        if isinstance(e, Mapping) and "const" in e
    ]


def option_key(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def attachment_kind(name: str, schema: Mapping[str, Any], kinds: Iterable[str]) -> str:
    """The attachment kind for uploads into a field: ``x-attachment-kind`` in the schema, else the
    field name without ``_file(s)`` when that is a known kind (``legal_status_file`` →
    ``legal_status``), else ``other``."""
    known = set(kinds)
    explicit = schema.get("x-attachment-kind")
    if isinstance(explicit, str) and explicit in known:
        return explicit
    stem = re.sub(r"_files?$", "", name)
    for candidate in (stem, stem + "s", stem.rstrip("s")):
        if candidate in known:
            return candidate
    return "other" if "other" in known else sorted(known)[0]


def _is_attachment(schema: Mapping[str, Any], types: set[str]) -> bool:
    return schema.get("format") == "attachment" and types <= {"integer"}


def classify(schema: Mapping[str, Any], root: Mapping[str, Any] | None = None) -> str:
    """The field kind for a (resolved) property schema."""
    root = root if root is not None else schema
    if schema.get("x-widget") in WIDGETS:  # a declared widget renders the field (rows of items)
        return WIDGETS[schema["x-widget"]]
    types, nullable = schema_types(schema)
    options = enum_options(schema)
    if len(types) > 1 and types != {"integer", "number"}:
        return "json"
    kind = next(iter(types)) if types else None
    if options is not None and kind in ("string", "integer", "number", None):
        # Choices from data (x-options, webapp.form_options) vary in number: always a select.
        if "x-options" in schema or len(options) > RADIO_MAX_OPTIONS:
            return "select"
        return "radio"
    if kind == "boolean":
        if schema.get("const") is True:
            return "confirm"
        return "tristate" if nullable else "checkbox"
    if _is_attachment(schema, types):
        return "attachment"
    if "number" in types:
        return "number"
    if kind == "integer":
        return "integer"
    if kind == "string":
        fmt = schema.get("format")
        if fmt == "date":
            return "date"
        if fmt == "email":
            return "email"
        max_length = schema.get("maxLength")
        if isinstance(max_length, int) and max_length >= TEXTAREA_MIN_LENGTH:
            return "textarea"
        return "text"
    if kind == "object":
        return "object"
    if kind == "array":
        items = resolve(schema.get("items", {}), root)
        item_types, _ = schema_types(items)
        if _is_attachment(items, item_types):
            return "attachment_array"
        if enum_options(items) is not None:
            return "choice_array"
        item_kind = classify(items, root)
        if item_kind == "object":
            return "object_array"
        if item_kind in ("text", "textarea", "email", "date", "number", "integer", "select"):
            return "scalar_array"
        if item_kind == "radio":
            return "choice_array"
        return "json"
    return "json"
