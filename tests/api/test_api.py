"""The JSON API v1 over HTTP (Flask test client), on the review_flow fixture process.

Every test runs on SQLite and on PostgreSQL (the `app` fixture). Response bodies are checked
against the schemas of the OpenAPI document, so the document stays true.
"""

import importlib.util
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from sqlalchemy import select
from werkzeug.security import generate_password_hash
from werkzeug.test import TestResponse

from certflow.accounts import create_user, issue_token
from certflow.db import db
from engine.models import EventLog
from handlers import handler, unregister
from tests.conftest import START_TIME, make_app
from tests.factories import make_application, make_organisation
from tests.helpers import OWNER, REVIEW_FLOW, record_acceptance, registered
from webapp.api import models
from webapp.api.document import document

OPERATOR = "test_record_acceptance"
USERS: dict[str, set[str]] = {
    "mia": {"market"},
    "max": {"market"},
    "carl": {"client"},
    "cora": {"client"},  # a client of no organisation of these cases
    "hank": {"hr"},
    "ada": {"admin"},
    "olga": {"process_owner"},
    "quinn": {"quality_manager"},
}
DOC = document()
REVIEW_OK = {"accepted": True, "man_days": 2.5}
# After the review: the contract task, and its boundary timer waiting beside it.
CONTRACT_STAGE = ["BoundaryTimer_ContractOverdue", "Task_SignContract"]


def iso(value: datetime) -> str:
    return value.isoformat()


PUBLIC_OPERATIONS = {
    "GET /openapi.json",
    "POST /complaints/public",  # anyone may complain (rate-limited as the web form)
    "GET /complaints/{reference}/status",  # the public status lookup, as on the web
    "POST /tokens",  # a token for a username and password (throttled as the sign-in)
}


def assert_schema(name: str, body: Any) -> None:
    """`body` matches components/schemas/<name> of the OpenAPI document."""
    schema = {"$ref": f"#/components/schemas/{name}", "components": DOC["components"]}
    errors = [e.message for e in Draft202012Validator(schema).iter_errors(body)]
    assert errors == [], f"{name}: {errors}"


@dataclass
class Api:
    app: Flask
    client: FlaskClient
    tokens: dict[str, str]

    def call(
        self,
        method: str,
        user: str | None,
        path: str,
        json: Any = None,
        data: str | bytes | None = None,
        **params: Any,
    ) -> TestResponse:
        headers = {"Authorization": f"Bearer {self.tokens[user]}"} if user else {}
        if data is not None:
            headers["Content-Type"] = "application/json"
        return self.client.open(
            f"/api/v1{path}",
            method=method,
            json=json,
            data=data,
            headers=headers,
            query_string=params or None,
        )

    def get(self, user: str | None, path: str, **params: Any) -> TestResponse:
        return self.call("GET", user, path, **params)

    def post(
        self, user: str | None, path: str, json: Any = None, data: str | bytes | None = None
    ) -> TestResponse:
        return self.call("POST", user, path, json=json, data=data)

    # -- shortcuts ---------------------------------------------------------------------------
    def start(self, business_key: str = "APP-1", user: str = "mia", **data: Any) -> dict:
        response = self.post(
            user,
            "/instances",
            {
                "process_id": "review_flow",
                "business_key": business_key,
                "data": {"headcount": 120, "application_id": business_key, **data},
            },
        )
        assert response.status_code == 201, response.json
        return response.json

    def tasks(self, user: str, **params: Any) -> dict:
        response = self.get(user, "/tasks", **params)
        assert response.status_code == 200, response.json
        assert_schema("TaskPage", response.json)
        return response.json

    def open_task(self, instance_id: int, user: str = "ada") -> dict:
        [task] = self.tasks(user, instance=instance_id)["items"]
        return task

    def complete(self, user: str, task_id: str, data: dict) -> TestResponse:
        return self.post(user, f"/tasks/{task_id}/complete", {"data": data})


