"""The audit report and materials the team leader submits after the closing meeting (R-8.6
§8.6.2 在规定的时间内完成并提交审查材料, §8.6.3 审查组长对审查报告中所有内容负责): the time limit
(AUDIT_MATERIALS_DAYS days starting the day of the closing meeting, docs/calendar.md and
docs/decisions.md) and the leader's submission, recorded with the audit and shown in the report.
"""

from datetime import date
from typing import Any

from certflow.dates import china_date, last_day_of_days, limit_timer
from domain.acting import Acting, stamp
from domain.audit.common import get_audit, require_status
from domain.checks import is_true, optional_text
from domain.errors import RuleViolation
from domain.programme_dates import parse_iso_date


def materials_deadline(act: Acting, audit_id: int, days: int) -> dict:
    """R-8.6: the last day to submit the report and materials, and the instant its timer acts
    (the day after, 09:00 China time). Result {"materials_due_on", "materials_due_at"}."""
    audit = get_audit(act.session, audit_id)
    meeting = (audit.closing_meeting or {}).get("meeting_date")
    if meeting is None:
        raise RuleViolation("R-8.6", "the materials are due after the closing meeting")
    due = last_day_of_days(parse_iso_date(meeting), days)
    return {"materials_due_on": due.isoformat(), "materials_due_at": limit_timer(due)}


def record_submission(
    act: Acting,
    audit_id: int,
    *,
    report_responsibility: Any,
    materials_complete: Any,
    notes: Any,
    due_on: Any,
) -> dict:
    """R-8.6 §8.6.3: the team leader submits the complete report and audit materials and
    answers for every part of the report; whether it came in time (§8.6.2) is recorded."""
    audit = get_audit(act.session, audit_id)
    require_status(audit, ["completed"], "R-8.6", "submit the audit materials")
    if not is_true(report_responsibility):
        raise RuleViolation(
            "R-8.6", "the team leader answers for all the contents of the audit report"
        )
    if not is_true(materials_complete):
        raise RuleViolation("R-8.6", "the audit materials are submitted complete")
    submitted_on = china_date(act.now)
    due: date | None = parse_iso_date(due_on) if due_on else None
    submission = {
        **stamp(act, "submitted_by", "submitted_at"),
        "due_on": due.isoformat() if due else None,
        "in_time": due is None or submitted_on <= due,
        "notes": optional_text(notes),
    }
    audit.conclusion_notes = {**(audit.conclusion_notes or {}), "report_submission": submission}
    return submission
