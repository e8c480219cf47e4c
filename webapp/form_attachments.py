"""The files submitted in an instance's completed forms (the case page and the task page list
them). Building a form only to find its attachment fields costs milliseconds per task, and a
case has tens of completed tasks (issue 16: pages at data volume); most forms have no attachment
field at all, which a walk over the schema tells at once."""

from collections.abc import Iterable, Mapping
from typing import Any

from engine.errors import EngineError
from webapp import forms_render


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


def submitted_attachment_ids(engine, instance_ids: Iterable[int]) -> set[int]:
    """Ids of the files named in the completed forms of the instances."""
    ids: set[int] = set()
    for task, submitted in engine.submitted_forms(list(instance_ids)):
        try:
            schema = engine.task_form(task)
        except EngineError:
            continue
        if schema is None or not may_hold_attachments(schema):
            continue
        ids |= forms_render.build_form(schema, submitted, spare_rows=0).attachment_ids()
    return ids
