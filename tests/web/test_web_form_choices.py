"""Choices from data (issue 10) on the task page and in the API: the team appointment offers the
auditors by name with their registration, competence and flags; those the rules refuse are
disabled with the reason; a forged or refused value is answered 422 on the field naming the
rule; the API's task schema lists the valid choices as oneOf with titles."""

import html
import re
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from certflow.accounts import issue_token
from certflow.db import db
from certflow.models import User
from tests.certification_case import Case, deploy_everything, make_people
from tests.factories import make_auditor
from tests.web_support import Browser, text

APPOINTMENT = {
    "f/objectives": "确认是否满足四星级要求",
    "f/criteria": "GB/T 27922-2011",
    "f/scope_and_boundaries": "两个固定服务场所",
    "f/audit_languages": "zh",  # R-7.2.1(4)
    "f/considerations": "",
}


@dataclass
class Appointment:
    case: Case
    task_id: str
    unregistered_id: int

    def active(self, app) -> list[str]:
        with app.app_context():
            return self.case.active()


@pytest.fixture
def appointment(app, tmp_path):
    """A case at the team appointment, and an auditor without a registration (R-7.2.2). The
    requests run outside this app context (CSRF tokens and the locale live in `g`)."""
    with app.app_context():
        engine, clock = app.extensions["certflow.engine"], app.extensions["certflow.clock"]
        deploy_everything(engine)
        case = Case(engine, clock, make_people(clock.now()), tmp_path / "uploads")
        unregistered = make_auditor(db.session, clock.now(), name="钱无证", registration=None)
        db.session.commit()
        case.apply()
        case.review()
        case.contract()
        case.programme()
        return Appointment(case, case.open_task("Task_AppointTeam").id, unregistered.id)


def scheduler(app) -> Browser:
    browser = Browser(app)
    assert browser.login("ji_scheduler", "pw").status_code == 302
    return browser


def options_of(page: str, name: str) -> list[tuple[str, bool, str]]:
    """(value, disabled, label) of the options of the select `name`."""
    select_html = re.search(
        rf'<select[^>]*name="{re.escape(name)}"[^>]*>(.*?)</select>', page, re.S
    )
    assert select_html, name
    return [
        (value, " disabled" in attrs, html.unescape(label).strip())
        for value, attrs, label in re.findall(
            r'<option value="([^"]*)"([^>]*)>(.*?)</option>', select_html.group(1), re.S
        )
        if value
    ]


def test_the_appointment_page_offers_auditors_by_name_and_disables_the_refused(app, appointment):
    case, task_id, unregistered_id = (
        appointment.case,
        appointment.task_id,
        appointment.unregistered_id,
    )
    browser = scheduler(app)
    page = text(browser.get(f"/tasks/{task_id}"))
    options = options_of(page, "f/members/0/auditor_id")
    labels = {value: (disabled, label) for value, disabled, label in options}
    leader = labels[str(case.people.leader_id)]
    assert leader[0] is False
    assert leader[1].startswith("张组长 — 注册证书 CCAA-SC-1001 有效期至 ")
    assert "具备审查组长资格" in leader[1] and "具备商品售后服务专业能力" in leader[1]
    assert labels[str(case.people.expert_id)] == (
        False,
        "陈专家 — 技术专家；具备商品售后服务专业能力；掌握语言：中文",
    )
    disabled, label = labels[str(unregistered_id)]
    assert disabled and label.startswith("钱无证") and label.endswith("不可选")
    # The reason, naming the rule, is on the page next to the list.
    assert "规则第7.2.2条：钱无证没有" in html.unescape(page)  # named, no id (issue 10)
    # In English the facts are English.
    english = text(browser.get(f"/tasks/{task_id}?lang=en"))
    assert "qualified as team leader" in english and "not available" in english


def test_a_forged_or_refused_auditor_is_answered_422_on_the_field(app, appointment):
    case, task_id, unregistered_id = (
        appointment.case,
        appointment.task_id,
        appointment.unregistered_id,
    )
    browser = scheduler(app)
    browser.get(f"/tasks/{task_id}")
    form = {
        **APPOINTMENT,
        "f/onsite_start": case.day(28),
        "f/onsite_end": case.day(29),
        "f/members/0/__row": "1",
        "f/members/0/auditor_id": str(case.people.leader_id),
        "f/members/0/role": "leader",
        "f/members/1/__row": "1",
        "f/members/1/auditor_id": str(unregistered_id),
        "f/members/1/role": "auditor",
    }
    response = browser.post(f"/tasks/{task_id}", form)
    assert response.status_code == 422
    page = html.unescape(text(response))
    assert "规则第7.2.2条" in page and "钱无证" in page
    # A value that was never offered (an id typed into a forged request).
    response = browser.post(f"/tasks/{task_id}", {**form, "f/members/1/auditor_id": "999999"})
    assert response.status_code == 422
    assert "Task_AppointTeam" in appointment.active(app)
    # The offered auditors are accepted: the case moves on.
    response = browser.post(
        f"/tasks/{task_id}", {**form, "f/members/1/auditor_id": str(case.people.auditor_id)}
    )
    assert response.status_code == 302, html.unescape(text(response))[:3000]
    assert "Task_AppointTeam" not in appointment.active(app)


