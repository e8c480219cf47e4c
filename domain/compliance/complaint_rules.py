"""R-12: complaints and appeals answered in writing within 30 days of receipt (the calendar of
docs/calendar.md: received on D, answered by D + 29)."""

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from certflow.dates import china_date, last_day_of_days
from domain.compliance.common import deadline_verdict, organisation_names
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
        kept = deadline_verdict(last_day, answered, today)
        if kept is None:
            continue
        found.append(
            Case(
                key=f"complaint:{complaint.id}",
                subject=complaint.reference,
                reference_day=last_day,
                kept=kept,
                organisation_id=complaint.organisation_id,
                organisation_name=names.get(complaint.organisation_id, "")
                if complaint.organisation_id
                else "",
                instance_id=complaint.instance_id,
                required=last_day,
                actual=answered,
                reason="" if kept else ("late" if answered else "missing"),
            )
        )
    return found
