"""Task forms: a JSON Schema → a tree of fields for the templates, and the submitted multipart form
→ JSON-typed task data. Pure Python (no Flask, no database): uploaded files are stored through a
callback, so everything here is unit-testable.

Input names are the field's slash path with the prefix ``f/`` — ``f/sites/0/address`` — the same
path the engine's `FormValidationError.errors` uses (``sites/0/address``), so errors find their
fields without translation tables. Helper inputs end in a ``__`` segment: ``__row`` (marks an array
row), ``__remove`` (the no-JavaScript "remove this row" box), ``__keep`` (ids of files uploaded
before), ``__present`` (a nullable object is filled in).

Field kinds
-----------
text, textarea (maxLength ≥ 500), email, date, number, integer, checkbox (boolean), confirm
(boolean with ``const: true``: a required confirmation), tristate (nullable boolean: yes/no/—),
select / radio (``enum`` or ``oneOf``/``anyOf`` of ``const`` with titles; ≤ 5 options → radios),
object (fieldset), object_array (rows with add/remove), scalar_array (rows of one input),
choice_array (array of enum items → checkboxes), attachment (``format: attachment`` integer: a
file input), attachment_array, json (anything else: JSON text, so no schema is unusable).

Empty inputs: a nullable type (``["string", "null"]``) gives ``null``; otherwise the key is left
out, and the schema's ``required`` says whether that is an error. Required arrays are sent as
``[]`` when empty.
"""

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

PREFIX = "f/"
ROW, REMOVE, KEEP, PRESENT = "__row", "__remove", "__keep", "__present"
RADIO_MAX_OPTIONS = 5
TEXTAREA_MIN_LENGTH = 500

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
def _resolve(schema: Any, root: Mapping[str, Any]) -> dict[str, Any]:
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


def _option_key(value: Any) -> str:
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
    types, nullable = schema_types(schema)
    options = enum_options(schema)
    if len(types) > 1 and types != {"integer", "number"}:
        return "json"
    kind = next(iter(types)) if types else None
    if options is not None and kind in ("string", "integer", "number", None):
        return "radio" if len(options) <= RADIO_MAX_OPTIONS else "select"
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
        items = _resolve(schema.get("items", {}), root)
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


# -- the field tree -------------------------------------------------------------------------------
@dataclass
class Option:
    key: str  # the HTML value
    label: str
    value: Any  # the JSON value


@dataclass
class Row:
    path: Path  # ends with the index (a str placeholder in the JavaScript template row)
    fields: list["Field"]
    errors: list[str] = field(default_factory=list)

    @property
    def index(self) -> int | str:
        return self.path[-1]

    @property
    def name(self) -> str:
        """Prefix of the row's inputs; ``name + "/__row"`` marks the row."""
        return PREFIX + "/".join(str(p) for p in self.path)


@dataclass
class Field:
    path: Path
    kind: str
    schema: dict[str, Any]
    title: str
    description: str = ""
    required: bool = False
    nullable: bool = False
    value: Any = None
    errors: list[str] = field(default_factory=list)
    options: list[Option] = field(default_factory=list)
    children: list["Field"] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    template: Row | None = None
    placeholder: str = ""
    attrs: dict[str, str] = field(default_factory=dict)
    present: bool = True  # nullable objects: filled in

    @property
    def key(self) -> str:
        """The error path ("sites/0/address")."""
        return "/".join(str(p) for p in self.path)

    @property
    def name(self) -> str:
        return PREFIX + self.key

    @property
    def html_id(self) -> str:
        return "f-" + re.sub(r"[^A-Za-z0-9_-]", "-", self.key)

    @property
    def text(self) -> str:
        """The value as the text of an input."""
        return display_text(self.value)

    def selected(self, option: Option) -> bool:
        if isinstance(self.value, list):
            return any(_same(v, option.value) for v in self.value)
        return _same(self.value, option.value)

    def all_errors(self) -> bool:
        return bool(self.errors) or any(c.all_errors() for c in self.children)


def _same(value: Any, option_value: Any) -> bool:
    if isinstance(value, bool) or isinstance(option_value, bool):
        return type(value) is type(option_value) and value == option_value
    if value == option_value:
        return True
    return isinstance(value, str) and value == _option_key(option_value)