def test_the_refusals_at_submit_are_in_the_pages_language(app, appointment):
    """Issue 10: a refusal worded by the rules in both languages (a refused auditor, R-7.2.2; an
    audit language nobody speaks, R-7.2.1(4)) is shown in English on the English page, without
    the Chinese wording; the Chinese page keeps the Chinese one."""
    case, task_id, unregistered_id = (
        appointment.case,
        appointment.task_id,
        appointment.unregistered_id,
    )
    browser = scheduler(app)
    browser.get(f"/tasks/{task_id}?lang=en")
    form = {
        **APPOINTMENT,
        "f/audit_languages": "bo",
        "f/onsite_start": case.day(28),
        "f/onsite_end": case.day(29),
        "f/members/0/__row": "1",
        "f/members/0/auditor_id": str(case.people.leader_id),
        "f/members/0/role": "leader",
        "f/members/1/__row": "1",
        "f/members/1/auditor_id": str(unregistered_id),
        "f/members/1/role": "auditor",
    }
    response = browser.post(f"/tasks/{task_id}", form)
    assert response.status_code == 422
    english = html.unescape(text(response))
    assert "Rule 7.2.2:" in english and "规则第7.2.2条" not in english
    form["f/members/1/auditor_id"] = str(case.people.auditor_id)
    response = browser.post(f"/tasks/{task_id}", form)
    assert response.status_code == 422
    english = html.unescape(text(response))
    assert "Rule 7.2.1(4): no auditing member speaks" in english
    assert "审查组成员中无人掌握审查语言" not in english
    browser.get(f"/tasks/{task_id}?lang=zh_CN")
    chinese = html.unescape(text(browser.post(f"/tasks/{task_id}", form)))
    assert "规则第7.2.1条（4）：审查组成员中无人掌握审查语言" in chinese
    assert "Task_AppointTeam" in appointment.active(app)


def test_the_api_schema_lists_the_valid_choices_and_refuses_others(app, appointment):
    case, task_id, unregistered_id = (
        appointment.case,
        appointment.task_id,
        appointment.unregistered_id,
    )
    with app.app_context():
        user = db.session.scalars(select(User).where(User.username == "ji_scheduler")).one()
        token = issue_token(db.session, user, case.clock.now(), "test")
        db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    answer = client.get(f"/api/v1/tasks/{task_id}", headers=headers)
    assert answer.status_code == 200
    member = answer.get_json()["form_schema"]["properties"]["members"]["items"]
    auditor_id = member["properties"]["auditor_id"]
    offered = {branch["const"]: branch["title"] for branch in auditor_id["oneOf"]}
    assert set(offered) == {case.people.leader_id, case.people.auditor_id, case.people.expert_id}
    assert offered[case.people.auditor_id].startswith("李审查")
    [refused] = auditor_id["x-unavailable"]
    assert refused["const"] == unregistered_id and refused["reason"].startswith("规则第7.2.2条")
    data = {
        "members": [
            {"auditor_id": case.people.leader_id, "role": "leader"},
            {"auditor_id": unregistered_id, "role": "auditor"},
        ],
        "objectives": "确认", "criteria": "GB/T 27922-2011", "scope_and_boundaries": "总部",
        "onsite_start": case.day(28), "onsite_end": case.day(29),
        "audit_languages": ["zh"], "considerations": None,
    }  # fmt: skip
    answer = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": data}, headers=headers)
    assert answer.status_code == 422
    [message] = answer.get_json()["errors"]["members/1/auditor_id"]
    assert message.startswith("规则第7.2.2条") and "钱无证" in message
    assert "Task_AppointTeam" in appointment.active(app)


def test_the_appointment_refuses_at_submit_what_r_7_2_1_refuses(app, appointment):
    """R-7.2.1(4) at submit (x-check team.composition_fits): an audit language no auditing
    member speaks → 422 on `considerations`, nothing moves; with the justification it goes on."""
    case, task_id = appointment.case, appointment.task_id
    with app.app_context():
        user = db.session.scalars(select(User).where(User.username == "ji_scheduler")).one()
        token = issue_token(db.session, user, case.clock.now(), "test")
        db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    data = {
        "members": [
            {"auditor_id": case.people.leader_id, "role": "leader"},
            {"auditor_id": case.people.auditor_id, "role": "auditor"},
        ],
        "objectives": "确认", "criteria": "GB/T 27922-2011", "scope_and_boundaries": "总部",
        "onsite_start": case.day(28), "onsite_end": case.day(29),
        "audit_languages": ["zh", "bo"], "considerations": None,
    }  # fmt: skip
    answer = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": data}, headers=headers)
    assert answer.status_code == 422, answer.get_json()
    [message] = answer.get_json()["errors"]["considerations"]
    assert message.startswith("规则第7.2.1条（4）") and "藏语" in message  # the language in words
    assert "Task_AppointTeam" in appointment.active(app)
    data["considerations"] = "藏语翻译全程陪同 a Tibetan interpreter accompanies the team"
    answer = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": data}, headers=headers)
    assert answer.status_code == 200, answer.get_json()
    assert "Task_AppointTeam" not in appointment.active(app)
