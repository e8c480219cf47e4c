"""Nonconformities through the API (issue 11, R-8.7): a real initial certification up to its NC
report; then the client answers and the team leader verifies through the JSON API alone — the
NC ids come from GET /nonconformities and from the forms' own choices (`oneOf` of the `nc_id`
field), never from the database."""

import io
from typing import Any

import pytest
from sqlalchemy import select

from certflow.accounts import issue_token
from certflow.db import db
from certflow.models import User
from tests.api.test_api import assert_schema
from tests.certification_case import Case, deploy_everything, findings_losing, make_people

NCS = [
    {
        "item_code": "5.1.1.1",
        "nature": "general",
        "description": "未建立售后服务组织架构图 no after-sales organisation chart",
        "evidence": "查阅文件 documents reviewed",
    },
    {
        "item_code": "5.1.1.1",
        "nature": "general",
        "description": "投诉记录不完整 complaint records incomplete",
        "evidence": "抽查记录 records sampled",
    },
]


class Api:
    def __init__(self, app, usernames: list[str], now) -> None:
        self.client = app.test_client()
        users = db.session.scalars(select(User).where(User.username.in_(usernames))).all()
        self.tokens = {user.username: issue_token(db.session, user, now) for user in users}
        db.session.commit()

    def call(self, username: str, method: str, url: str, body: Any = None, **params):
        headers = {"Authorization": f"Bearer {self.tokens[username]}"}
        return self.client.open(
            f"/api/v1{url}", method=method, json=body, query_string=params, headers=headers
        )

    def upload(self, username: str, kind: str, name: str) -> int:
        """POST /attachments (multipart), as the client's software would; the new file's id."""
        headers = {"Authorization": f"Bearer {self.tokens[username]}"}
        response = self.client.post(
            "/api/v1/attachments",
            data={
                "file": (io.BytesIO(b"%PDF-1.4 evidence"), name, "application/pdf"),
                "kind": kind,
            },
            headers=headers,
            content_type="multipart/form-data",
        )
        assert response.status_code == 201, response.json
        return response.json["id"]

    def open_task(self, username: str, element_id: str, instance_id: int) -> dict:
        tasks = self.call(username, "GET", "/tasks", instance=instance_id).json["items"]
        [task] = [t for t in tasks if t["element_id"] == element_id]
        return self.call(username, "GET", f"/tasks/{task['id']}").json


def nc_choices(task: dict, array: str) -> dict[int, str]:
    """The `nc_id` choices the task's form offers: id → label."""
    field = task["form_schema"]["properties"][array]["items"]["properties"]["nc_id"]
    return {option["const"]: option["title"] for option in field["oneOf"]}


@pytest.fixture
def case(app, ctx, engine, clock, tmp_path) -> Case:
    deploy_everything(engine)
    case = Case(engine, clock, make_people(clock.now()), tmp_path / "uploads")
    case.apply()
    case.review()
    case.contract()
    case.programme()
    case.appoint()
    case.plan_and_prepare(revise=False)
    case.opening_meeting()
    # only item 5.1.1.1 loses points: the team's two NCs on it are the audit's NCs
    case.evidence(findings_losing(20))
    case.conclude("recommend", NCS)
    case.receive_report()
    case.confirm_ncs()
    return case


