"""Changing the work allocation while the audit is under way (R-7.3 在审查进程中，为确保实现审查
目的，可以改变工作分配; R-8.5.3 inside the team the leader reassigns work).

The audit plan (domain/audit/preparation.py `record_plan`) is frozen once the audit leaves
"planned"; its work allocation is not: the appointed team leader gives an activity of the plan to
another auditor of the team (never a technical expert, R-7.2.4), saying why. Each change is kept
in the plan (`reassignments`: which activity, from whom, to whom, why, who, when) and raises the
plan's revision, so the report and the file show the plan as carried out.
"""

from typing import Any

from sqlalchemy.orm import Session

from domain.acting import Acting, stamp
from domain.audit.common import get_audit, require_status, team_auditor_ids
from domain.checks import require_id, require_int
from domain.errors import RuleViolation
from domain.models import Audit, Auditor
from domain.people import team_membership
from domain.values import required_text

# The work can change before and during the on-site audit, never after its conclusion.
OPEN_STATUSES = ("planned", "in_progress")
MAX_REASON = 2000


def require_leader(session: Session, audit: Audit, username: str) -> None:
    """R-8.5.3: the appointed team leader reassigns the team's work."""
    member = team_membership(session, audit.id, username)
    if member is None or member.role != "leader":
        raise RuleViolation(
            "R-7.3",
            "只有本次审查的审查组长可以改变工作分配 only the appointed team leader reassigns "
            "the team's work",
        )


def _name(session: Session, auditor_id: int) -> str:
    auditor = session.get(Auditor, auditor_id)
    return auditor.name if auditor is not None else ""


def reassign_work(
    act: Acting, audit_id: int, *, activity_index: Any, auditor_id: Any, reason: Any
) -> dict[str, Any]:
    """R-7.3: give activity `activity_index` of the plan to another auditor of the team."""
    audit = get_audit(act.session, audit_id)
    require_status(audit, OPEN_STATUSES, "R-7.3", "change the work allocation")
    require_leader(act.session, audit, act.actor)
    plan = dict(audit.plan or {})
    activities = [dict(row) for row in plan.get("activities") or []]
    if not activities:
        raise RuleViolation("R-7.3", "审查计划尚未编制 the audit plan is not recorded yet")
    index = require_int(activity_index, "activity_index", "R-7.3", minimum=0)
    if index >= len(activities):
        raise RuleViolation(
            "R-7.3", "审查计划中没有该活动 no such activity in the plan", field="activity_index"
        )
    new_auditor = require_id(auditor_id, "auditor_id")
    if new_auditor not in team_auditor_ids(audit, include_experts=False):
        raise RuleViolation(
            "R-7.2.4",
            "只能分配给本审查组的审查员（技术专家不能作为审查员） only an auditor of this team "
            "(technical experts never audit)",
            field="auditor_id",
        )
    activity = activities[index]
    previous = activity.get("auditor_id")
    if previous == new_auditor:
        raise RuleViolation(
            "R-7.3",
            "该活动已分配给此审查员 the activity is already this auditor's",
            field="auditor_id",
        )
    why = required_text(reason, "reason", "R-7.3", "改变分配的原因 why", MAX_REASON)
    activity["auditor_id"] = new_auditor
    activities[index] = activity
    entry = {
        "activity_index": index,
        "activity": activity.get("activity"),
        "date": activity.get("date"),
        "site_name": activity.get("site_name"),
        "from_auditor_id": previous,
        "from_name": _name(act.session, previous) if isinstance(previous, int) else "",
        "to_auditor_id": new_auditor,
        "to_name": _name(act.session, new_auditor),
        "reason": why,
        "audit_status": audit.status,
        **stamp(act, "reassigned_by", "reassigned_at"),
    }
    # A new dict: the JSON column notices the change.
    audit.plan = {
        **plan,
        "activities": activities,
        "reassignments": [*(plan.get("reassignments") or []), entry],
        "revision": int(plan.get("revision", 0)) + 1,
    }
    return entry
