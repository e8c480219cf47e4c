"""Shared pieces of the indicator queries: the deadline verdict and the organisation names."""

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

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
