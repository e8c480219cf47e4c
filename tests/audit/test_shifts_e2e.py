"""R-7.1.4 through the real diagrams (issue 15): 如果客户采用轮班作业，应在建立审查方案和
编制审查计划时考虑在轮班工作中发生的活动 — the programme names the client's shifts, and the
audit plan covers each of them or says why not; both refused at submit (422), never an
incident."""

from flask import current_app
from sqlalchemy import select

from certflow.db import db
from domain.models import Audit, AuditProgramme
from tests.certification_case import NO_SHIFTS
from tests.forms.test_form_checks import no_incident, refused
from webapp.instructions import fill_placeholders

SHIFTS = [
    {"name": "白班", "hours": "08:00–16:00"},
    {"name": "夜班", "hours": "22:00–06:00"},
]


def programme_answers(case, shifts):
    return {
        "mystery_shopping": True,
        "random_survey": True,
        "document_review_date": case.day(10),
        "initial_audit_start": case.day(28),
        "initial_audit_end": case.day(29),
        "man_days": 3.0,
        "sizing_notes": "规模中等、2 个场所、两班倒 medium size, 2 sites, two shifts",
        "shift_work_notes": "两班倒，夜班负责 24 小时报修 two shifts; the night shift takes calls",
        "shifts": shifts,
    }


def shift_client_to_plan(case):
    """A client working in shifts, up to the audit plan."""
    case.instance_id = case.engine.start("certification", actor=case.people.client).id
    case.complete(
        "Task_SubmitApplication",
        case.people.client,
        case.application_answers() | {"shift_work": True},
    )
    case.review()
    case.contract()
    scheduler = case.people.scheduler
    errors = refused(case, "Task_BuildProgramme", scheduler, programme_answers(case, []))
    assert "R-7.1.4" in errors["shifts"][0]
    case.complete("Task_BuildProgramme", scheduler, programme_answers(case, SHIFTS))
    case.appoint()


def plan(case, **shift_answers):
    p = case.people
    sites = case.data("Task_AuditPlan")["application"]["sites"]
    return {
        "activities": [
            {
                "date": case.day(28 + i),
                "site": site["id"],
                "activity": f"审查 {site['name']}",
                "auditor_id": (p.leader_id, p.auditor_id)[i % 2],
                "start": "09:00",
                "duration_hours": 6,
            }
            for i, site in enumerate(sites)
        ],
        **NO_SHIFTS,
        **shift_answers,
    }


def test_the_programme_names_the_shifts_and_the_plan_shows_them(case):
    shift_client_to_plan(case)
    [programme] = db.session.scalars(select(AuditProgramme)).all()
    assert programme.shifts == SHIFTS
    task = case.open_task("Task_AuditPlan")
    with current_app.test_request_context():
        shown = fill_placeholders(
            case.engine.task_details(task)["instructions"], case.data("Task_AuditPlan")
        )
    assert "白班（08:00–16:00）、夜班（22:00–06:00）" in shown


def test_a_plan_must_cover_every_shift_or_say_why_not(case):
    shift_client_to_plan(case)
    leader = case.people.leader
    # No word on the shifts: refused at submit, naming the shifts left out.
    errors = refused(case, "Task_AuditPlan", leader, plan(case))
    [message] = errors["shifts_not_covered_reason"]
    assert message.startswith("R-7.1.4") and "白班、夜班" in message
    # One shift covered, the other neither covered nor explained: still refused.
    day_only = [{"shift": "白班", "how": "第一天 09:00 起审查两个场所"}]
    errors = refused(case, "Task_AuditPlan", leader, plan(case, shift_coverage=day_only))
    assert "夜班" in errors["shifts_not_covered_reason"][0]
    # A shift that is not the programme's is refused.
    unknown = [{"shift": "中班", "how": "x"}]
    errors = refused(case, "Task_AuditPlan", leader, plan(case, shift_coverage=unknown))
    assert any("R-7.1.4" in m for ms in errors.values() for m in ms)
    # Covered by day, the night shift explained: accepted and kept with the plan.
    reason = "夜班仅接听报修电话，已在白班审查中抽查夜班记录 night shift only takes calls"
    case.complete(
        "Task_AuditPlan",
        leader,
        plan(case, shift_coverage=day_only, shifts_not_covered_reason=reason),
    )
    no_incident(case)
    db.session.rollback()
    audit = db.session.scalars(select(Audit)).one()
    assert audit.plan["shifts"] == {
        "covered": [{"shift": "白班", "how": "第一天 09:00 起审查两个场所"}],
        "not_covered": ["夜班"],
        "not_covered_reason": reason,
    }


def test_a_plan_covering_every_shift_needs_no_reason(case):
    shift_client_to_plan(case)
    coverage = [
        {"shift": "白班", "how": "第一天 09:00–15:00"},
        {"shift": "夜班", "how": "第一天 22:00–24:00 审查夜间报修受理"},
    ]
    case.complete("Task_AuditPlan", case.people.leader, plan(case, shift_coverage=coverage))
    db.session.rollback()
    assert db.session.scalars(select(Audit)).one().plan["shifts"]["not_covered"] == []