def _num(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def display_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, indent=2)
    return str(value)


@dataclass
class Form:
    fields: list[Field]
    errors: list[tuple[str, list[str]]]  # form-level: (path or "", messages)
    title: str = ""
    description: str = ""

    def walk(self) -> Iterable[Field]:
        stack = list(reversed(self.fields))
        while stack:
            current = stack.pop()
            yield current
            for row in reversed(current.rows):
                stack.extend(reversed(row.fields))
            stack.extend(reversed(current.children))

    def attachment_ids(self) -> set[int]:
        ids: set[int] = set()
        for f in self.walk():
            if f.kind == "attachment" and _is_id(f.value):
                ids.add(f.value)
            elif f.kind == "attachment_array" and isinstance(f.value, list):
                ids.update(v for v in f.value if _is_id(v))
        return ids

    @property
    def has_errors(self) -> bool:
        return bool(self.errors) or any(f.errors for f in self.walk())


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


class _Builder:
    def __init__(self, root: Mapping[str, Any], errors: Mapping[str, list[str]], spare_rows: int):
        self.root = root
        self.errors = {k: list(v) for k, v in errors.items()}
        self.claimed: set[str] = set()
        self.spare_rows = spare_rows

    def take_errors(self, key: str) -> list[str]:
        if key in self.errors:
            self.claimed.add(key)
            return self.errors[key]
        return []

    def fields(
        self, schema: Mapping[str, Any], values: Any, path: Path, depth: int, template: bool
    ) -> list[Field]:
        properties = schema.get("properties") or {}
        required = set(schema.get("required") or [])
        values = values if isinstance(values, Mapping) else {}
        return [
            self.field(
                _resolve(sub, self.root),
                values.get(name),
                (*path, name),
                name in required,
                depth,
                template,
            )
            for name, sub in properties.items()
            if isinstance(sub, Mapping)
        ]

    def field(
        self,
        schema: dict[str, Any],
        value: Any,
        path: Path,
        required: bool,
        depth: int,
        template: bool = False,
    ) -> Field:
        kind = classify(schema, self.root)
        _, nullable = schema_types(schema)
        name = str(path[-1]) if path else ""
        result = Field(
            path=path,
            kind=kind,
            schema=schema,
            title=str(schema.get("title") or name.replace("_", " ")),
            description=str(schema.get("description") or ""),
            required=required,
            nullable=nullable,
            value=value,
        )
        if not template:
            result.errors = self.take_errors(result.key)
        options = enum_options(schema)
        if kind in ("choice_array",):
            options = enum_options(_resolve(schema.get("items", {}), self.root))
        if options is not None:
            result.options = [Option(_option_key(v), label, v) for v, label in options]
        result.attrs = _html_attrs(schema, kind)
        if kind == "object":
            result.present = not (nullable and value is None and not template)
            result.children = self.fields(schema, value, path, depth, template)
        elif kind in ("object_array", "scalar_array"):
            items = _resolve(schema.get("items", {}), self.root)
            rows_values = value if isinstance(value, list) else []
            result.placeholder = f"__i{depth + 1}__"
            result.rows = [
                self.row(items, item, (*path, i), depth + 1, template, kind, result.title)
                for i, item in enumerate(rows_values)
            ]
            if not template:
                min_items = schema.get("minItems") if isinstance(schema.get("minItems"), int) else 0
                spare = max(self.spare_rows, min_items - len(result.rows))
                start = len(result.rows)
                result.rows += [
                    self.row(items, None, (*path, start + i), depth + 1, False, kind, result.title)
                    for i in range(spare)
                ]
            result.template = self.row(
                items, None, (*path, result.placeholder), depth + 1, True, kind, result.title
            )
        return result

    def row(
        self,
        items: dict[str, Any],
        value: Any,
        path: Path,
        depth: int,
        template: bool,
        kind: str,
        parent_title: str = "",
    ) -> Row:
        if kind == "object_array":
            key = "/".join(str(p) for p in path)
            errors = [] if template else self.take_errors(key)
            return Row(path, self.fields(items, value, path, depth, template), errors)
        # A scalar row is its single input (same path, so the input takes the errors).
        item = self.field(items, value, path, True, depth, template)
        if not items.get("title"):
            item.title = parent_title
        return Row(path, [item])


