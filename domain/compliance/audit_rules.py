"""Indicators read from audits and their teams: the decision maker was not on the audit team
(R-8.8), every auditor's registration valid on every audit day (R-7.2.2), nonconformities
answered and accepted by their deadline (R-8.7), and auditor rotation (none set by the rules)."""

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from certflow.dates import china_date
from certflow.models import User
from domain.compliance.common import deadline_case, organisation_names
from domain.compliance.model import Case, Definition
from domain.models import Application, Audit, Auditor, AuditTeamMember, Decision, Nonconformity
from domain.models_people import AuditorEvent

DECISION = Definition("decision_independent", ("R-8.8", "R-13"), "certification")
REGISTRATION = Definition("registration_valid", ("R-7.2.2",), "certification")
NONCONFORMITY = Definition("nc_closed_in_time", ("R-8.7",), "nonconformity")
# R-7.2.1 (5) asks the scheduler to consider whether a member audited the organisation before;
# the rules set no rotation limit, so there is nothing to count (said on the page).
ROTATION = Definition("auditor_rotation", ("R-7.2.1",), "certification")
CONDUCTED = frozenset({"completed"})


def _team(session: Session, audit_id: int) -> list[tuple[Auditor, str | None]]:
    return list(
        session.execute(
            select(Auditor, User.username)
            .join(AuditTeamMember, AuditTeamMember.auditor_id == Auditor.id)
            .outerjoin(User, User.id == Auditor.user_id)
            .where(AuditTeamMember.audit_id == audit_id)
            .order_by(AuditTeamMember.id)
        ).all()
    )


def decision_cases(session: Session, today: date) -> list[Case]:
    """R-8.8: the decision is taken by someone who did not take part in the audit."""
    names = organisation_names(session)
    found = []
    rows = session.execute(
        select(Decision, Audit, Application.number)
        .join(Audit, Audit.id == Decision.audit_id)
        .join(Application, Application.id == Decision.application_id)
        .order_by(Decision.id)
    ).all()
    for decision, audit, application_number in rows:
        on_team = [
            a.name for a, username in _team(session, audit.id) if username == decision.decided_by
        ]
        found.append(
            Case(
                key=f"decision:{decision.id}",
                subject=application_number,
                reference_day=decision.decided_on,
                kept=not on_team,
                organisation_id=audit.organisation_id,
                organisation_name=names.get(audit.organisation_id, ""),
                actual=decision.decided_on,
                reason="on_team" if on_team else "",
                people=tuple(on_team),
            )
        )
    return found


def registration_cases(session: Session, today: date) -> list[Case]:
    """R-7.2.2: every auditor of a conducted audit (technical experts excepted, R-7.2.4) holds a
    registration that is valid on every day of the audit."""
    names = organisation_names(session)
    histories = _registration_histories(session)
    found = []
    audits = session.scalars(
        select(Audit)
        .where(Audit.status.in_(CONDUCTED), Audit.start_date.is_not(None))
        .order_by(Audit.id)
    )
    for audit in audits:
        end = audit.end_date or audit.start_date
        lapsed = [
            auditor.name
            for auditor, _ in _team(session, audit.id)
            if not auditor.is_technical_expert
            and not _valid_through(auditor, histories.get(auditor.id, []), audit.start_date, end)
        ]
        found.append(
            Case(
                key=f"audit:{audit.id}",
                subject=f"{audit.start_date.isoformat()} – {end.isoformat()}",
                reference_day=end,
                kept=not lapsed,
                organisation_id=audit.organisation_id,
                organisation_name=names.get(audit.organisation_id, ""),
                actual=end,
                reason="registration" if lapsed else "",
                people=tuple(lapsed),
            )
        )
    return found


def _valid_through(auditor: Auditor, history: list[AuditorEvent], first: date, last: date) -> bool:
    if not auditor.registration_number:
        return False
    day = first
    while day <= last:
        expires = _expiry_in_force(auditor, history, day)
        if expires is None or day > expires:
            return False
        day += timedelta(days=1)
    return True


def _expiry_in_force(auditor: Auditor, history: list[AuditorEvent], day: date) -> date | None:
    """The registration's expiry as the register stood on `day`: the latest registration
    event recorded by then (`history`, oldest first; domain/auditor_register.py), else — no
    history at all — the auditor's current expiry."""
    if not history:
        return auditor.registration_expires_on
    in_force = [event for event in history if event.on_date <= day]
    return in_force[-1].expires_after if in_force else None


def _registration_histories(session: Session) -> dict[int, list[AuditorEvent]]:
    """Every auditor's registration events that set an expiry, oldest first (one query)."""
    histories: dict[int, list[AuditorEvent]] = {}
    for event in session.scalars(
        select(AuditorEvent)
        .where(AuditorEvent.expires_after.is_not(None))
        .order_by(AuditorEvent.on_date, AuditorEvent.id)
    ):
        histories.setdefault(event.auditor_id, []).append(event)
    return histories


def nonconformity_cases(session: Session, today: date) -> list[Case]:
    """R-8.7: the client's correction and corrective action, accepted at verification, were
    answered by the NC's deadline; an NC not accepted when its deadline passed is a breach."""
    names = organisation_names(session)
    found = []
    rows = session.execute(
        select(Nonconformity, Audit)
        .join(Audit, Audit.id == Nonconformity.audit_id)
        .where(Nonconformity.deadline.is_not(None))
        .order_by(Nonconformity.id)
    ).all()
    for nc, audit in rows:
        accepted = nc.status == "accepted" and nc.answered_at is not None
        done_on = china_date(nc.answered_at) if accepted else None
        case = deadline_case(
            key=f"nc:{nc.id}",
            subject=nc.number,
            last_day=nc.deadline,
            done_on=done_on,
            today=today,
            organisation_id=audit.organisation_id,
            names=names,
        )
        if case is not None:
            found.append(case)
    return found
