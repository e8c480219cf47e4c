"""R-7.3 through the real diagrams and the page: during the on-site audit the scheduler replaces
the auditor who holds the evidence task; the replaced auditor's claimed task passes to the new
member through the engine's reassignment (logged), the new member collects the evidence (the
guard auditor_on_team lets the new team member act) and the replaced one no longer holds it; the
team leader's reassignment of the plan's work is kept in the plan."""

import pytest
from flask import g
from sqlalchemy import select

from certflow.db import db
from domain.models import Audit
from engine.errors import ConflictError
from engine.models import EventLog, HumanTask
from engine.service import Actor
from tests.certification_case import findings_losing
from tests.factories import make_auditor
from tests.web_support import Browser


def fresh_g() -> None:
    """The engine fixtures keep an app context pushed, which the test client's requests reuse:
    forget the previous user and CSRF token (flask_login and flask_wtf cache them on `g`)."""
    g.pop("_login_user", None)
    g.pop("csrf_token", None)


def signed_in(app, username: str, password: str, page: str) -> Browser:
    """`username` signed in, with `page` read (its CSRF token is the session's)."""
    fresh_g()
    browser = Browser(app)
    assert browser.login(username, password).status_code == 302
    fresh_g()
    assert browser.get(page).status_code == 200
    return browser


def test_a_member_replaced_during_the_audit_hands_over_the_evidence_task(case, app, engine):
    case.apply()
    case.review()
    case.contract()
    case.programme()
    case.appoint()
    case.plan_and_prepare()
    case.opening_meeting()
    task = case.open_task("Task_CollectEvidence")
    engine.claim(task.id, actor=case.people.auditor)  # 李审查 starts collecting evidence
    zhao = make_auditor(
        db.session, case.clock.now(), name="赵审查", username="zhao_auditor", registration="C-9"
    )
    db.session.commit()
    audit = db.session.scalars(select(Audit)).one()

    # The team leader gives the second site to himself …
    page = f"/audits/{audit.id}/team"
    leader = signed_in(app, "zhang_leader", "pw-zhang_leader", page)
    moved = leader.post(
        f"/audits/{audit.id}/work",
        {"activity_index": "1", "auditor_id": str(case.people.leader_id), "reason": "李审查请假"},
    )
    assert moved.status_code == 302, moved.get_data(as_text=True)[-800:]
    # … and the scheduler replaces 李审查 by 赵审查 (R-7.2.1's checks).
    scheduler = signed_in(app, case.people.scheduler.username, "pw", page)
    replaced = scheduler.post(
        f"/audits/{audit.id}/team",
        {
            "replaced_auditor_id": str(case.people.auditor_id),
            "new_auditor_id": str(zhao.id),
            "reason": "李审查因病不能继续审查",
        },
    )
    assert replaced.status_code == 302, replaced.get_data(as_text=True)[-500:]

    db.session.expire_all()
    assert db.session.get(HumanTask, task.id).assignee == "zhao_auditor"
    event = db.session.scalars(
        select(EventLog).where(
            EventLog.task_id == task.id, EventLog.event_type == "task_reassigned"
        )
    ).one()
    assert event.data == {"previous_assignee": "li_auditor", "assignee": "zhao_auditor"}
    audit = db.session.get(Audit, audit.id)
    assert [r["to_name"] for r in audit.plan["reassignments"]] == ["张组长"]
    assert [(c["from_name"], c["to_name"]) for c in audit.plan["team_changes"]] == [
        ("李审查", "赵审查")
    ]

    with pytest.raises(ConflictError):
        case.evidence(findings_losing(80))  # the task is 赵审查's now
    case.evidence(findings_losing(80), who=Actor("zhao_auditor", frozenset({"auditor"})))
    assert "Task_CollectEvidence" not in case.active()
