"""Incident repair on the web pages (issue 10): the blocked case is said in words on the
submitter's inbox, the case page and the instance page; staff with the retry roles correct the
data and retry, or send the case back, on the repair page; others are refused."""

import re

import pytest
from sqlalchemy import select

from certflow.accounts import create_user
from certflow.db import db
from domain.models import Application
from engine.models import EventLog, HumanTask, Incident
from tests.engine.test_incident_repair import blocked  # noqa: F401  (fixture)
from tests.forms.test_form_checks import FreshBrowser
from tests.web_support import text


@pytest.fixture
def site(app, blocked):  # noqa: F811
    case, incident = blocked
    create_user(
        db.session,
        "ada_admin",
        password="pw-ada",
        roles={"admin"},
        display_name="管理员",
        now=case.clock.now(),
    )
    db.session.commit()
    return case, incident, app


def browser(app, username, password):
    b = FreshBrowser(app)
    assert b.login(username, password).status_code == 302
    return b


def repair_url(case, incident, action="repair"):
    return f"/instances/{case.instance_id}/incidents/{incident.id}/{action}"


def test_the_blocked_case_is_said_in_words_where_people_look(site):
    case, incident, app = site
    leader = browser(app, "zhang_leader", "pw-zhang_leader")
    inbox = text(leader.get("/"))
    assert "您经办的受阻案卷" in inbox and "拒绝了数据" in inbox
    assert "R-8.5.1" in inbox and "Traceback" not in inbox
    admin = browser(app, "ada_admin", "pw-ada")
    page = text(admin.get(f"/instances/{case.instance_id}"))
    assert "data-blocked" in page and "R-8.5.1" in page
    assert "登记首次会议" in page  # the step by its name, not its id
    assert repair_url(case, incident) in page
    organisation_id = db.session.scalars(select(Application)).one().organisation_id
    case_page = text(admin.get(f"/cases/{organisation_id}"))
    assert "data-blocked" in case_page and "R-8.5.1" in case_page


def test_admin_corrects_the_date_and_the_case_goes_on(site):
    case, incident, app = site
    admin = browser(app, "ada_admin", "pw-ada")
    page = admin.get(repair_url(case, incident))
    assert page.status_code == 200
    html = text(page)
    assert f'value="{case.day(29)}"' in html and "会议日期" in html
    lock = re.search(r'name="lock_version" value="(\d+)"', html).group(1)
    bad = admin.post(
        repair_url(case, incident, "correct"),
        {"lock_version": lock, "v/meeting_date": case.day(29), "v/attendees": "[oops"},
    )
    assert bad.status_code == 422 and "v-attendees-errors" in text(bad)
    done = admin.post(
        repair_url(case, incident, "correct"),
        {"lock_version": lock, "v/meeting_date": case.day(28)},
    )
    assert done.status_code == 302
    db.session.rollback()
    assert db.session.get(Incident, incident.id).status == "resolved"
    assert "Task_CollectEvidence" in case.active()
    event = db.session.scalars(
        select(EventLog).where(EventLog.event_type == "incident_data_corrected")
    ).one()
    assert event.actor == "ada_admin"
    assert event.data["changes"]["meeting_date"] == {"before": case.day(29), "after": case.day(28)}


def test_a_stale_repair_page_gets_409(site):
    case, incident, app = site
    admin = browser(app, "ada_admin", "pw-ada")
    html = text(admin.get(repair_url(case, incident)))
    lock = int(re.search(r'name="lock_version" value="(\d+)"', html).group(1))
    response = admin.post(
        repair_url(case, incident, "send-back"),
        {"lock_version": str(lock - 1), "task_id": case.opening_task_id},
    )
    assert response.status_code == 409 and "data-repair-alert" in text(response)


def test_admin_sends_the_case_back_and_the_leader_finds_the_answers(site):
    case, incident, app = site
    admin = browser(app, "ada_admin", "pw-ada")
    html = text(admin.get(repair_url(case, incident)))
    lock = re.search(r'name="lock_version" value="(\d+)"', html).group(1)
    assert f'value="{case.opening_task_id}" checked' in html
    response = admin.post(
        repair_url(case, incident, "send-back"),
        {"lock_version": lock, "task_id": case.opening_task_id},
    )
    assert response.status_code == 302
    db.session.rollback()
    row = db.session.get(HumanTask, case.opening_task_id)
    assert row.state == "open" and row.assignee == "zhang_leader"
    leader = browser(app, "zhang_leader", "pw-zhang_leader")
    task_page = text(leader.get(f"/tasks/{row.id}"))
    assert f'value="{case.day(29)}"' in task_page  # the previous answer, as the draft


def test_only_the_retry_roles_may_repair(site):
    case, incident, app = site
    leader = browser(app, "zhang_leader", "pw-zhang_leader")
    assert leader.get(repair_url(case, incident)).status_code in (403, 404)
    response = leader.post(
        repair_url(case, incident, "send-back"), {"task_id": case.opening_task_id}
    )
    assert response.status_code in (403, 404)
    db.session.rollback()
    assert db.session.get(Incident, incident.id).status == "open"
