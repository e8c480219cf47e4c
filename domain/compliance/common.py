"""Shared pieces of the indicator queries: the deadline verdict, the case it makes and the
organisation names."""

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.compliance.model import Case
from domain.models import Organisation


def deadline_verdict(last_day: date, done_on: date | None, today: date) -> bool | None:
    """Kept (True), broken (False) or not measurable yet (None): an obligation whose last day
    is `last_day` (docs/calendar.md: the limit acts the day after) was met when done on or
    before it; not done and the last day passed is a breach; not done and still in time is
    not counted."""
    if done_on is not None:
        return done_on <= last_day
    if today > last_day:
        return False
    return None


def organisation_names(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Organisation.id, Organisation.name)).all())


def deadline_case(
    *,
    key: str,
    subject: str,
    last_day: date,
    done_on: date | None,
    today: date,
    organisation_id: int | None,
    names: dict[int, str],
    reference_day: date | None = None,
    **details: Any,
) -> Case | None:
    """The measured case of one obligation with a last day (`deadline_verdict`); None while it
    is not done and still in time. `reference_day` (the period it falls in) is the last day
    unless given; `details` are the Case's other fields (instance_id, event, …)."""
    kept = deadline_verdict(last_day, done_on, today)
    if kept is None:
        return None
    return Case(
        key=key,
        subject=subject,
        reference_day=reference_day or last_day,
        kept=kept,
        organisation_id=organisation_id,
        organisation_name=names.get(organisation_id, "") if organisation_id else "",
        required=last_day,
        actual=done_on,
        reason="" if kept else ("late" if done_on else "missing"),
        **details,
    )
