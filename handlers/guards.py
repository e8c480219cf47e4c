"""Task guards: who may claim and complete a task beyond holding its role.

The engine calls a guard on claim and on complete (`engine/service.py`, `_check_guard`); it
returns None to allow or the reason for refusing. The actor (a username) is mapped to the
`User`, the `Auditor` with that user id, and that auditor's `AuditTeamMember` rows. Admin does
not bypass these guards: impartiality and the team's appointment are not a matter of rights.
"""

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from certflow.models import User
from domain.models import Audit, Auditor, AuditProgramme, AuditTeamMember
from handlers.registry import GuardContext, guard


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
    """Ids of every audit of an application: linked directly or through its programme."""
    return list(
        session.scalars(
            select(Audit.id)
            .outerjoin(AuditProgramme, Audit.programme_id == AuditProgramme.id)
            .where(
                or_(
                    Audit.application_id == application_id,
                    AuditProgramme.application_id == application_id,
                )
            )
            .order_by(Audit.id)
        )
    )


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


def _case_id(data: dict[str, Any], key: str) -> int | None:
    value = data.get(key)
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@guard("appointed_team_leader")
def appointed_team_leader(ctx: GuardContext) -> str | None:
    """R-7.3, R-8.5.1, R-8.5.7: only the appointed team leader of `audit_id` acts here."""
    audit_id = _case_id(ctx.data, "audit_id")
    if audit_id is None:
        return "R-7.2.5: the case has no audit_id, so the appointed team leader is unknown"
    member = team_membership(ctx.session, audit_id, ctx.actor)
    if member is None or member.role != "leader":
        return (
            f"R-7.2.5/R-7.3: only the appointed team leader of audit {audit_id} may do this task; "
            f"{ctx.actor} is not"
        )
    return None


@guard("auditor_on_team")
def auditor_on_team(ctx: GuardContext) -> str | None:
    """R-7.2.4, R-8.5.2: an auditor (leader or auditor, not a technical expert) of the team."""
    audit_id = _case_id(ctx.data, "audit_id")
    if audit_id is None:
        return "R-7.2.4: the case has no audit_id, so the audit team is unknown"
    member = team_membership(ctx.session, audit_id, ctx.actor)
    if member is None:
        return f"R-7.2.4: {ctx.actor} is not on the audit team of audit {audit_id}"
    if member.role == "tech_expert" or member.auditor.is_technical_expert:
        return (
            f"R-7.2.4: {ctx.actor} is a technical expert on audit {audit_id}; technical experts "
            "advise the team but never record findings or act as auditors"
        )
    return None


@guard("not_on_audit_team")
def not_on_audit_team(ctx: GuardContext) -> str | None:
    """R-8.8: the decision maker took no part in any audit of the application."""
    application_id = _case_id(ctx.data, "application_id")
    if application_id is None:
        return "R-8.8: the case has no application_id, so impartiality cannot be checked"
    if audited_application(ctx.session, application_id, ctx.actor):
        return (
            f"R-8.8: {ctx.actor} was on an audit team of application {application_id}; "
            "certification decisions are made by people who did not take part in the audit"
        )
    return None
