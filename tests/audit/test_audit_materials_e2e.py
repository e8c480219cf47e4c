"""R-8.6 through the real diagrams (issue 15): after the closing meeting the team leader submits
the audit report and materials within the time limit (§8.6.2) and answers for the report
(§8.6.3); when the limit passes the audit department chases; the report shows the submission.
Every audit has its report with the client's receipt — the surveillance audit too."""

from datetime import date, timedelta

from sqlalchemy import select

from certflow.db import db
from domain.models import Audit, Document
from tests.certification_case import (
    findings_losing,
)
from tests.forms.test_form_checks import refused

MATERIALS = {"report_responsibility": True, "materials_complete": True, "materials_notes": None}


def to_closing_meeting(case):
    case.apply()
    case.review()
    case.contract()
    case.programme()
    case.appoint()
    case.plan_and_prepare()
    case.opening_meeting()
    case.evidence(findings_losing(40))
    case.conclude("recommend", [], submit=False)


def tasks(case) -> list[str]:
    return [element for element in case.active() if element.startswith("Task_")]


def audit() -> Audit:
    db.session.rollback()
    return db.session.scalars(select(Audit)).one()


def test_the_leader_submits_the_materials_in_time_and_answers_for_the_report(case):
    to_closing_meeting(case)
    assert tasks(case) == ["Task_SubmitAuditMaterials"]  # no report before the submission
    meeting = date.fromisoformat(audit().closing_meeting["meeting_date"])
    due_on = case.data("Task_SubmitAuditMaterials")["closing"]["materials_due_on"]
    assert due_on == (meeting + timedelta(days=4)).isoformat()  # 5 days, the meeting day first
    not_answering = {**MATERIALS, "report_responsibility": False}
    errors = refused(case, "Task_SubmitAuditMaterials", case.people.leader, not_answering)
    assert "report_responsibility" in errors
    case.complete("Task_SubmitAuditMaterials", case.people.leader, MATERIALS)
    submission = audit().conclusion_notes["report_submission"]
    assert submission["submitted_by"] == case.people.leader.username and submission["in_time"]
    [report] = db.session.scalars(select(Document).where(Document.kind == "audit_report")).all()
    assert report.data["submission"]["submitted_by"] == case.people.leader.username
    assert case.people.leader.username in report.body  # the leader answers for the report
    assert "Task_ConfirmReportReceipt" in tasks(case)


def test_late_materials_are_chased_and_recorded_as_late(case):
    to_closing_meeting(case)
    case.at(29 + 6)  # the 5 days from the closing meeting (day 29) have passed
    case.engine.fire_due_timers()
    assert sorted(tasks(case)) == ["Task_ChaseAuditMaterials", "Task_SubmitAuditMaterials"]
    case.complete(
        "Task_ChaseAuditMaterials",
        case.people.audit_dept,
        {"chase_note": "已电话督促组长 phoned the team leader"},
    )
    case.complete("Task_SubmitAuditMaterials", case.people.leader, MATERIALS)
    assert audit().conclusion_notes["report_submission"]["in_time"] is False
    assert tasks(case) == ["Task_ConfirmReportReceipt"]
