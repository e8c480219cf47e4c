"""Replacing a member of the audit team while the audit is planned or under way (R-7.3: the work
allocation may change during the audit to achieve its objectives; R-7.2.1 the scheduler appoints
the team).

The new team is checked with the appointment's own rules (domain/team.py: registration valid
through the on-site dates, evaluation, experts never as auditors, leader qualification, field
competence and audit languages, conflicts of interest — R-7.2.1–R-7.2.4); a refused change is
answered with the same worded reasons and writes nothing. An accepted change replaces the
member's appointment, passes the replaced member's activities of the plan to the new member, is
kept in the plan (`team_changes`: who for whom, why, who decided, when), and issues a revised
appointment letter (审查委任, R-7.2.5) — a document of the client's case, so the client learns
of the new team.
"""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.acting import Acting, stamp
from domain.audit.common import get_audit, require_status
from domain.audit.reassignment import OPEN_STATUSES
from domain.checks import require_id
from domain.errors import RuleViolation
from domain.models import Auditor, AuditTeamMember, Document
from domain.team import (
    Nominee,
    _appointment_letter,
    _conflict_refusals,
    _team_refusals,
    composition_refusals,
    impartiality_flags,
)
from domain.values import required_text

MAX_REASON = 2000


def _appointment_facts(session: Session, audit_id: int) -> dict[str, Any]:
    """The considerations (audit languages, written text) of the audit's latest appointment."""
    letter = session.scalars(
        select(Document)
        .where(Document.audit_id == audit_id, Document.kind == "appointment_letter")
        .order_by(Document.id.desc())
        .limit(1)
    ).first()
    return dict((letter.data or {}).get("considerations") or {}) if letter else {}


def _username(auditor: Auditor | None) -> str | None:
    return auditor.user.username if auditor is not None and auditor.user is not None else None


def replace_member(
    act: Acting, audit_id: int, *, replaced_auditor_id: Any, new_auditor_id: Any, reason: Any
) -> dict[str, Any]:
    """Replace one appointed member by another person in the same role. → {"replaced": bool,
    "refusals": [...]} and, when replaced, the usernames whose open tasks pass on
    (`from_username`, `to_username`) and the revised appointment letter."""
    audit = get_audit(act.session, audit_id)
    require_status(audit, OPEN_STATUSES, "R-7.3", "change the audit team")
    if audit.start_date is None or audit.end_date is None:
        raise RuleViolation("R-7.3", "the audit has no on-site dates: appoint the team first")
    replaced_id = require_id(replaced_auditor_id, "replaced_auditor_id")
    new_id = require_id(new_auditor_id, "new_auditor_id")
    member = next((m for m in audit.team if m.auditor_id == replaced_id), None)
    if member is None:
        raise RuleViolation(
            "R-7.3", "此人不是本审查组成员 not a member of this team", field="replaced_auditor_id"
        )
    why = required_text(reason, "reason", "R-7.3", "更换原因 why", MAX_REASON)
    newcomer = act.session.get(Auditor, new_id) if new_id < 2**31 else None
    nominee = Nominee(new_id, member.role, newcomer)
    nominees = [Nominee(m.auditor_id, m.role, m.auditor) for m in audit.team if m is not member] + [
        nominee
    ]
    facts = _appointment_facts(act.session, audit.id)
    # The appointment's own checks, on the team as it would be.
    refusals = _team_refusals(nominees, audit.end_date)
    refusals += composition_refusals(
        nominees, facts.get("audit_languages"), facts.get("text") or None
    )
    flags = impartiality_flags(act.session, audit, [nominee], audit.start_date)
    refusals += _conflict_refusals(flags)
    if refusals:
        return {"replaced": False, "refusals": refusals}

    from_username = _username(member.auditor)
    from_name = member.auditor.name
    act.session.delete(member)
    act.session.flush()
    act.session.add(
        AuditTeamMember(
            audit_id=audit.id,
            auditor_id=new_id,
            role=member.role,
            flags=[{"flag": f["flag"], "detail": f["detail"]} for f in flags],
            appointed_by=act.actor,
            appointed_at=act.now,
        )
    )
    act.session.flush()
    act.session.expire(audit, ["team"])
    moved = _pass_on_plan_work(audit, replaced_id, new_id)
    plan = dict(audit.plan or {})
    change = {
        "role": member.role,
        "from_auditor_id": replaced_id,
        "from_name": from_name,
        "to_auditor_id": new_id,
        "to_name": newcomer.name,
        "reason": why,
        "activities_passed_on": moved,
        "audit_status": audit.status,
        **stamp(act, "changed_by", "changed_at"),
    }
    audit.plan = {**plan, "team_changes": [*(plan.get("team_changes") or []), change]}
    texts = {
        "objectives": audit.objectives,
        "criteria": audit.criteria,
        "scope_and_boundaries": audit.scope,
    }
    letter_id = _appointment_letter(
        act, audit, nominees, texts, audit.start_date, audit.end_date, facts
    )
    return {
        "replaced": True,
        "refusals": [],
        "change": change,
        "from_username": from_username,
        "to_username": _username(newcomer),
        "letter_document_id": letter_id,
    }


def _pass_on_plan_work(audit: Any, replaced_id: int, new_id: int) -> list[int]:
    """The replaced member's activities of the plan go to the new member (indexes)."""
    plan = dict(audit.plan or {})
    activities = [dict(row) for row in plan.get("activities") or []]
    moved = [i for i, row in enumerate(activities) if row.get("auditor_id") == replaced_id]
    if not moved:
        return []
    for i in moved:
        activities[i]["auditor_id"] = new_id
    audit.plan = {**plan, "activities": activities, "revision": int(plan.get("revision", 0)) + 1}
    return moved
