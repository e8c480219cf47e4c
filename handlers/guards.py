"""Task guards: who may claim and complete a task beyond holding its role.

The engine calls a guard on claim and on complete (`engine/service.py`, `_check_guard`); it
returns None to allow or the reason for refusing. The actor (a username) is mapped to the
`User`, the `Auditor` with that user id, and that auditor's `AuditTeamMember` rows (queries in
`domain/people.py`). Admin does not bypass these guards: impartiality and the team's
appointment are not a matter of rights.
"""

from typing import Any

from domain.people import (
    audited_application,
    team_membership,
)
from handlers.registry import GuardContext, guard


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