def test_answer_and_verify_nonconformities_through_the_api(app, case):
    client, leader = case.people.client.username, case.people.leader.username
    api = Api(app, [client, leader, "hr_someone"], case.clock.now())
    instance = api.call(client, "GET", f"/instances/{case.instance_id}").json
    application = instance["business_key"]

    listed = api.call(client, "GET", "/nonconformities", application=application)
    assert listed.status_code == 200, listed.json
    assert_schema("NonconformityList", listed.json)
    ncs = {nc["id"]: nc for nc in listed.json["items"]}
    assert sorted(nc["description"] for nc in ncs.values()) == sorted(
        nc["description"] for nc in NCS
    )
    assert {nc["status"] for nc in ncs.values()} == {"confirmed"}
    assert all(nc["deadline"] for nc in ncs.values())  # the client's deadline

    # The client's answer task offers exactly these NCs, with their texts.
    answer_task = api.open_task(client, "Task_SubmitCorrections", case.instance_id)
    offered = nc_choices(answer_task, "answers")
    assert set(offered) == set(ncs)
    for nc_id, label in offered.items():
        assert ncs[nc_id]["number"] in label and ncs[nc_id]["item_code"] in label
    answers = [
        {
            "nc_id": nc_id,
            "root_cause": "培训不到位 training gap",
            "correction": "补充记录 records completed",
            "corrective_action": "每季度培训 quarterly training",
            # §8.7.3: the evidence of the correction goes with the answer
            "evidence_files": [api.upload(client, "nc_evidence", f"记录-{nc_id}.pdf")],
        }
        for nc_id in offered
    ]
    done = api.call(
        client, "POST", f"/tasks/{answer_task['id']}/complete", {"data": {"answers": answers}}
    )
    assert done.status_code == 200, done.json
    waiting = api.call(
        client, "GET", "/nonconformities", application=application, awaiting="verification"
    )
    assert {nc["id"] for nc in waiting.json["items"]} == set(ncs)
    assert {nc["root_cause"] for nc in waiting.json["items"]} == {"培训不到位 training gap"}

    # The team leader's verification task offers the answered NCs.
    verify_task = api.open_task(leader, "Task_VerifyCorrections", case.instance_id)
    assert set(nc_choices(verify_task, "verdicts")) == set(ncs)
    verdicts = [
        {
            "nc_id": nc_id,
            "accepted": True,
            "method": "documentary",
            "note": "证据已核 evidence checked",
            "onsite_record": None,
        }
        for nc_id in ncs
    ]
    done = api.call(
        leader, "POST", f"/tasks/{verify_task['id']}/complete", {"data": {"verdicts": verdicts}}
    )
    assert done.status_code == 200, done.json
    for nc_id in ncs:
        one = api.call(client, "GET", f"/nonconformities/{nc_id}")
        assert_schema("Nonconformity", one.json)
        assert (one.json["status"], one.json["verification_method"]) == ("accepted", "documentary")
    assert api.call(leader, "GET", "/nonconformities", status="accepted").json["items"]


def test_the_answer_and_verification_tasks_carry_the_ncs_in_their_data(app, case):
    """Issue 11: the ids and texts the forms need are in GET /tasks/{id}'s data (the client
    sees them by processes/client_data.yaml), also after an answer is sent back."""
    client, leader = case.people.client.username, case.people.leader.username
    api = Api(app, [client, leader], case.clock.now())
    answer_task = api.open_task(client, "Task_SubmitCorrections", case.instance_id)
    listed = api.call(client, "GET", "/nonconformities", awaiting="answer").json["items"]
    to_answer = answer_task["data"]["nc_to_answer"]
    assert {n["nc_id"]: n["description"] for n in to_answer} == {
        n["id"]: n["description"] for n in listed
    }
    assert all(n["deadline"] and n["number"] and n["item_code"] for n in to_answer)
    answers = [
        {"nc_id": n["nc_id"], "root_cause": "原因", "correction": "纠正",
         "corrective_action": "措施",
         "evidence_files": [api.upload(client, "nc_evidence", f"记录-{n['nc_id']}.pdf")]}
        for n in to_answer
    ]  # fmt: skip
    done = api.call(
        client, "POST", f"/tasks/{answer_task['id']}/complete", {"data": {"answers": answers}}
    )
    assert done.status_code == 200, done.json

    verify_task = api.open_task(leader, "Task_VerifyCorrections", case.instance_id)
    to_verify = verify_task["data"]["nc_to_verify"]
    assert {n["nc_id"] for n in to_verify} == {n["nc_id"] for n in to_answer}
    assert {n["root_cause"] for n in to_verify} == {"原因"}
    first, *others = to_verify
    verdicts = [
        {"nc_id": n["nc_id"], "accepted": n is not first, "method": "documentary",
         "note": "证据不足 evidence missing", "onsite_record": None}
        for n in to_verify
    ]  # fmt: skip
    done = api.call(
        leader, "POST", f"/tasks/{verify_task['id']}/complete", {"data": {"verdicts": verdicts}}
    )
    assert done.status_code == 200, done.json
    again = api.open_task(client, "Task_SubmitCorrections", case.instance_id)
    assert [n["nc_id"] for n in again["data"]["nc_to_answer"]] == [first["nc_id"]]
    assert again["data"]["nc_to_answer"][0]["status"] == "rejected"
