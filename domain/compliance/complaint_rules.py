"""R-12: complaints and appeals answered in writing within 30 days of receipt (the calendar of
docs/calendar.md: received on D, answered by D + 29)."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from certflow.dates import china_date, last_day_of_days
from domain.compliance.common import deadline_case, organisation_names
from domain.compliance.model import Case, Definition
from domain.models_cases import Complaint

DEFINITION = Definition("complaint_answered", ("R-12",), "complaint")
ANSWER_DAYS = 30


def cases(session: Session, today: date) -> list[Case]:
    names = organisation_names(session)
    found = []
    for complaint in session.scalars(select(Complaint).order_by(Complaint.id)):
        last_day = last_day_of_days(china_date(complaint.received_at), ANSWER_DAYS)
        answered = china_date(complaint.answered_at) if complaint.answered_at else None
        case = deadline_case(
            key=f"complaint:{complaint.id}",
            subject=complaint.reference,
            last_day=last_day,
            done_on=answered,
            today=today,
            organisation_id=complaint.organisation_id,
            names=names,
            instance_id=complaint.instance_id,
        )
        if case is not None:
            found.append(case)
    return found


@dataclass(frozen=True)
class ComplaintStatistics:
    """Complaints and appeals received in a period (R-12), for the management review."""

    received: int
    by_kind: dict[str, int]
    answered: int
    answered_in_time: int
    open: int
    substantiated: int


def statistics(session: Session, start: date, end: date, today: date) -> ComplaintStatistics:
    """Of the complaints received from `start` to `end` (China dates, both included)."""
    received = [
        c
        for c in session.scalars(select(Complaint).order_by(Complaint.id))
        if start <= china_date(c.received_at) <= end
    ]
    by_kind: dict[str, int] = {}
    for complaint in received:
        by_kind[complaint.kind] = by_kind.get(complaint.kind, 0) + 1
    answered = [c for c in received if c.answered_at is not None]
    in_time = [
        c
        for c in answered
        if china_date(c.answered_at) <= last_day_of_days(china_date(c.received_at), ANSWER_DAYS)
    ]
    return ComplaintStatistics(
        received=len(received),
        by_kind=by_kind,
        answered=len(answered),
        answered_in_time=len(in_time),
        open=len(received) - len(answered),
        substantiated=sum(1 for c in received if c.substantiated),
    )
