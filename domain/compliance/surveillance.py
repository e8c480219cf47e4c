"""R-8.10.1 / R-7.1.3: the first surveillance within 12 months of certification, the second
within 12 months of the end of the first, beyond that only with an approved extension and never
beyond 15 months (the limits of domain/programme_dates.py, the calendar of docs/calendar.md)."""

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.certificates import current_certificate
from domain.compliance.common import deadline_case, organisation_names
from domain.compliance.model import Case, Definition
from domain.models import Audit, AuditProgramme, Certificate, Decision, ProgrammeActivity
from domain.programme_dates import (
    surveillance_1_due,
    surveillance_2_due,
    surveillance_2_hard_limit,
)

DEFINITION = Definition("surveillance_interval", ("R-8.10.1", "R-7.1.3"), "surveillance")
CONDUCTED = frozenset({"completed"})


def cases(session: Session, today: date) -> list[Case]:
    names = organisation_names(session)
    found = []
    for programme, certificate in _cycles(session):
        start = _cycle_start(session, programme, certificate)
        activities = {
            a.kind: a
            for a in session.scalars(
                select(ProgrammeActivity)
                .where(ProgrammeActivity.programme_id == programme.id)
                .order_by(ProgrammeActivity.id)
            )
        }
        s1_done = _conducted_on(session, activities.get("surveillance_1"))
        s1_last_day = surveillance_1_due(start)
        found.append(_case(session, programme, certificate, names, 1, s1_last_day, s1_done, today))
        if s1_done is None:
            continue  # the second is measured from the end of the first
        s2 = activities.get("surveillance_2")
        s2_last_day = surveillance_2_due(s1_done)
        if s2 is not None and s2.extension_approved:
            hard_limit = surveillance_2_hard_limit(s1_done, start, certificate.expires_on)
            s2_last_day = min(s2.extension_requested_to or hard_limit, hard_limit)
        s2_done = _conducted_on(session, s2)
        found.append(_case(session, programme, certificate, names, 2, s2_last_day, s2_done, today))
    return [case for case in found if case is not None]


def _cycles(session: Session):
    """Each programme with the certificate issued from its application (a reissue within the
    cycle carries a change date and is followed by `current_certificate`)."""
    rows = session.execute(
        select(AuditProgramme, Certificate)
        .join(Certificate, Certificate.application_id == AuditProgramme.application_id)
        .where(Certificate.changed_on.is_(None))
        .order_by(AuditProgramme.id, Certificate.id)
    ).all()
    return [(programme, certificate) for programme, certificate in rows]


def _cycle_start(session: Session, programme: AuditProgramme, certificate: Certificate) -> date:
    """R-7.1.1: the cycle runs from the certification decision date."""
    if programme.cycle_start is not None:
        return programme.cycle_start
    decision = session.get(Decision, certificate.decision_id) if certificate.decision_id else None
    return decision.decided_on if decision else certificate.original_issued_on


def _conducted_on(session: Session, activity: ProgrammeActivity | None) -> date | None:
    """The last day of the activity's audit when it was conducted."""
    if activity is None or activity.audit_id is None:
        return None
    audit = session.get(Audit, activity.audit_id)
    if audit is None or audit.status not in CONDUCTED:
        return None
    return audit.end_date


def _ended_before(session: Session, certificate: Certificate, last_day: date) -> bool:
    """The cycle ended (withdrawn, cancelled) before the surveillance fell due: none owed."""
    current = current_certificate(session, certificate)
    return (
        current.status in ("withdrawn", "cancelled")
        and current.status_changed_on is not None
        and current.status_changed_on <= last_day
    )


def _case(session, programme, certificate, names, number, last_day, done_on, today):
    case = deadline_case(
        key=f"programme:{programme.id}:surveillance_{number}",
        subject=certificate.number,
        last_day=last_day,
        done_on=done_on,
        today=today,
        organisation_id=programme.organisation_id,
        names=names,
        event=f"surveillance_{number}",
    )
    if case is None or (done_on is None and _ended_before(session, certificate, last_day)):
        return None
    return case