def _html_attrs(schema: Mapping[str, Any], kind: str) -> dict[str, str]:
    attrs: dict[str, str] = {}
    if kind in ("text", "textarea", "email") and isinstance(schema.get("maxLength"), int):
        attrs["maxlength"] = str(schema["maxLength"])
    if kind in ("number", "integer"):
        for key, attr in (("minimum", "min"), ("maximum", "max")):
            if _num(schema.get(key)):
                attrs[attr] = display_text(schema[key])
        if kind == "integer":
            attrs["step"] = "1"
        elif _num(schema.get("multipleOf")):
            attrs["step"] = display_text(schema["multipleOf"])
        else:
            attrs["step"] = "any"
    return attrs


def build_form(
    schema: Mapping[str, Any] | None,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, list[str]] | None = None,
    *,
    spare_rows: int = 1,
) -> Form:
    """The field tree of `schema` with `values` filled in and `errors` ({path: [messages]}) next
    to their fields; errors that belong to no field are form-level."""
    schema = dict(schema or {})
    builder = _Builder(schema, errors or {}, spare_rows)
    fields = builder.fields(schema, values or {}, (), 0, False)
    leftover = [
        ("" if key == "_form" else key, msgs)
        for key, msgs in (errors or {}).items()
        if key not in builder.claimed
    ]
    return Form(
        fields,
        leftover,
        title=str(schema.get("title") or ""),
        description=str(schema.get("description") or ""),
    )


def initial_values(schema: Mapping[str, Any] | None, data: Mapping[str, Any]) -> dict[str, Any]:
    """Starting values: the schema's defaults, overridden by task data of the same name."""
    schema = schema or {}
    values: dict[str, Any] = {}
    for name, sub in (schema.get("properties") or {}).items():
        sub = _resolve(sub, schema)
        if "default" in sub:
            values[name] = sub["default"]
        if name in data:
            values[name] = data[name]
    return values


# -- parsing the submitted form -------------------------------------------------------------------
StoreFile = Callable[[Field, Any], int]
AttachmentCheck = Callable[[int], bool]


@dataclass
class Submission:
    data: dict[str, Any]  # JSON-typed, for the engine
    values: dict[str, Any]  # what the user entered (raw text where it did not parse): re-render
    errors: dict[str, list[str]]  # problems found while parsing ({path: [messages]})


_MISSING = object()


def _getlist(source: Any, key: str) -> list[Any]:
    if source is None:
        return []
    if hasattr(source, "getlist"):
        return list(source.getlist(key))
    value = source.get(key, [])
    return list(value) if isinstance(value, list | tuple) else [value]


def _keys(source: Any) -> list[str]:
    return list(source.keys()) if source is not None else []


def _has_file(upload: Any) -> bool:
    return upload is not None and bool(getattr(upload, "filename", None))


_INTEGER = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


