"""Checks of the values a rule needs (a date, a non-empty text, a checklist …), each refusing a
broken rule with `RuleViolation(rule, …)` that names the field.

Operators declare their parameters' types (handlers/params.py); what a rule of the scheme
requires of a value — present, not in the future, every checklist item confirmed — is checked
here, so the refusal carries the rule's R-ID.
"""

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from certflow.dates import china_date
from domain.errors import RuleViolation
from domain.programme_dates import parse_iso_date


def require_id(value: Any, field: str) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{field}: expected an id, got {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{field}: expected an id, got {value!r}") from err


def require_text(value: Any, field: str, rule: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RuleViolation(rule, f"'{field}' is required", field=field)
    return value.strip()


def optional_text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def require_date(value: Any, field: str, rule: str) -> date:
    try:
        return parse_iso_date(value)
    except ValueError as err:
        raise RuleViolation(
            rule, f"'{field}' must be an ISO date (YYYY-MM-DD): {err}", field=field
        ) from err


def require_not_future(day: date, field: str, rule: str, now: datetime) -> date:
    if day > china_date(now):
        raise RuleViolation(rule, f"'{field}' ({day}) is in the future", field=field)
    return day


def require_past_date(value: Any, field: str, rule: str, now: datetime) -> date:
    """An ISO date that is not after today in China."""
    return require_not_future(require_date(value, field, rule), field, rule, now)


def require_list(value: Any, field: str, rule: str, *, allow_empty: bool = False) -> list[Any]:
    if value is None and allow_empty:
        return []
    if not isinstance(value, list) or (not value and not allow_empty):
        raise RuleViolation(rule, f"'{field}' must be a non-empty list", field=field)
    return value


def require_int(value: Any, field: str, rule: str, *, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise RuleViolation(rule, f"'{field}' must be a whole number, got {value!r}", field=field)
    try:
        number = int(value)
    except ValueError as err:
        raise RuleViolation(
            rule, f"'{field}' must be a whole number, got {value!r}", field=field
        ) from err
    if minimum is not None and number < minimum:
        raise RuleViolation(
            rule, f"'{field}' must be at least {minimum}, got {number}", field=field
        )
    return number


def require_flag(value: Any, field: str, rule: str) -> bool:
    if not isinstance(value, bool):
        raise RuleViolation(rule, f"'{field}' must be true or false, got {value!r}", field=field)
    return value


def require_choice(value: Any, field: str, rule: str, choices: Any) -> str:
    if value not in choices:
        raise RuleViolation(
            rule, f"'{field}' must be one of {list(choices)}, got {value!r}", field=field
        )
    return value


def is_true(value: Any) -> bool:
    """Form checkboxes: only a real `true` counts as confirmed."""
    return value is True


def checked_keys(
    value: Any, items: Mapping[str, tuple[str, str]], field: str, rule: str
) -> list[str]:
    """The keys of a checklist that are confirmed; refuses unknown and unconfirmed keys.

    Accepts `{"key": true, ...}` or a list of the confirmed keys."""
    if isinstance(value, Mapping):
        unknown = [key for key in value if key not in items]
        confirmed = {key for key, ticked in value.items() if is_true(ticked)}
    elif isinstance(value, list):
        unknown = [key for key in value if key not in items]
        confirmed = set(value)
    else:
        raise RuleViolation(
            rule, f"'{field}' must be a checklist of {len(items)} items", field=field
        )
    if unknown:
        raise RuleViolation(
            rule, f"'{field}' has unknown items: {', '.join(map(str, unknown))}", field=field
        )
    missing = [key for key in items if key not in confirmed]
    if missing:
        labels = "; ".join(f"{key} ({items[key][0]} {items[key][1]})" for key in missing)
        raise RuleViolation(rule, f"'{field}' items not confirmed: {labels}", field=field)
    return list(items)
