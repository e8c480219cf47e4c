"""The on-site audit's frame (R-8.5): the opening meeting, the audit department's decision on an
escalation, a termination, the closing meeting. Evidence: domain/audit/evidence.py."""

from datetime import date, datetime
from typing import Any

from domain.acting import Acting, stamp
from domain.audit.common import get_audit, require_status
from domain.audit.escalation_changes import plan_revision, scope_proposal
from domain.checks import checked_keys, optional_text, require_list, require_past_date
from domain.errors import RuleViolation
from domain.models import Audit

# the 16 items of the opening meeting; the form `forms/opening_meeting.json` uses the
# same keys. Values: (Chinese, English).
OPENING_MEETING_ITEMS: dict[str, tuple[str, str]] = {
    "introductions": ("介绍审查组成员及其分工", "Introduce the audit team members and their roles"),
    "level_scope_confirmed": (
        "确认申请认证的星级和认证范围",
        "Confirm the star level applied for and the certification scope",
    ),
    "plan_confirmed": ("确认审查计划及相关安排", "Confirm the audit plan and its arrangements"),
    "communication_channels": (
        "确认审查组与受审查方之间的正式沟通渠道",
        "Confirm the formal communication channels between the team and the client",
    ),
    "resources": (
        "确认审查所需的资源和设施已具备",
        "Confirm that the resources and facilities the team needs are available",
    ),
    "confidentiality": ("确认保密事宜", "Confirm confidentiality matters"),
    "safety": (
        "确认审查组相关的健康、安全和安保要求",
        "Confirm health, safety and security arrangements for the team",
    ),
    "guides_observers": (
        "确认陪同人员和观察员的安排及其作用",
        "Confirm the guides and observers, and their roles",
    ),
    "reporting_method": (
        "报告审查发现的方法（包括扣分项的判定）",
        "Method of reporting findings (including how deduction items are graded)",
    ),
    "termination_conditions": (
        "提前终止审查的条件",
        "Conditions under which the audit may be terminated early",
    ),
    "leader_responsibility": (
        "审查组长对审查实施负责",
        "The team leader is responsible for conducting the audit",
    ),
    "previous_findings": (
        "以往审查发现的状况（如适用）",
        "Status of findings of earlier audits (where applicable)",
    ),
    "sampling_method": (
        "基于抽样的审查方法",
        "Audit methods, based on sampling",
    ),
    "language": ("审查使用的语言", "Language of the audit"),
    "progress_reporting": (
        "审查期间向受审查方通报审查进展",
        "Keeping the client informed of the audit's progress",
    ),
    "questions": ("受审查方提问的机会", "Opportunity for the client to ask questions"),
}

# a–e: what the closing meeting covers; the form `forms/closing_meeting.json` uses the
# same keys.
CLOSING_MEETING_ITEMS: dict[str, tuple[str, str]] = {
    "sampling_uncertainty": (
        "审查证据基于抽样，存在不确定性",
        "Audit evidence is based on samples and carries uncertainty",
    ),
    "reporting_method_timetable": ("报告的方式和时间安排", "Method and timetable of reporting"),
    "deduction_items": ("扣分项的说明", "The deduction items found"),
    "post_audit_activities": (
        "审查后的活动（不符合整改、验证、认证决定）",
        "Post-audit activities (corrections, verification, certification decision)",
    ),
    "complaints_appeals": ("投诉和申诉的处理过程", "How complaints and appeals are handled"),
}

ESCALATION_DECISIONS = ("continue", "modify_plan", "change_scope", "terminate")
TERMINATION_REASONS = ("client_not_cooperating", "material_difference", "other_impossible")
# R-8.5.6 (1)–(3) as they are told to a person and recorded.
TERMINATION_LABELS = {
    "client_not_cooperating": ("客户对审查活动不予配合", "the client did not cooperate"),
    "material_difference": (
        "客户实际情况与申请材料有重大不一致",
        "the client's actual situation differs materially from the application",
    ),
    "other_impossible": (
        "其他导致审查程序无法完成的情况",
        "other reasons made the audit impossible",
    ),
}
# A terminated surveillance audit suspends the certificate under the case that fits the
# termination reason: not cooperating, or the audit could not be done → (a) surveillance not
# carried out; a material difference from what was certified → (b) the capability does not meet
# the certification requirements (docs/decisions.md).
SUSPENSION_FOR_TERMINATION = {
    "client_not_cooperating": "a",
    "material_difference": "b",
    "other_impossible": "a",
}


def record_opening_meeting(
    act: Acting, audit_id: int, *, meeting_date: Any, attendees: Any, checklist: Any, notes: Any
) -> None:
    """R-8.5.1: the opening meeting, chaired by the team leader, every checklist item confirmed;
    the audit is then in progress."""
    audit = get_audit(act.session, audit_id)
    require_status(audit, ["planned"], "R-8.5.1", "hold the opening meeting")
    if not (audit.plan or {}).get("activities"):
        raise RuleViolation("R-8.5.1", "there is no audit plan to confirm (R-7.3)")
    day = check_opening_meeting_date(audit, meeting_date, act.now)
    confirmed = checked_keys(checklist, OPENING_MEETING_ITEMS, "checklist", "R-8.5.1")
    audit.opening_meeting = {
        "meeting_date": day.isoformat(),
        "attendees": require_list(attendees, "attendees", "R-8.5.1"),
        "checklist": {key: True for key in confirmed},
        "notes": optional_text(notes),
        **stamp(act, "chaired_by", "recorded_at"),
    }
    audit.status = "in_progress"