class _Parser:
    def __init__(
        self,
        root: Mapping[str, Any],
        form: Any,
        files: Any,
        store_file: StoreFile | None,
        attachment_ok: AttachmentCheck | None,
    ):
        self.root = root
        self.form = form
        self.files = files
        self.store_file = store_file
        self.attachment_ok = attachment_ok
        self.errors: dict[str, list[str]] = {}
        self.names = _keys(form) + _keys(files)

    def error(self, path: Path, message: str) -> None:
        self.errors.setdefault("/".join(str(p) for p in path), []).append(message)

    def text(self, path: Path) -> str:
        values = _getlist(self.form, PREFIX + "/".join(str(p) for p in path))
        text = str(values[0]) if values else ""
        return text.replace("\r\n", "\n").strip()

    def checked(self, path: Path) -> bool:
        return bool(_getlist(self.form, PREFIX + "/".join(str(p) for p in path)))

    def object(self, schema: Mapping[str, Any], path: Path) -> tuple[dict, dict]:
        data: dict[str, Any] = {}
        values: dict[str, Any] = {}
        required = set(schema.get("required") or [])
        for name, sub in (schema.get("properties") or {}).items():
            if not isinstance(sub, Mapping):
                continue
            value, shown = self.value(_resolve(sub, self.root), (*path, name), name in required)
            if value is not _MISSING:
                data[name] = value
            if shown is not _MISSING:
                values[name] = shown
        return data, values

    def value(self, schema: dict[str, Any], path: Path, required: bool) -> tuple[Any, Any]:
        """(JSON value or _MISSING, value to show again or _MISSING)."""
        kind = classify(schema, self.root)
        _, nullable = schema_types(schema)
        empty = None if nullable else _MISSING
        method = getattr(self, f"_{kind}")
        return method(schema, path, required, nullable, empty)

    # scalar kinds
    def _text(self, schema, path, required, nullable, empty):
        text = self.text(path)
        return (text, text) if text else (empty, None)

    _textarea = _email = _date = _text

    def _number(self, schema, path, required, nullable, empty, integer=False):
        text = self.text(path)
        if not text:
            return empty, None
        number = _parse_number(text, integer)
        if number is None:
            self.error(path, MSG_INTEGER if integer else MSG_NUMBER)
            return _MISSING, text
        return number, number

    def _integer(self, schema, path, required, nullable, empty):
        return self._number(schema, path, required, nullable, empty, integer=True)

    def _checkbox(self, schema, path, required, nullable, empty):
        value = self.checked(path)
        return value, value

    _confirm = _checkbox

    def _tristate(self, schema, path, required, nullable, empty):
        text = self.text(path)
        if text == "true":
            return True, True
        if text == "false":
            return False, False
        return empty, None

    def _select(self, schema, path, required, nullable, empty):
        text = self.text(path)
        if not text:
            return empty, None
        for value, _ in enum_options(schema) or []:
            if _option_key(value) == text:
                return value, value
        self.error(path, MSG_CHOICE)
        return _MISSING, text

    _radio = _select

    def _json(self, schema, path, required, nullable, empty):
        text = self.text(path)
        if not text:
            return empty, None
        try:
            value = json.loads(text)
        except ValueError:
            self.error(path, MSG_JSON)
            return _MISSING, text
        return value, value

    # structured kinds
    def _object(self, schema, path, required, nullable, empty):
        if nullable and not self.checked((*path, PRESENT)):
            return None, None
        if not required and not nullable and self.blank(path):
            return _MISSING, _MISSING
        return self.object(schema, path)

    def row_indices(self, path: Path) -> list[int]:
        prefix = PREFIX + "".join(f"{p}/" for p in path)
        indices = set()
        for name in self.names:
            if name.startswith(prefix):
                head = name[len(prefix) :].split("/", 1)[0]
                if head.isdigit():
                    indices.add(int(head))
        return sorted(indices)

    def blank(self, path: Path) -> bool:
        """Nothing entered under `path` (helper inputs and unchecked boxes do not count)."""
        prefix = PREFIX + "/".join(str(p) for p in path)
        for name in _keys(self.form):
            if name != prefix and not name.startswith(prefix + "/"):
                continue
            if name.rsplit("/", 1)[-1] in (ROW, REMOVE, PRESENT):
                continue
            if any(str(v).strip() for v in _getlist(self.form, name)):
                return False
        for name in _keys(self.files):
            if (name == prefix or name.startswith(prefix + "/")) and any(
                _has_file(f) for f in _getlist(self.files, name)
            ):
                return False
        return True

    def _rows(self, schema, path, required, nullable, empty, scalar: bool):
        items = _resolve(schema.get("items", {}), self.root)
        data: list[Any] = []
        values: list[Any] = []
        for index in self.row_indices(path):
            source = (*path, index)
            if self.checked((*source, REMOVE)) or self.blank(source):
                continue
            target = (*path, len(values))
            # Parse under the source index, report under the new one (blank rows are dropped).
            before = dict(self.errors)
            if scalar:
                value, shown = self.value(items, source, True)
            else:
                value, shown = self.object(items, source)
            self._move_errors(before, source, target)
            values.append(None if shown is _MISSING else shown)
            data.append(None if value is _MISSING else value)
        if not values and not required:
            return (None, None) if nullable else (_MISSING, _MISSING)
        return data, values

    def _move_errors(self, before: dict, source: Path, target: Path) -> None:
        if source == target:
            return
        old = "/".join(str(p) for p in source)
        new = "/".join(str(p) for p in target)
        moved: dict[str, list[str]] = {}
        for key, messages in self.errors.items():
            if key not in before and (key == old or key.startswith(old + "/")):
                moved[new + key[len(old) :]] = messages
            else:
                moved[key] = messages
        self.errors = moved

    def _object_array(self, schema, path, required, nullable, empty):
        return self._rows(schema, path, required, nullable, empty, scalar=False)

    def _scalar_array(self, schema, path, required, nullable, empty):
        return self._rows(schema, path, required, nullable, empty, scalar=True)

    def _choice_array(self, schema, path, required, nullable, empty):
        items = _resolve(schema.get("items", {}), self.root)
        submitted = {str(v) for v in _getlist(self.form, PREFIX + "/".join(map(str, path)))}
        chosen = [v for v, _ in enum_options(items) or [] if _option_key(v) in submitted]
        if len(chosen) < len(submitted - {""}):
            self.error(path, MSG_CHOICE)
        if not chosen and not required:
            return (None, None) if nullable else (_MISSING, _MISSING)
        return chosen, chosen

    def kept_ids(self, path: Path) -> list[int]:
        ids = []
        for text in _getlist(self.form, PREFIX + "/".join(map(str, (*path, KEEP)))):
            text = str(text).strip()
            if not text.isdigit() or not (0 < int(text) < 2**31):
                self.error(path, MSG_FILE_UNKNOWN)
                continue
            if self.attachment_ok is not None and not self.attachment_ok(int(text)):
                self.error(path, MSG_FILE_UNKNOWN)
                continue
            ids.append(int(text))
        return ids

    def uploads(self, schema, path: Path) -> list[int]:
        name = PREFIX + "/".join(map(str, path))
        ids = []
        for upload in _getlist(self.files, name):
            if not _has_file(upload):
                continue
            if self.store_file is None:
                continue
            try:
                probe = Field(path, "attachment", dict(schema), str(path[-1]))
                ids.append(self.store_file(probe, upload))
            except ValueError as err:
                self.error(path, str(err))
        return ids

    def _attachment(self, schema, path, required, nullable, empty):
        new = self.uploads(schema, path)
        if new:
            return new[-1], new[-1]
        kept = self.kept_ids(path)
        if kept:
            return kept[0], kept[0]
        return empty, None

    def _attachment_array(self, schema, path, required, nullable, empty):
        items = _resolve(schema.get("items", {}), self.root)
        ids = self.kept_ids(path) + self.uploads(items, path)
        ids = list(dict.fromkeys(ids))  # no duplicates (uniqueItems)
        if not ids and not required:
            return (None, None) if nullable else (_MISSING, _MISSING)
        return ids, ids


