"""The files submitted in an instance's completed forms (the case page and the task page list
them). A case has tens of completed tasks (issue 16: pages at data volume): their forms come in
one query, and each form's attachment fields are found once per process — a plan of where files
sit in its data, cached by the form's content key (version hash, path), so a new deployment never
meets a stale plan. Reading a form's data along its plan names the same files as building the
form and walking its fields (webapp.forms_render.Form.attachment_ids) would, without building
it."""

from collections.abc import Iterable, Mapping
from typing import Any

from webapp.form_schema import classify, resolve

# A plan: ("one",) an attachment id, ("many",) a list of ids, ("object", {name: plan}),
# ("rows", plan of one row); None: no file anywhere below.
Plan = tuple
_PLANS: dict[tuple[str, str], Plan | None] = {}
_MAX_PLANS = 1024  # forms of every deployed version; cleared when more (never stale: keyed)
_MAX_DEPTH = 32


def may_hold_attachments(schema: Any) -> bool:
    """True when some (sub)schema declares `format: attachment` — the only fields build_form
    reads as attachments (webapp/form_schema.py); False means the form holds no file."""
    stack = [schema]
    while stack:
        current = stack.pop()
        if isinstance(current, Mapping):
            if current.get("format") == "attachment":
                return True
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
    return False


def attachment_plan(schema: Mapping[str, Any]) -> Plan | None:
    """Where a form's data holds attachment ids, following the field kinds of build_form."""
    if not may_hold_attachments(schema):
        return None
    return _properties(schema, schema, 0)


def _properties(schema: Mapping[str, Any], root: Mapping[str, Any], depth: int) -> Plan | None:
    if depth > _MAX_DEPTH:
        return None
    children = {}
    for name, sub in (schema.get("properties") or {}).items():
        if isinstance(sub, Mapping):
            plan = _field(resolve(sub, root), root, depth + 1)
            if plan is not None:
                children[name] = plan
    return ("object", children) if children else None


def _field(schema: dict[str, Any], root: Mapping[str, Any], depth: int) -> Plan | None:
    kind = classify(schema, root)
    if kind == "attachment":
        return ("one",)
    if kind == "attachment_array":
        return ("many",)
    if kind == "object":
        return _properties(schema, root, depth)
    if kind in ("object_array", "scalar_array", "indicator_checklist"):
        items = resolve(schema.get("items", {}), root)
        if kind == "scalar_array":  # a row is its single input
            row = _field(items, root, depth + 1)
        else:  # a row holds the item's fields
            row = _properties(items, root, depth + 1)
        return ("rows", row) if row is not None else None
    return None


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def collect_ids(plan: Plan, value: Any, ids: set[int]) -> None:
    """Add the attachment ids found in `value` (a form's data) along `plan`."""
    shape = plan[0]
    if shape == "one":
        if _is_id(value):
            ids.add(value)
    elif shape == "many":
        if isinstance(value, list):
            ids.update(v for v in value if _is_id(v))
    elif shape == "object":
        if isinstance(value, Mapping):
            for name, sub in plan[1].items():
                collect_ids(sub, value.get(name), ids)
    elif isinstance(value, list):  # rows
        for item in value:
            collect_ids(plan[1], item, ids)


def _plan_for(key: tuple[str, str], schema: Mapping[str, Any]) -> Plan | None:
    if key not in _PLANS:
        if len(_PLANS) >= _MAX_PLANS:
            _PLANS.clear()
        _PLANS[key] = attachment_plan(schema)
    return _PLANS[key]


def submitted_attachment_ids(engine, instance_ids: Iterable[int]) -> set[int]:
    """Ids of the files named in the completed forms of the instances."""
    ids: set[int] = set()
    for _, data, key, schema in engine.submitted_form_schemas(list(instance_ids)):
        plan = _plan_for(key, schema)
        if plan is not None:
            collect_ids(plan, data, ids)
    return ids
