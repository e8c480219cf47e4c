"""Who took part in which audit (R-7.2, R-8.8): the auditor record of a user, a user's
appointment to an audit team, whether a user audited an application (impartiality)."""

from sqlalchemy import select, union
from sqlalchemy.orm import Session

from certflow.models import User
from domain.models import Audit, Auditor, AuditProgramme, AuditTeamMember


def auditor_of_actor(session: Session, username: str) -> Auditor | None:
    """The auditor record of the user `username`, if that user is an auditor at all."""
    return session.scalars(
        select(Auditor).join(User, Auditor.user_id == User.id).where(User.username == username)
    ).first()


def team_membership(session: Session, audit_id: int, username: str) -> AuditTeamMember | None:
    """The actor's appointment to the team of `audit_id`, if any."""
    auditor = auditor_of_actor(session, username)
    if auditor is None:
        return None
    return session.scalars(
        select(AuditTeamMember).where(
            AuditTeamMember.audit_id == audit_id, AuditTeamMember.auditor_id == auditor.id
        )
    ).first()


def audits_of_application(session: Session, application_id: int) -> list[int]:
    """Ids of every audit of an application: linked directly or through its programme.

    Two indexed lookups in a UNION: one condition OR-ed across the join made PostgreSQL read
    `audit` whole (4 000 rows a lookup at 1 000 certificates, issue 16)."""
    direct = select(Audit.id).where(Audit.application_id == application_id)
    through_programme = (
        select(Audit.id)
        .join(AuditProgramme, Audit.programme_id == AuditProgramme.id)
        .where(AuditProgramme.application_id == application_id)
    )
    return sorted(session.scalars(union(direct, through_programme)))


def audited_application(session: Session, application_id: int, username: str) -> bool:
    """True when the actor was on the team of any audit of the application (R-8.8)."""
    auditor = auditor_of_actor(session, username)
    audit_ids = audits_of_application(session, application_id)
    if auditor is None or not audit_ids:
        return False
    found = session.scalars(
        select(AuditTeamMember.id).where(
            AuditTeamMember.audit_id.in_(audit_ids), AuditTeamMember.auditor_id == auditor.id
        )
    ).first()
    return found is not None
