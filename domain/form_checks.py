"""Form checks: the rules a later service task enforces on a form's answers, run when the form
is submitted so that a person gets 422 on the field instead of an incident after "done".

A form declares the checks it needs by name (`"x-checks": ["audit.training_fits", …]` in
processes/forms/*.json). Each check is a function of this layer, registered here with
`@form_check(name)`, and it calls the SAME rule function the service task's domain code calls
(never a copy), so the form and the handler cannot disagree. A check raises `RuleViolation`
(with `field` when one field is wrong); `problems()` turns that into field errors.

The handlers layer hands these checks to the engine (handlers/form_checks.py); the engine runs
the declared ones on every completion, from the web and the API alike.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from domain.errors import RuleViolation
from domain.said import SaidText

FORM = "_form"  # an error of the whole form, not of one field


@dataclass(frozen=True)
class CheckCase:
    """What a check sees: the database, the operation's time and the case's data — the
    instance's variables (audit_id, application_id …) with the submitted answers on top."""

    session: Session
    now: datetime
    data: Mapping[str, Any]
    settings: Any = None
    actor: str = ""  # who submits


FormCheck = Callable[[CheckCase], None]
FORM_CHECKS: dict[str, FormCheck] = {}


def form_check(name: str) -> Callable[[FormCheck], FormCheck]:
    def register(fn: FormCheck) -> FormCheck:
        if FORM_CHECKS.get(name, fn) is not fn:
            raise ValueError(f"form check {name!r} is already registered")
        FORM_CHECKS[name] = fn
        return fn

    return register


def problems(check: FormCheck, case: CheckCase) -> dict[str, list[str]]:
    """The field errors of one check ({} when the answers keep its rule)."""
    try:
        check(case)
    except RuleViolation as err:
        return {err.field or FORM: [SaidText(err.said) if err.said else str(err)]}
    return {}