@pytest.fixture
def api(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    # One cheap hash per test user: the password hashes play no part in the API.
    monkeypatch.setattr(
        "certflow.models.generate_password_hash",
        partial(generate_password_hash, method="pbkdf2:sha256:1"),
    )
    with app.app_context():
        tokens, users = {}, {}
        for name, roles in USERS.items():
            user = create_user(
                db.session,
                name,
                password=f"pw-{name}",
                roles=roles,
                display_name=name,
                now=START_TIME,
            )
            tokens[name] = issue_token(db.session, user, START_TIME, "test")
            users[name] = user
        # carl is the client of the organisation whose applications APP-1 … APP-9 are.
        organisation = make_organisation(db.session, START_TIME)
        users["carl"].organisation_id = organisation.id
        for n in range(1, 10):
            make_application(db.session, START_TIME, organisation, number=f"APP-{n}")
        db.session.commit()
    with registered(OPERATOR, record_acceptance):
        with app.app_context():
            app.extensions["certflow.engine"].deploy([REVIEW_FLOW], actor=OWNER, comment="api")
        yield Api(app, app.test_client(), tokens)


# -- authentication and errors --------------------------------------------------------------------
def test_requests_without_a_valid_token_get_401_with_a_bearer_challenge(api):
    for headers in ({}, {"Authorization": "Bearer cf_wrong"}, {"Authorization": "Basic eDp5"}):
        response = api.client.get("/api/v1/processes", headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.json["error"] == "unauthorized"
        assert response.json["message"]
        assert_schema("Error", response.json)
    response = api.client.post("/api/v1/instances", json={"process_id": "review_flow"})
    assert response.status_code == 401
    assert api.get("mia", "/processes").status_code == 200


def test_revoked_token_is_refused(api):
    from certflow.models import ApiToken

    with api.app.app_context():
        for token in db.session.scalars(db.select(ApiToken)):
            token.revoked_at = START_TIME
        db.session.commit()
    assert api.get("mia", "/clock").status_code == 401


def test_openapi_document_is_public(api):
    response = api.client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json["openapi"] == "3.1.0"


def test_unknown_api_urls_and_methods_answer_json(api):
    response = api.get("mia", "/no-such-thing")
    assert response.status_code == 404
    assert response.json["error"] == "not_found"
    response = api.call("DELETE", "mia", "/clock")
    assert response.status_code == 405
    assert response.json["error"] == "method_not_allowed"
    assert "POST" in response.headers["Allow"]
    assert api.get("mia", "/instances/999999").json["error"] == "not_found"
    assert api.client.get("/no-such-page").content_type.startswith("text/html")  # not ours


def test_odd_input_is_refused_cleanly_on_every_backend(api):
    # ids beyond the integer columns, NUL characters (PostgreSQL refuses them), absurd dates
    for path in ("/instances/99999999999999999999", "/tasks/not-a-uuid", "/tasks/x%00y"):
        assert api.get("ada", path).status_code == 404, path
    assert api.post("ada", "/incidents/99999999999999999999/retry").status_code == 404
    response = api.get("ada", "/tasks", business_key="a\x00b")
    assert response.status_code == 422
    assert "business_key" in response.json["errors"]
    for body in (
        {"process_id": "review\u0000flow"},
        {"process_id": "review_flow", "data": {"note": "\u0000"}},
    ):
        response = api.post("mia", "/instances", body)
        assert response.status_code == 422, body
        assert "_body" in response.json["errors"], body
    assert api.post("mia", "/instances", data="[" * 100_000).status_code == 422
    assert api.post("mia", "/instances", data=b"\xff\xfe\x00").status_code == 422
    assert api.post("ada", "/clock", {"advance": "P99999Y"}).status_code == 422
    assert api.post("ada", "/clock", {"set": "9999-12-31T23:59:59-05:00"}).status_code == 422
    assert api.get("ada", "/clock").json["now"] == iso(START_TIME)


def test_unexpected_failures_answer_json_500_without_details(api, monkeypatch):
    from engine.service import WorkflowEngine

    def broken(self):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(WorkflowEngine, "list_latest_versions", broken)
    api.app.testing = False  # production: the error is handled, not propagated to the test
    response = api.get("mia", "/processes")
    assert response.status_code == 500
    assert response.json == {"error": "internal_error", "message": "internal server error"}


# -- processes and instances ----------------------------------------------------------------------
def test_list_processes_gives_the_latest_versions(api):
    response = api.get("hank", "/processes")
    assert response.status_code == 200
    assert_schema("ProcessList", response.json)
    [process] = response.json["items"]
    assert process["process_id"] == "review_flow"
    assert process["version"] == 1
    assert process["name"] == "申请评审（测试） Review flow (test)"
    assert process["deployed_by"] == OWNER.username
    assert process["deployed_at"] == iso(START_TIME) == "2026-01-05T01:00:00+00:00"
    assert re.fullmatch(r"[0-9a-f]{64}", process["sha256"])


def test_start_instance(api):
    response = api.post(
        "mia",
        "/instances",
        {"process_id": "review_flow", "business_key": "APP-1", "data": {"headcount": 120}},
    )
    assert response.status_code == 201
    body = response.json
    assert_schema("Instance", body)
    assert response.headers["Location"].endswith(f"/api/v1/instances/{body['id']}")
    assert body["process_id"] == "review_flow"
    assert body["version"] == 1
    assert body["business_key"] == "APP-1"
    assert body["status"] == "running"
    assert body["active_element_ids"] == ["Task_Review"]
    assert body["started_by"] == "mia"
    assert body["started_at"] == iso(START_TIME)
    assert body["ended_at"] is None and body["next_timer_at"] is None
    assert body["incidents"] == []


def test_start_instance_refusals(api):
    # The start event lies in the lane 市场部 (market): a client may not start the process.
    response = api.post("carl", "/instances", {"process_id": "review_flow"})
    assert response.status_code == 403
    assert response.json["error"] == "forbidden"
    response = api.post("mia", "/instances", {"process_id": "no_such_process"})
    assert response.status_code == 404
    response = api.post("mia", "/instances")
    assert response.status_code == 422
    assert response.json["errors"] == {"process_id": ["required"]}
    response = api.post("mia", "/instances", {"process_id": 7, "data": [], "extra": 1})
    assert response.status_code == 422
    assert response.json["error"] == "validation_error"
    assert set(response.json["errors"]) == {"process_id", "data", "_body"}
    assert_schema("ValidationError", response.json)
    for malformed in ('{"process_id": "review_flow"', "[1, 2]", "NaN", '{"a": 1e999}'):
        response = api.post("mia", "/instances", data=malformed)
        assert response.status_code == 422, malformed
        assert "_body" in response.json["errors"], malformed


def test_instance_visibility(api):
    instance = api.start()
    url = f"/instances/{instance['id']}"
    # the starter, holders of the task's candidate role, the overseeing roles and the client
    # whose organisation the case is see it
    for user in ("mia", "max", "ada", "olga", "quinn", "carl"):
        response = api.get(user, url)
        assert response.status_code == 200, user
        if user != "carl":
            assert response.json == instance
    # … the client without the market's step it is at (its own tasks only, issue 9 item 2)
    assert api.get("carl", url).json == {**instance, "active_element_ids": []}
    # others get a 404 that does not reveal that the instance exists
    for user in ("cora", "hank"):
        response = api.get(user, url)
        assert response.status_code == 404, user
        assert response.json == {
            "error": "not_found",
            "message": f"process instance {instance['id']} not found",
        }
    # once the client has a task in the instance, the client sees it
    task = api.open_task(instance["id"])
    assert api.complete("mia", task["id"], REVIEW_OK).status_code == 200
    assert api.get("carl", url).status_code == 200
    assert api.get("carl", url).json["active_element_ids"] == ["Task_SignContract"]
    assert api.get("hank", url).status_code == 404


# -- task lists -----------------------------------------------------------------------------------
def test_task_list_filters_and_pagination(api):
    instances = {key: api.start(key) for key in ("APP-1", "APP-2", "APP-3")}
    listing = api.tasks("mia")
    assert (listing["total"], listing["limit"], listing["offset"]) == (3, 50, 0)
    assert {t["business_key"] for t in listing["items"]} == {"APP-1", "APP-2", "APP-3"}
    task = listing["items"][0]
    assert task["element_id"] == "Task_Review"
    assert task["name"] == "受理评审 Acceptance review"
    assert (task["lane"], task["candidate_role"]) == ("市场部", "market")
    assert task["form_file"] == "forms/review.json"
    assert task["state"] == "open" and task["assignee"] is None
    assert task["created_at"] == iso(START_TIME)
    assert task["due_at"] == iso(START_TIME + timedelta(days=5))
    assert task["overdue"] is False

    app2 = api.open_task(instances["APP-2"]["id"])
    assert api.post("mia", f"/tasks/{app2['id']}/claim").status_code == 200
    mine = api.tasks("mia", mine=1)
    assert [t["id"] for t in mine["items"]] == [app2["id"]] and mine["total"] == 1
    assert api.tasks("max", mine=1)["total"] == 0
    assert api.tasks("mia", mine=0)["total"] == 3

    assert api.tasks("mia", role="market")["total"] == 3
    assert (
        api.tasks("mia", business_key="APP-3")["items"][0]["instance_id"]
        == (instances["APP-3"]["id"])
    )
    by_instance = api.tasks("mia", instance=instances["APP-1"]["id"])
    assert [t["business_key"] for t in by_instance["items"]] == ["APP-1"]
    assert api.tasks("mia", business_key="APP-404")["total"] == 0

    first = api.tasks("mia", limit=2)
    second = api.tasks("mia", limit=2, offset=2)
    assert (len(first["items"]), first["total"], first["limit"]) == (2, 3, 2)
    assert (len(second["items"]), second["total"], second["offset"]) == (1, 3, 2)
    assert {t["id"] for t in first["items"] + second["items"]} == {
        t["id"] for t in listing["items"]
    }
    assert api.tasks("mia", limit=1000)["limit"] == 200

    # a client sees none of the market's tasks
    assert api.tasks("carl")["total"] == 0
    assert api.tasks("hank", state="all")["total"] == 0

    # states: complete APP-1's review; its contract task belongs to the client
    app1 = api.open_task(instances["APP-1"]["id"])
    assert api.complete("mia", app1["id"], REVIEW_OK).status_code == 200
    completed = api.tasks("mia", state="completed")
    assert [t["id"] for t in completed["items"]] == [app1["id"]]
    assert completed["items"][0]["completed_by"] == "mia"
    assert completed["items"][0]["completed_at"] == iso(START_TIME)
    assert api.tasks("mia")["total"] == 2
    assert api.tasks("mia", state="all")["total"] == 3
    [contract] = api.tasks("carl")["items"]
    assert (contract["element_id"], contract["candidate_role"]) == ("Task_SignContract", "client")
    assert api.tasks("quinn", state="all")["total"] == 4  # quality manager sees everything
    assert api.tasks("ada", role="client")["total"] == 1
    assert api.tasks("mia", state="cancelled")["total"] == 0


def test_task_list_parameter_errors(api):
    response = api.get("mia", "/tasks", role="client")
    assert response.status_code == 403
    for params, field in (
        ({"role": "wizard"}, "role"),
        ({"state": "done"}, "state"),
        ({"limit": "many"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"instance": "x"}, "instance"),
        ({"mine": "perhaps"}, "mine"),
    ):
        response = api.get("mia", "/tasks", **params)
        assert response.status_code == 422, params
        assert field in response.json["errors"], params


def test_overdue_follows_the_application_clock(api):
    api.start()
    assert api.post("ada", "/clock", {"advance": "P6D"}).status_code == 200
    [task] = api.tasks("mia")["items"]
    assert task["overdue"] is True


# -- one task -------------------------------------------------------------------------------------
def test_task_detail(api):
    instance = api.start()
    task = api.open_task(instance["id"])
    response = api.get("max", f"/tasks/{task['id']}")
    assert response.status_code == 200
    detail = response.json
    assert_schema("TaskDetail", detail)
    assert {k: detail[k] for k in task} == task
    assert detail["form_schema"]["title"] == "受理评审 Acceptance review"
    assert detail["form_schema"]["required"] == ["accepted", "man_days"]
    assert detail["documentation"].startswith("R-6.2.1")
    # Issue 11: filled as the task page fills them, never the raw template.
    assert detail["instructions"] == "Review application APP-1."
    assert detail["instructions_html"] == "<p>Review application APP-1.</p>\n"
    assert detail["data"]["estimated_man_days"] == 2
    assert detail["data"]["application_id"] == "APP-1"
    for user in ("carl", "hank"):
        assert api.get(user, f"/tasks/{task['id']}").status_code == 404, user
    assert api.get("mia", "/tasks/not-a-task").status_code == 404


def test_claim_and_unclaim(api):
    task = api.open_task(api.start()["id"])
    url = f"/tasks/{task['id']}"
    response = api.post("mia", f"{url}/claim")
    assert response.status_code == 200
    assert_schema("Task", response.json)
    assert response.json["assignee"] == "mia"
    assert api.post("mia", f"{url}/claim").status_code == 200  # claiming again is harmless
    response = api.post("max", f"{url}/claim")
    assert response.status_code == 409
    assert response.json == {"error": "conflict", "message": "task is already claimed by mia"}
    # a user who may not see the task gets 404, as for a task that does not exist
    assert api.post("carl", f"{url}/claim").status_code == 404
    assert api.post("max", f"{url}/unclaim").status_code == 403
    response = api.post("mia", f"{url}/unclaim")
    assert response.status_code == 200
    assert response.json["assignee"] is None
    assert api.post("max", f"{url}/claim").json["assignee"] == "max"
    assert api.post("ada", f"{url}/unclaim").json["assignee"] is None  # a supervisor may
    assert api.post("mia", "/tasks/no-such-task/claim").status_code == 404


def test_a_refused_completion_names_the_failed_rule_of_each_field(api):
    """Issue 14 (b): besides the messages, the 422 carries the engine's structured findings
    (path, validator, validator_value, message), so that a client words them itself."""
    task = api.open_task(api.start()["id"])
    response = api.complete("mia", task["id"], {"man_days": 0.1})
    assert response.status_code == 422
    body = response.json
    assert_schema("ValidationError", body)
    assert body["errors"]["accepted"] == ["required"]  # the existing shape stays
    assert body["details"]["accepted"] == [
        {
            "path": "accepted",
            "validator": "required",
            "validator_value": ["accepted", "man_days"],
            "message": "required",
        }
    ]
    [minimum] = body["details"]["man_days"]
    assert (minimum["validator"], minimum["validator_value"]) == ("minimum", 0.5)
    assert minimum["message"] == body["errors"]["man_days"][0]


def test_complete_task(api):
    instance = api.start()
    task = api.open_task(instance["id"])
    url = f"/tasks/{task['id']}/complete"

    response = api.complete("mia", task["id"], {"man_days": 2})
    assert response.status_code == 422
    assert response.json["error"] == "validation_error"
    assert response.json["errors"]["accepted"] == ["required"]
    assert_schema("ValidationError", response.json)
    response = api.complete("mia", task["id"], {"accepted": "yes", "man_days": 0.1})
    assert set(response.json["errors"]) == {"accepted", "man_days"}
    for body in ({"data": [1]}, {"data": {}, "more": 1}):
        response = api.post("mia", url, body)
        assert response.status_code == 422, body
    response = api.post("mia", url, data=b'{"data": {"accepted": tru')
    assert response.status_code == 422
    assert "_body" in response.json["errors"]
    response = api.complete("carl", task["id"], REVIEW_OK)
    assert response.status_code == 404  # the market task is not visible to the client

    response = api.complete("mia", task["id"], REVIEW_OK)
    assert response.status_code == 200
    body = response.json
    assert_schema("Instance", body)
    assert body["id"] == instance["id"]
    assert body["status"] == "running"
    assert body["active_element_ids"] == CONTRACT_STAGE
    assert body["next_timer_at"] == iso(START_TIME + timedelta(days=30))
    [contract] = api.tasks("carl")["items"]
    assert contract["element_id"] == "Task_SignContract"

    response = api.complete("mia", task["id"], REVIEW_OK)
    assert response.status_code == 409
    assert response.json["error"] == "conflict"


def test_complete_a_task_claimed_by_someone_else_is_a_conflict(api):
    task = api.open_task(api.start()["id"])
    assert api.post("mia", f"/tasks/{task['id']}/claim").status_code == 200
    response = api.complete("max", task["id"], REVIEW_OK)
    assert response.status_code == 409
    assert "claimed by mia" in response.json["message"]
    assert api.complete("mia", task["id"], REVIEW_OK).status_code == 200


def test_reassign(api):
    task = api.open_task(api.start()["id"])
    url = f"/tasks/{task['id']}/reassign"
    response = api.post("mia", url, {"assignee": "max"})
    assert response.status_code == 403
    response = api.post("mia", url, {"assignee": "nobody"})  # no hint which users exist
    assert response.status_code == 403
    response = api.post("ada", url, {"assignee": "max"})
    assert response.status_code == 200
    assert_schema("Task", response.json)
    assert response.json["assignee"] == "max"
    response = api.post("ada", url, {"assignee": "nobody"})
    assert response.status_code == 422
    assert response.json["errors"] == {"assignee": ["unknown user"]}
    response = api.post("ada", url, {"assignee": "carl"})  # carl lacks the market role
    assert response.status_code == 400
    assert response.json["error"] == "bad_request"
    for body in ({}, {"assignee": 5}, {"assignee": ""}):
        response = api.post("ada", url, body)
        assert response.status_code == 422, body
        assert "assignee" in response.json["errors"], body
    assert api.post("ada", url, data="{").status_code == 422
    assert api.post("ada", "/tasks/no-such-task/reassign", {"assignee": "max"}).status_code == 404
    assert api.complete("max", task["id"], REVIEW_OK).status_code == 200


# -- messages -------------------------------------------------------------------------------------
def test_messages_are_queued_or_delivered(api):
    message = {"name": "documents_resubmitted", "payload": {"files": 3}}
    response = api.post("carl", "/messages", {**message, "correlation": {"business_key": "X"}})
    assert response.status_code == 403

    queued = api.post("mia", "/messages", {**message, "correlation": {"business_key": "APP-9"}})
    assert queued.status_code == 202
    assert_schema("MessageResult", queued.json)
    assert queued.json["delivered_to"] is None and isinstance(queued.json["queued_id"], int)

    instance = api.start()
    review = api.open_task(instance["id"])
    response = api.complete("mia", review["id"], {"accepted": False, "man_days": 1})
    assert response.json["active_element_ids"] == ["Event_WaitResubmission"]
    delivered = api.post(
        "hank", "/messages", {**message, "correlation": {"instance_id": instance["id"]}}
    )
    assert delivered.status_code == 202
    assert delivered.json == {"delivered_to": instance["id"], "queued_id": None}
    again = api.open_task(instance["id"])
    assert again["element_id"] == "Task_Review" and again["id"] != review["id"]
    assert api.get("mia", f"/tasks/{again['id']}").json["data"]["resubmission"] == {"files": 3}


def test_message_body_errors(api):
    for body, field in (
        ({"correlation": {"business_key": "A"}}, "name"),
        ({"name": "m", "correlation": {}}, "correlation"),
        ({"name": "m", "correlation": {"tenant": "A"}}, "correlation"),
        ({"name": "m", "correlation": {"instance_id": "1"}}, "correlation/instance_id"),
        ({"name": "m", "correlation": {"instance_id": 2**40}}, "correlation/instance_id"),
        ({"name": "m", "correlation": {"business_key": "A"}, "payload": 3}, "payload"),
    ):
        response = api.post("mia", "/messages", body)
        assert response.status_code == 422, body
        assert field in response.json["errors"], (body, response.json)


# -- clock ----------------------------------------------------------------------------------------
def test_clock_read_set_and_advance(api):
    response = api.get("carl", "/clock")
    assert response.status_code == 200
    assert_schema("Clock", response.json)
    assert response.json == {"now": iso(START_TIME), "simulated": True}

    assert api.post("mia", "/clock", {"advance": "P1D"}).status_code == 403
    assert api.post("olga", "/clock", {"set": "2026-03-01T00:00:00+00:00"}).status_code == 403

    response = api.post("ada", "/clock", {"set": "2026-03-01T09:00:00+08:00"})
    assert response.status_code == 200
    assert_schema("ClockChange", response.json)
    assert response.json == {
        "now": "2026-03-01T01:00:00+00:00",
        "simulated": True,
        "fired_instances": [],
    }
    response = api.post("ada", "/clock", {"advance": "P1M"})
    assert response.json["now"] == "2026-04-01T01:00:00+00:00"
    response = api.post("ada", "/clock", {"advance": "PT2H"})
    assert response.json["now"] == "2026-04-01T03:00:00+00:00"
    assert api.get("mia", "/clock").json["now"] == "2026-04-01T03:00:00+00:00"

    for body, field in (
        ({"advance": "30 days"}, "advance"),
        ({"advance": 30}, "advance"),
        ({"set": "2026-03-01T09:00:00"}, "set"),  # no offset
        ({"set": "tomorrow"}, "set"),
        ({}, "_body"),
        ({"set": "2026-03-01T09:00:00+00:00", "advance": "P1D"}, "_body"),
    ):
        response = api.post("ada", "/clock", body)
        assert response.status_code == 422, body
        assert field in response.json["errors"], (body, response.json)
    assert api.get("mia", "/clock").json["now"] == "2026-04-01T03:00:00+00:00"
    # Each change is in the audit trail (issue 13), the refused ones are not.
    with api.app.app_context():
        changes = db.session.scalars(
            select(EventLog).where(EventLog.event_type == "clock_changed").order_by(EventLog.id)
        ).all()
        assert [(e.actor, e.data["before"], e.data["after"]) for e in changes] == [
            ("ada", "2026-01-05T01:00:00+00:00", "2026-03-01T01:00:00+00:00"),
            ("ada", "2026-03-01T01:00:00+00:00", "2026-04-01T01:00:00+00:00"),
            ("ada", "2026-04-01T01:00:00+00:00", "2026-04-01T03:00:00+00:00"),
        ]


def test_real_clock_cannot_be_changed(api, tmp_path):
    real = make_app(
        api.app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "real", CERTFLOW_CLOCK="real"
    )
    try:
        client = real.test_client()
        headers = {"Authorization": f"Bearer {api.tokens['ada']}"}
        response = client.get("/api/v1/clock", headers=headers)
        assert response.json["simulated"] is False
        response = client.post("/api/v1/clock", json={"advance": "P1D"}, headers=headers)
        assert response.status_code == 409
        assert response.json["error"] == "conflict"
    finally:
        with real.app_context():
            db.session.remove()
            db.engine.dispose()


def test_advancing_the_clock_fires_the_boundary_timer(api):
    instance = api.start()
    review = api.open_task(instance["id"])
    assert api.complete("mia", review["id"], REVIEW_OK).status_code == 200
    [contract] = api.tasks("carl")["items"]
    assert contract["due_at"] == iso(START_TIME + timedelta(days=30))

    response = api.post("ada", "/clock", {"advance": "P29D"})
    assert response.json["fired_instances"] == []
    response = api.post("ada", "/clock", {"advance": "P2D"})
    assert response.status_code == 200
    assert response.json["fired_instances"] == [instance["id"]]
    assert response.json["now"] == iso(START_TIME + timedelta(days=31))

    body = api.get("mia", f"/instances/{instance['id']}").json
    assert body["active_element_ids"] == ["Task_ChaseContract"]
    assert body["next_timer_at"] is None
    [cancelled] = api.tasks("carl", state="cancelled")["items"]
    assert cancelled["id"] == contract["id"]
    [chase] = api.tasks("mia")["items"]
    assert chase["element_id"] == "Task_ChaseContract"


# -- incidents ------------------------------------------------------------------------------------
def _failing_handler(params: dict, ctx: Any) -> dict:
    raise RuntimeError("registry is down")


def _use_handler(fn: Any) -> None:
    unregister(OPERATOR)
    handler(OPERATOR)(fn)


def test_incident_retry(api):
    instance = api.start()
    review = api.open_task(instance["id"])
    _use_handler(_failing_handler)
    response = api.complete("mia", review["id"], REVIEW_OK)
    assert response.status_code == 200
    body = response.json
    assert body["status"] == "error"
    [incident] = body["incidents"]
    assert_schema("Incident", incident)
    assert incident["element_id"] == "Task_RecordAcceptance"
    assert "registry is down" in incident["message"]
    assert (incident["attempts"], incident["status"]) == (1, "open")
    assert incident["created_at"] == iso(START_TIME)
    url = f"/incidents/{incident['id']}/retry"

    for user in ("mia", "carl", "quinn"):
        assert api.post(user, url).status_code == 403, user
    response = api.post("olga", url)  # still failing: the incident stays open
    assert response.status_code == 200
    assert (response.json["status"], response.json["attempts"]) == ("open", 2)
    assert api.post("ada", url, {"data": 5}).status_code == 422

    _use_handler(record_acceptance)
    response = api.post("ada", url, {"data": {"man_days": 3.0}})
    assert response.status_code == 200
    assert_schema("Incident", response.json)
    assert response.json["status"] == "resolved"
    assert response.json["resolved_by"] == "ada"
    assert response.json["resolved_at"] == iso(START_TIME)

    body = api.get("mia", f"/instances/{instance['id']}").json
    assert body["status"] == "running"
    assert body["active_element_ids"] == CONTRACT_STAGE
    assert body["incidents"] == []
    [contract] = api.tasks("carl")["items"]
    data = api.get("ada", f"/tasks/{contract['id']}").json["data"]
    assert data["acceptance"] == {"application_id": "APP-1", "man_days": 3.0}
    # The client sees its own form's fields only: nothing is declared for this fixture task.
    assert "acceptance" not in api.get("carl", f"/tasks/{contract['id']}").json["data"]
    assert api.post("ada", url).status_code == 409  # already resolved
    assert api.post("ada", "/incidents/999999/retry").status_code == 404


# -- the OpenAPI document -------------------------------------------------------------------------
def _openapi_path(rule: str) -> str:
    assert rule.startswith(models.API_PREFIX)
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule[len(models.API_PREFIX) :])


def _resolve(ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = DOC
    for part in ref[2:].split("/"):
        assert part in node, f"unresolvable $ref {ref}"
        node = node[part]
    return node


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_openapi_documents_every_route(app):
    served = app.test_client().get("/api/v1/openapi.json").json
    assert served == DOC
    routes = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")]
    assert len(routes) >= 12
    for rule in routes:
        path = _openapi_path(rule.rule)
        assert path in DOC["paths"], f"{rule.rule} is not documented"
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in DOC["paths"][path], f"{method} {rule.rule} undocumented"
    documented = {
        (path, method)
        for path, item in DOC["paths"].items()
        for method in item
        if method != "parameters"
    }
    served_ops = {
        (_openapi_path(rule.rule), method.lower())
        for rule in routes
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert documented == served_ops  # and nothing is documented that does not exist


def test_openapi_document_is_structurally_valid():
    assert DOC["openapi"] == "3.1.0"
    assert DOC["info"]["title"] and DOC["info"]["version"]
    assert "CSRF" in DOC["info"]["description"]
    assert DOC["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A certflow API token.",
    }
    assert DOC["security"] == [{"bearerAuth": []}]
    methods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    operation_ids = []
    for path, item in DOC["paths"].items():
        assert path.startswith("/")
        operations = {k: v for k, v in item.items() if k != "parameters"}
        assert operations and set(operations) <= methods, path
        declared = {p["name"] for p in item.get("parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"{([^}]+)}", path)), path
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            operation_ids.append(operation["operationId"])
            assert operation["summary"], where
            responses = operation["responses"]
            assert responses, where
            assert any(code.startswith("2") for code in responses), where
            for code, response in responses.items():
                assert re.fullmatch(r"[1-5]\d\d", code), where
                response = _resolve(response["$ref"]) if "$ref" in response else response
                assert response["description"], where
            if operation.get("security") == []:  # the public operations: an allowlist
                assert where in PUBLIC_OPERATIONS, where
            else:
                assert "401" in responses, where
            if "requestBody" in operation:
                assert "422" in responses, where
                content = operation["requestBody"]["content"]
                assert {"application/json", "multipart/form-data"} & set(content), where
            for parameter in operation.get("parameters", []):
                assert parameter["in"] in {"query", "path", "header", "cookie"}, where
                assert "schema" in parameter, where
    assert len(operation_ids) == len(set(operation_ids))
    for ref in _refs(DOC):
        _resolve(ref)
    for schema in DOC["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    if importlib.util.find_spec("openapi_spec_validator"):  # not a dependency; used if present
        from openapi_spec_validator import validate

        validate(DOC)


def test_a_client_sees_and_acts_only_on_its_own_organisations_tasks(api):
    """R-11: the contract task (client lane) belongs to carl's organisation, not to cora's."""
    task = api.open_task(api.start()["id"])
    assert api.complete("mia", task["id"], REVIEW_OK).status_code == 200
    [contract] = api.tasks("carl")["items"]
    assert api.tasks("cora")["total"] == 0
    url = f"/tasks/{contract['id']}"
    assert api.get("cora", url).status_code == 404
    assert api.post("cora", f"{url}/claim").status_code == 404
    signed = {"signed_on": "2026-01-20", "signatory": "Cora"}
    assert api.complete("cora", contract["id"], signed).status_code == 404
    assert api.get("carl", url).status_code == 200