def check_opening_meeting_date(audit: Audit, meeting_date: Any, now: datetime) -> date:
    """R-8.5.1: the meeting has happened (not in the future) and falls within the on-site dates
    (form check `audit.opening_meeting_fits` and record_opening_meeting)."""
    day = require_past_date(meeting_date, "meeting_date", "R-8.5.1", now)
    if audit.start_date and audit.end_date and not (audit.start_date <= day <= audit.end_date):
        raise RuleViolation(
            "R-8.5.1",
            f"首次会议日期 {day} 不在现场审查日期 {audit.start_date}–{audit.end_date} 之内 "
            f"meeting on {day} is outside the on-site dates {audit.start_date}–{audit.end_date}",
            field="meeting_date",
        )
    return day


def check_closing_meeting_date(meeting_date: Any, now: datetime) -> date:
    """R-8.5.7: the closing meeting has happened (not in the future)."""
    return require_past_date(meeting_date, "meeting_date", "R-8.5.7", now)


def record_escalation_decision(
    act: Acting,
    audit_id: int,
    *,
    decision: Any,
    termination_reason: Any,
    notes: Any,
    plan_changes: Any = None,
    new_end_date: Any = None,
    new_scope: Any = None,
) -> str:
    """R-8.5.3: the audit department decides on the pending escalation; a modified plan changes
    the plan now (a); a scope change is proposed with the new scope and decided together with
    the market department in its own task (b, domain/audit/escalation_changes.py); a
    termination names an R-8.5.6 reason."""
    audit = get_audit(act.session, audit_id)
    require_status(audit, ["in_progress"], "R-8.5.3", "decide an escalation")
    escalations = list(audit.escalations or [])
    pending = next(
        (i for i in reversed(range(len(escalations))) if "decision" not in escalations[i]), None
    )
    if pending is None:
        raise RuleViolation("R-8.5.3", "there is no escalation waiting for a decision")
    if decision not in ESCALATION_DECISIONS:
        raise RuleViolation("R-8.5.3", f"decision must be one of {ESCALATION_DECISIONS}")
    changes: dict[str, Any] = {}
    if decision == "modify_plan":
        changes["plan_revision"] = plan_revision(act, audit, plan_changes, new_end_date)
    if decision == "change_scope":
        changes.update(scope_proposal(audit, new_scope))
    reason = termination_reason or None
    if decision == "terminate" and reason not in TERMINATION_REASONS:
        raise RuleViolation(
            "R-8.5.6", f"a termination needs one of the reasons {TERMINATION_REASONS}"
        )
    escalations[pending] = {
        **escalations[pending],
        "decision": decision,
        **changes,
        "termination_reason": reason if decision == "terminate" else None,
        "notes": optional_text(notes),
        **stamp(act, "decided_by", "decided_at"),
    }
    audit.escalations = escalations
    return decision


def terminate(act: Acting, audit_id: int, reason: Any) -> dict[str, Any]:
    """R-8.5.6: terminate the audit, with the audit department's approval and a listed reason.
    → the reason, its text and, for a surveillance, the R-9.5.1 case of the suspension."""
    audit = get_audit(act.session, audit_id)
    require_status(audit, ["planned", "in_progress"], "R-8.5.6", "terminate the audit")
    if reason not in TERMINATION_REASONS:
        raise RuleViolation(
            "R-8.5.6",
            f"an audit is terminated only for one of {TERMINATION_REASONS}, got {reason!r}",
        )
    decided = [entry for entry in audit.escalations or [] if "decision" in entry]
    if not decided or decided[-1]["decision"] != "terminate":
        raise RuleViolation("R-8.5.6", "the audit department has not approved a termination")
    audit.status = "terminated"
    audit.termination_reason = reason
    audit.terminated_at = act.now
    zh, en = TERMINATION_LABELS[reason]
    return {
        "terminated": True,
        "termination_reason": reason,
        "termination_text": f"{zh} {en}",
        "suspension_reason": SUSPENSION_FOR_TERMINATION[reason],
    }


def record_closing_meeting(
    act: Acting,
    audit_id: int,
    *,
    meeting_date: Any,
    attendees: Any,
    items_covered: Any,
    client_questions: Any,
    disagreements: Any,
) -> None:
    """R-8.5.7: the closing meeting after the conclusion, items a–e covered, attendance and
    unresolved disagreements recorded; the audit is completed."""
    audit = get_audit(act.session, audit_id)
    require_status(audit, ["in_progress"], "R-8.5.7", "hold the closing meeting")
    if audit.conclusion is None:
        raise RuleViolation("R-8.5.5", "the conclusion is made before the closing meeting")
    day = check_closing_meeting_date(meeting_date, act.now)
    items = checked_keys(items_covered, CLOSING_MEETING_ITEMS, "items_covered", "R-8.5.7")
    audit.closing_meeting = {
        "meeting_date": day.isoformat(),
        "attendees": require_list(attendees, "attendees", "R-8.5.7"),
        "items_covered": {key: True for key in items},
        "client_questions": optional_text(client_questions),
        "disagreements": optional_text(disagreements),
        **stamp(act, "chaired_by", "recorded_at"),
    }
    audit.status = "completed"
