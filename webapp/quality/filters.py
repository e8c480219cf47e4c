"""Reading the quality pages' filters from the query string: a bad value is a clear error on
the page (422 with the field), never a guess and never a 500."""

from datetime import date

from flask import request
from flask_babel import gettext as _

MAX_TEXT = 200


def text_arg(name: str) -> str:
    return request.args.get(name, "").strip()[:MAX_TEXT]


def date_arg(name: str, errors: dict[str, str]) -> date | None:
    """A China calendar day as YYYY-MM-DD, or None when empty."""
    value = text_arg(name)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[name] = _("Give a date as YYYY-MM-DD.")
        return None


def period_args(errors: dict[str, str]) -> tuple[date | None, date | None]:
    since, until = date_arg("from", errors), date_arg("to", errors)
    if since and until and until < since:
        errors["to"] = _("The end of the period lies before its start.")
    return since, until
