"""Task forms: a JSON Schema → a tree of fields for the templates (the submitted form → data is
webapp.form_submission; kinds, options and messages are webapp.form_schema). Pure Python (no
Flask, no database), so everything here is unit-testable.

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
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from webapp.form_schema import (
    PREFIX,
    Path,
    classify,
    enum_options,
    option_key,
    resolve,
    schema_types,
    unavailable_options,
)


# -- the field tree -------------------------------------------------------------------------------
@dataclass
class Option:
    key: str  # the HTML value
    label: str
    value: Any  # the JSON value
    disabled: str = ""  # why the rules refuse it (shown disabled with the reason)


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
    widget: Any = None  # a declared widget's view (indicator_checklist: webapp.evidence_checklist)

    @property
    def mandatory(self) -> bool:
        """Whether the person must fill the field in (the red `*`): the schema requires it and no
        empty answer is accepted. A nullable required field is only *sent* every time (empty →
        null), and a required array without ``minItems`` may stay empty."""
        if not self.required or self.nullable:
            return False
        if self.kind in ("object_array", "scalar_array", "choice_array", "attachment_array"):
            return isinstance(self.schema.get("minItems"), int) and self.schema["minItems"] > 0
        return True

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
    return isinstance(value, str) and value == option_key(option_value)


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
    def __init__(
        self,
        root: Mapping[str, Any],
        errors: Mapping[str, list[str]],
        spare_rows: int,
        resubmitted: bool,
    ):
        self.root = root
        self.errors = {k: list(v) for k, v in errors.items()}
        self.claimed: set[str] = set()
        self.spare_rows = spare_rows
        self.resubmitted = resubmitted

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
                resolve(sub, self.root),
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
        option_schema = schema
        if kind in ("choice_array",):
            option_schema = resolve(schema.get("items", {}), self.root)
        options = enum_options(option_schema)
        if options is not None:
            result.options = [Option(option_key(v), label, v) for v, label in options]
            result.options += [
                Option(option_key(v), label, v, disabled=reason)
                for v, label, reason in unavailable_options(option_schema)
            ]
        result.attrs = _html_attrs(schema, kind)
        if kind == "object":
            result.present = not (nullable and value is None and not template)
            result.children = self.fields(schema, value, path, depth, template)
        elif kind in ("object_array", "scalar_array", "indicator_checklist"):
            items = resolve(schema.get("items", {}), self.root)
            rows_values = value if isinstance(value, list) else []
            result.placeholder = f"__i{depth + 1}__"
            row_kind = "scalar_array" if kind == "scalar_array" else "object_array"
            result.rows = [
                self.row(items, item, (*path, i), depth + 1, template, row_kind, result.title)
                for i, item in enumerate(rows_values)
            ]
            if not template and kind != "indicator_checklist":  # a checklist has a row per item
                min_items = schema.get("minItems") if isinstance(schema.get("minItems"), int) else 0
                # A form shown again to be corrected keeps exactly the rows the person sent
                # (issue 10): a spare row only where the array has none.
                wanted = 0 if self.resubmitted and result.rows else self.spare_rows
                spare = max(wanted, min_items - len(result.rows))
                start = len(result.rows)
                result.rows += [
                    self.row(items, None, (*path, start + i), depth + 1, False, kind, result.title)
                    for i in range(spare)
                ]
            result.template = self.row(
                items, None, (*path, result.placeholder), depth + 1, True, row_kind, result.title
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
    resubmitted: bool = False,
) -> Form:
    """The field tree of `schema` with `values` filled in and `errors` ({path: [messages]}) next
    to their fields; errors that belong to no field are form-level. `resubmitted`: the values
    are a submission shown again, so arrays get no spare row beyond the ones sent."""
    schema = dict(schema or {})
    builder = _Builder(schema, errors or {}, spare_rows, resubmitted)
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


PREFILL = "x-prefill-from"


def initial_values(schema: Mapping[str, Any] | None, data: Mapping[str, Any]) -> dict[str, Any]:
    """Starting values of a new task: only what the form declares — a property's ``default``,
    or ``x-prefill-from: <variable>`` (a top-level property started from that task variable, e.g.
    the reason of a withdrawal notice). Nothing else of the task data is carried in, so a loop
    never inherits the previous round's answers (issue 10)."""
    schema = schema or {}
    values: dict[str, Any] = {}
    for name, sub in (schema.get("properties") or {}).items():
        sub = resolve(sub, schema)
        if "default" in sub:
            values[name] = sub["default"]
        source = sub.get(PREFILL)
        if isinstance(source, str) and data.get(source) is not None:
            values[name] = data[source]
    return values
