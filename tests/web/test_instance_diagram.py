"""Issue 10: the instance diagram marks every element reached (service, script, gateway, event,
call activity) and the sequence flows taken; an incident inside a called process is marked on
the call activity that called it; a client still sees only its own tasks."""

import json
import re

from flask import g

from certflow.accounts import create_user
from certflow.db import db
from tests.certification_case import Case, one_nc, through_onsite
from tests.conftest import START_TIME
from tests.web_support import Browser, text


def signed_in(app, username: str) -> Browser:
    g.pop("_login_user", None)  # the engine fixtures' app context is reused by the client
    g.pop("csrf_token", None)
    browser = Browser(app)
    assert browser.login(username, "pw").status_code == 302
    return browser


def staff(app) -> Browser:
    create_user(
        db.session,
        "qm",
        password="pw",
        roles={"quality_manager"},
        display_name="QM",
        now=START_TIME,
    )
    db.session.commit()
    return signed_in(app, "qm")


def marks(html: str) -> dict:
    box = re.search(r"<div class=\"diagram\" data-diagram(.*?)>", html, re.S).group(1)
    return {
        name: json.loads(value.replace("&#34;", '"').replace("&quot;", '"'))
        for name, value in re.findall(r"data-(active|completed|incidents|flows)='([^']*)'", box)
    }


def test_every_reached_element_and_the_flows_taken_are_marked(case, app):
    through_onsite(case, points_lost=80, nonconformities=one_nc())
    case.receive_report()
    browser = staff(app)
    main = marks(text(browser.get(f"/instances/{case.instance_id}")))
    for element in (
        "Task_SubmitApplication",  # user task
        "Task_RegisterApplication",  # service task
        "Script_RememberApplication",  # script task
        "Gateway_Accepted",  # gateway
        "CallActivity_OnsiteAudit",  # call activity, finished
    ):
        assert element in main["completed"], element
    assert "CallActivity_Nonconformities" in main["active"]  # a task inside it is open
    assert ["Task_SubmitApplication", "Task_RegisterApplication"] in main["flows"]
    onsite = marks(text(browser.get(f"/instances/{case.instance_id}?process=onsite_audit")))
    assert {"StartEvent_OnsiteAudit", "Gateway_MoreDays", "EndEvent_OnsiteCompleted"} <= set(
        onsite["completed"]
    )
    assert ["Gateway_MoreDays", "Task_ComputeScore"] in onsite["flows"]

    client = signed_in(app, case.people.client.username)
    own = marks(text(client.get(f"/instances/{case.instance_id}")))
    assert own["flows"] == [] and "Task_RegisterApplication" not in own["completed"]


def test_an_incident_in_a_called_process_is_marked_on_the_calling_element(
    case, app, engine, monkeypatch
):
    def broken(*args, **kwargs):
        raise RuntimeError("the opening meeting could not be recorded")

    monkeypatch.setattr("domain.audit.onsite.record_opening_meeting", broken)
    through_onsite_until_opening(case)
    task = case.open_task("Task_OpeningMeeting")
    engine.complete_task(task.id, actor=case.people.leader, data=opening_meeting(case))
    assert engine.open_incidents(case.instance_id)
    browser = staff(app)
    main = marks(text(browser.get(f"/instances/{case.instance_id}")))
    assert main["incidents"] == ["CallActivity_OnsiteAudit"]
    called = marks(text(browser.get(f"/instances/{case.instance_id}?process=onsite_audit")))
    assert called["incidents"] == ["Task_RecordOpeningMeeting"]


def through_onsite_until_opening(case: Case) -> None:
    case.apply()
    case.review()
    case.contract()
    case.programme()
    case.appoint()
    case.plan_and_prepare()
    case.at(28)


def opening_meeting(case: Case) -> dict:
    from domain.audit.onsite import OPENING_MEETING_ITEMS

    return {
        "meeting_date": case.today(),
        "attendees": [{"name": "王总", "organisation": "优服", "role": "总经理"}],
        "checklist": dict.fromkeys(OPENING_MEETING_ITEMS, True),
        "notes": None,
    }
