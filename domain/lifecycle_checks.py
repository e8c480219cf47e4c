"""Small checks of values a lifecycle rule depends on (R-8.10 … R-12): a value that breaks a rule
of the scheme is a `RuleViolation` naming the rule, so the incident says which rule was broken.

These mirror the readers of the initial certification (handlers/audit.py) without depending on
the handler layer; the declared parameters (handlers/params.py) already fix the shape.
"""

from datetime import date
from typing import Any

from domain.errors import RuleViolation
from domain.programme_dates import parse_iso_date


def require_text(value: Any, field: str, rule: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RuleViolation(rule, f"'{field}' is required")
    return value.strip()


def optional_text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def require_flag(value: Any, field: str, rule: str) -> bool:
    if not isinstance(value, bool):
        raise RuleViolation(rule, f"'{field}' must be true or false, got {value!r}")
    return value


def require_choice(value: Any, field: str, rule: str, choices: Any) -> str:
    if value not in choices:
        raise RuleViolation(rule, f"'{field}' must be one of {list(choices)}, got {value!r}")
    return value


def require_date(value: Any, field: str, rule: str) -> date:
    try:
        return parse_iso_date(value)
    except ValueError as err:
        raise RuleViolation(rule, f"'{field}' must be an ISO date (YYYY-MM-DD): {err}") from err


def require_id(value: Any, field: str) -> int:
    """A row id as stored in task data (an int, or its digits); anything else is a ValueError."""
    if isinstance(value, bool):
        raise ValueError(f"{field}: expected an id, got {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{field}: expected an id, got {value!r}") from err


def require_int(value: Any, field: str, rule: str, *, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise RuleViolation(rule, f"'{field}' must be a whole number, got {value!r}")
    try:
        number = int(value)
    except ValueError as err:
        raise RuleViolation(rule, f"'{field}' must be a whole number, got {value!r}") from err
    if minimum is not None and number < minimum:
        raise RuleViolation(rule, f"'{field}' must be at least {minimum}, got {number}")
    return number


def require_status(audit: Any, allowed: Any, rule: str, doing: str) -> None:
    allowed = tuple(allowed)
    if audit.status not in allowed:
        raise RuleViolation(
            rule, f"audit {audit.id} is {audit.status}; cannot {doing} (needs {'/'.join(allowed)})"
        )