def _parse_number(text: str, integer: bool) -> int | float | None:
    text = text.replace(" ", "")
    if _INTEGER.fullmatch(text):
        return int(text)
    if not _NUMBER.fullmatch(text):
        return None
    value = float(text)
    if not math.isfinite(value):
        return None
    if integer:
        return int(value) if value.is_integer() else None
    return value


def parse_submission(
    schema: Mapping[str, Any] | None,
    form: Any,
    files: Any = None,
    *,
    store_file: StoreFile | None = None,
    attachment_ok: AttachmentCheck | None = None,
) -> Submission:
    """Turn submitted inputs (a MultiDict-like `form` and `files`, or dicts of lists) into data.

    `store_file(field, upload)` stores one uploaded file and returns its attachment id (raise
    ValueError with a message to refuse it); `attachment_ok(id)` says whether an id sent back in
    a ``__keep`` input may be used by this user.
    """
    schema = dict(schema or {})
    parser = _Parser(schema, form, files, store_file, attachment_ok)
    data, values = parser.object(schema, ())
    return Submission(data, values, parser.errors)


def merge_errors(*sources: Mapping[str, list[str]]) -> dict[str, list[str]]:
    merged: dict[str, list[str]] = {}
    for source in sources:
        for key, messages in source.items():
            bucket = merged.setdefault(key, [])
            bucket.extend(m for m in messages if m not in bucket)
    return merged
