"""Checks of the values the application-side rules need (R-5, R-6.x, R-7.1.x): each takes the
value and the parameter's name and refuses a broken rule with `RuleViolation` naming the rule,
the label a person reads and the parameter (defence in depth: the forms refuse most bad input
first)."""

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from certflow.db import db
from domain.errors import RuleViolation

ModelT = TypeVar("ModelT", bound=db.Model)


def _fits(value: str, name: str, rule: str, max_length: int | None) -> str:
    if max_length is not None and len(value) > max_length:
        raise RuleViolation(
            rule,
            f"parameter {name!r} is longer than {max_length} characters ({len(value)})",
            field=name,
        )
    return value


def required_text(
    value: Any, name: str, rule: str, label: str, max_length: int | None = None
) -> str:
    """A required, non-blank string (stripped), at most `max_length` characters."""
    if not isinstance(value, str) or not value.strip():
        raise RuleViolation(
            rule, f"{label} 必须填写 must be given (parameter {name!r})", field=name
        )
    return _fits(value.strip(), name, rule, max_length)


def optional_text(value: Any, name: str, rule: str = "", max_length: int | None = None) -> str:
    """A string that may be empty or null (passed all the same)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError(f"parameter {name!r} must be a string, got {type(value).__name__}")
    return _fits(value.strip(), name, rule, max_length)


def flag(value: Any, name: str, rule: str) -> bool:
    if not isinstance(value, bool):
        raise RuleViolation(
            rule, f"parameter {name!r} must be true or false, got {value!r}", field=name
        )
    return value


def whole_number(value: Any, name: str, rule: str, label: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RuleViolation(
            rule, f"{label} must be a whole number (parameter {name!r}): {value!r}", field=name
        )
    return value


def iso_date(value: Any, name: str, rule: str, label: str) -> date:
    """An ISO date string such as "2026-03-10"."""
    if not isinstance(value, str) or not value:
        raise RuleViolation(
            rule, f"{label} 必须填写 must be given (parameter {name!r})", field=name
        )
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RuleViolation(
            rule, f"{label} 不是有效日期 is not an ISO date (YYYY-MM-DD): {value!r}"
        ) from None


def decimal_number(
    value: Any,
    name: str,
    rule: str,
    label: str,
    *,
    optional: bool = False,
    places: int = 1,
    digits: int = 6,
) -> Decimal | None:
    """A number (int, float or numeric string) as an exact Decimal with at most `places`
    decimals and `digits` digits in all (the column's precision); None only when optional."""
    if value is None or value == "":
        if optional:
            return None
        raise RuleViolation(
            rule, f"{label} 必须填写 must be given (parameter {name!r})", field=name
        )
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise RuleViolation(
            rule, f"{label} must be a number (parameter {name!r}): {value!r}", field=name
        )
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise RuleViolation(
            rule, f"{label} must be a number (parameter {name!r}): {value!r}", field=name
        ) from None
    if not number.is_finite():
        raise RuleViolation(rule, f"{label} must be a finite number: {value!r}")
    limit = Decimal(10) ** (digits - places)
    if abs(number) >= limit or number != number.quantize(Decimal(1).scaleb(-places)):
        raise RuleViolation(
            rule, f"{label} must have at most {places} decimal(s) and be below {limit}: {value!r}"
        )
    return number


def load(session: Session, model: type[ModelT], row_id: int) -> ModelT:
    row = session.get(model, row_id)
    if row is None:
        raise LookupError(f"{model.__tablename__} {row_id} not found")
    return row
