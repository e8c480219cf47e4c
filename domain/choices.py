"""The one path to a form field's options (issue 10, "choices from data"): the task page and the
API's task schema show them (`resolve`), and the engine refuses a submitted value that is not
one of them, or one the rules refuse (`problems`, called through the handler registry's form
check). The sources are registered by their areas' modules, imported here.
"""

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from domain import (  # noqa: F401  (importing registers the sources)
    options_audit,
    options_changes,
    options_indicators,
    options_people,
    recertification_review,
    suspension_scope,
)
from domain.options import (
    Choice,
    OptionContext,
    declared_fields,
    same_value,
    source,
    source_names,
    values_at,
)
from domain.said import SaidText, is_said

__all__ = ["Choice", "declared_fields", "problems", "resolve", "source_names"]


def resolve(
    session: Session, now: datetime, declaration: Mapping[str, Any], data: Mapping[str, Any]
) -> list[Choice]:
    """The options of a field declaring `declaration` (its ``x-options``) for a task whose data
    (with the form's values over it) is `data`. An unknown source has no options."""
    found = source(str(declaration.get("source", "")))
    if found is None:
        return []
    return found.resolve(OptionContext(session, now, data, declaration))


def problems(
    session: Session,
    now: datetime,
    schema: Mapping[str, Any],
    submitted: Mapping[str, Any],
    data: Mapping[str, Any],
) -> dict[str, list[str]]:
    """Field errors ({"members/0/auditor_id": [reason]}) for submitted values that are not one of
    the field's options or that the rules refuse; each message names the rule."""
    errors: dict[str, list[str]] = {}
    for pattern, declaration in declared_fields(schema):
        entries = [(p, v) for p, v in values_at(submitted, pattern) if v is not None]
        if not entries:
            continue
        found = source(str(declaration.get("source", "")))
        context = OptionContext(session, now, data, declaration)
        choices = found.resolve(context) if found else []
        for path, value in entries:
            choice = next((c for c in choices if same_value(c.value, value)), None)
            if choice is None:
                explained = found.explain(context, value) if found and found.explain else None
                message = explained or (
                    f"{found.rule if found else 'issue 10'}："
                    f"{json.dumps(value, ensure_ascii=False)} 不是本任务可选的选项 / "
                    "not one of the choices offered for this task"
                )
            elif choice.refusal:
                refusal = choice.refusal  # said: Chinese for the engine, both for the page
                message = SaidText(refusal) if is_said(refusal) else str(refusal)
            else:
                continue
            errors.setdefault("/".join(str(p) for p in path), []).append(message)
    return errors
