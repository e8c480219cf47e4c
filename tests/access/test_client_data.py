"""What a client sees of the process data (R-11; issue 9, item 2): the fields of the task's own
form plus the variables declared in processes/client_data.yaml, nothing else.

`test_a_client_sees_only_declared_data_at_every_client_task` drives a whole initial
certification through the real engine and diagrams (tests/certification_case.py) and, at every
client task of the run, reads the task through the API with the client's token and the web task
page as the client, and the instance answer and page.
"""

import json
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import select

from certflow.accounts import issue_token
from certflow.db import db
from certflow.models import User
from engine.service import Actor
from tests.certification_case import Case, deploy_everything, findings_losing, make_people
from tests.paths import PROCESSES
from tests.web_support import Browser, text
from webapp.client_data import DECLARATIONS, declared_by_element, load_declarations, project

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
# Internal variables of the certification body (names at the top of the task data): the
# mystery-shopping record, internal reviews and their basis (fee, man-days), the team's
# appointment and impartiality checks, the audit's findings and staff remarks.
INTERNAL_KEYS = {
    "mystery_shopping",
    "visit_date",
    "shopper",
    "observations",
    "service_experienced",
    "fee",
    "man_days",
    "man_days_basis",
    "sizing_notes",
    "acceptance",
    "contract",
    "programme",
    "appointment",
    "members",
    "objectives",
    "activities",
    "special_deductions",
    "daily_communication",
    "conclusion",
    "follow_up",
    "programme_adjustments",
    "disagreements",
    "verdicts",
    "content",
    "trainer",
}
# Values entered by staff in the run: none may reach a client's answer or page.
INTERNAL_VALUES = [
    "安暗访",  # the mystery shopper
    "24 小时内上门",  # the shopper's observations
    "报修空调",
    "120 人，2 个固定场所",  # man-day basis
    "规模中等",  # programme sizing notes
    "市场部 刘经理",  # the body's contract signatory
    "确认是否满足四星级要求",  # the team's objectives
    "records checked for",  # audit evidence
    "每日与客户沟通审查进展",
    "跟踪不符合整改",  # the leader's follow-up remark
    "法规标准适用性",  # pre-audit training
    "证据时间顺序与真实性已核",  # the verifier's note on an accepted answer
]


def client_lane_user_tasks() -> set[tuple[str, str]]:
    """(process id, element id) of every user task in a `client` lane of processes/."""
    found = set()
    for path in sorted(PROCESSES.glob("*.bpmn")):
        tree = etree.parse(str(path))
        for process in tree.xpath("//bpmn:process", namespaces=NS):
            for ref in process.xpath(
                ".//bpmn:lane[@name='client']/bpmn:flowNodeRef", namespaces=NS
            ):
                element = process.xpath(f".//bpmn:userTask[@id='{ref.text}']", namespaces=NS)
                if element:
                    found.add((process.get("id"), ref.text))
    return found


def test_every_client_task_is_declared_and_every_declaration_names_one():
    declared = {
        (process_id, element_id)
        for process_id, tasks in load_declarations(DECLARATIONS).items()
        for element_id in tasks
    }
    assert declared == client_lane_user_tasks()
    assert len(declared_by_element()) == len(declared)  # element ids are unique


def test_a_declaration_copies_only_the_named_paths():
    data = {"a": {"b": 1, "c": 2}, "d": 3, "e": {"f": {"g": 4}}}
    assert project(data, ["a.b", "e.f.g", "x.y", "d.z"]) == {"a": {"b": 1}, "e": {"f": {"g": 4}}}
    assert project(data, ["a", "d"]) == {"a": {"b": 1, "c": 2}, "d": 3}


def expected_view(full: dict[str, Any], fields: list[str], paths: tuple[str, ...]) -> dict:
    """The test's own statement of the rule: own form fields plus the declared paths."""
    view: dict[str, Any] = {}
    for path in paths:
        *parents, leaf = path.split(".")
        source: Any = full
        target = view
        for key in parents:
            source = source.get(key) if isinstance(source, dict) else None
            target = target.setdefault(key, {})
        if isinstance(source, dict) and leaf in source:
            target[leaf] = source[leaf]
    view = {key: value for key, value in view.items() if value != {}}
    view.update({name: full[name] for name in fields if name in full})
    return json.loads(json.dumps(view, default=str))


@pytest.fixture
def case(app, ctx, engine, clock, tmp_path):
    deploy_everything(engine)
    return Case(engine, clock, make_people(clock.now()), tmp_path / "uploads")


def test_a_client_sees_only_declared_data_at_every_client_task(app, case, engine):
    client: Actor = case.people.client
    web = Browser(app)
    api = app.test_client()
    token: list[str] = []
    seen: list[str] = []

    def look(element_id: str, who: Actor) -> None:
        if who.username != client.username or element_id == "Task_SubmitApplication":
            return  # the application is answered before the case has an organisation
        if not token:
            user = db.session.scalars(select(User).where(User.username == client.username)).one()
            token.append(issue_token(db.session, user, case.clock.now()))
            db.session.commit()
            assert web.login(client.username, "pw").status_code == 302
        task = case.open_task(element_id)
        headers = {"Authorization": f"Bearer {token[0]}"}
        response = api.get(f"/api/v1/tasks/{task.id}", headers=headers)
        assert response.status_code == 200, (element_id, response.json)
        data = response.json["data"]
        full = engine.task_data(task)
        fields = list((engine.task_form(task) or {}).get("properties") or {})
        paths = declared_by_element()[element_id]
        assert data == expected_view(full, fields, paths), element_id
        assert not (set(data) & INTERNAL_KEYS - set(fields)), (element_id, sorted(data))
        answer = json.dumps(data, ensure_ascii=False)
        page = text(web.get(f"/tasks/{task.id}"))
        instance = api.get(f"/api/v1/instances/{case.instance_id}", headers=headers).json
        instance_page = text(web.get(f"/instances/{case.instance_id}"))
        if "application.number" in paths:  # the instructions still show what is declared
            assert full["application"]["number"] in page, element_id
        for value in INTERNAL_VALUES:
            assert value not in answer, (element_id, value)
            assert value not in page, (element_id, value)
            assert value not in instance_page, (element_id, value)
        assert instance["active_element_ids"] == [element_id], instance
        assert instance["incidents"] == []
        seen.append(element_id)

    case.before_complete = look
    case.apply()
    case.review()
    case.contract()
    case.programme()
    case.appoint()
    case.plan_and_prepare(revise=True)
    case.opening_meeting()
    case.evidence(findings_losing(80))
    nc = {
        "item_code": "5.1.1.1",
        "nature": "general",
        "description": "未建立售后服务组织架构图 no after-sales organisation chart",
        "evidence": "查阅文件 documents reviewed",
    }
    case.conclude("recommend", [nc])
    case.receive_report()
    nc_ids = case.confirm_ncs()
    case.answer_ncs(nc_ids)
    case.verify_ncs(nc_ids, accepted=False)
    case.answer_ncs(nc_ids)
    case.verify_ncs(nc_ids, accepted=True)
    case.decide("grant", 4)
    assert case.instance().status == "completed"
    assert seen == [
        "Task_ReviseDocuments",
        "Task_ConfirmNcReport",  # before the closing meeting (R-8.7 §8.7.1)
        "Task_ConfirmReportReceipt",
        "Task_SubmitCorrections",
        "Task_SubmitCorrections",
    ]
