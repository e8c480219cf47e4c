"""GET /instances and GET /instances/{id}/variables (issue 11): the list shows exactly the
instances the instance answer shows to the same user (R-11), filters and pages them; the
variables are filtered for clients as the task answer filters them (webapp/client_data.py)."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from certflow.accounts import issue_token
from certflow.db import db
from certflow.models import User
from tests.api.test_api import assert_schema
from tests.case_support import add_case_records
from tests.web_support import Web, actor, web_fixture  # noqa: F401

USERS = ("ada", "quinn", "olga", "mia", "max", "hank", "carl", "cleo", "cora", "aldo")


@dataclass
class World:
    web: Web
    ids: dict[str, int]  # name → instance id
    contract_task: str  # A's client task
    tokens: dict[str, str]

    def get(self, username: str, url: str, **params):
        client = self.web.app.test_client()
        headers = {"Authorization": f"Bearer {self.tokens[username]}"}
        return client.get(f"/api/v1{url}", query_string=params, headers=headers)

    def listed(self, username: str, **params) -> list[int]:
        answer = self.get(username, "/instances", **params)
        assert answer.status_code == 200, answer.json
        assert_schema("InstancePage", answer.json)
        return [item["id"] for item in answer.json["items"]]


@pytest.fixture
def world(web) -> World:
    ids = {"a": web.start("APP-A", org="A")}
    contract_task = web.to_contract(ids["a"])
    web.advance(timedelta(days=2))
    ids["b"] = web.start("APP-B", org="B")
    web.advance(timedelta(days=2))
    ids["loose"] = web.start("LOOSE-1")  # linked to no organisation
    # A's second instance ends: its contract is signed.
    web.advance(timedelta(days=2))
    ids["a_done"] = web.start("APP-A2", org="A")
    signing = web.to_contract(ids["a_done"])
    with web.app.app_context():
        web.engine.complete_task(
            signing, actor=actor("carl"), data={"signed_on": "2026-03-01", "signatory": "Carl"}
        )
        add_case_records(db.session, web.storage, web.now(), web.organisations["A"], "APP-A")
        users = db.session.scalars(select(User)).all()
        tokens = {user.username: issue_token(db.session, user, web.now()) for user in users}
        db.session.commit()
    return World(web, ids, contract_task, tokens)


def test_the_list_shows_exactly_the_instances_the_instance_answer_shows(world):
    """For every kind of user: listed ⇔ GET /instances/{id} answers 200 (one rule, R-11)."""
    everything = sorted(world.ids.values())
    for username in USERS:
        shown = [i for i in everything if world.get(username, f"/instances/{i}").status_code == 200]
        assert sorted(world.listed(username)) == shown, username
    assert sorted(world.listed("carl")) == sorted([world.ids["a"], world.ids["a_done"]])
    assert world.listed("cora") == [world.ids["b"]]
    assert world.listed("hank") == []
    # aldo sits on A's audit team only: A's case's instances, nothing of B's or the loose one.
    assert sorted(world.listed("aldo")) == sorted([world.ids["a"], world.ids["a_done"]])


def test_filters_and_paging(world):
    ids = world.ids
    assert world.listed("quinn", business_key="APP-B") == [ids["b"]]
    assert world.listed("quinn", process="review_flow") == sorted(ids.values())
    assert world.listed("quinn", process="nothing") == []
    assert world.listed("quinn", status="completed") == [ids["a_done"]]
    assert world.listed("quinn", status="running") == sorted([ids["a"], ids["b"], ids["loose"]])
    assert world.listed("quinn", organisation=world.web.organisations["A"]) == sorted(
        [ids["a"], ids["a_done"]]
    )
    assert world.listed("cora", organisation=world.web.organisations["A"]) == []
    b_started = world.get("quinn", f"/instances/{ids['b']}").json["started_at"]
    done = world.get("quinn", f"/instances/{ids['a_done']}").json
    assert world.listed("quinn", started_from=b_started) == [ids["b"], ids["loose"], ids["a_done"]]
    assert world.listed("quinn", started_to=b_started) == [ids["a"], ids["b"]]
    assert world.listed("quinn", ended_from=done["ended_at"], ended_to=done["ended_at"]) == [
        ids["a_done"]
    ]
    page = world.get("quinn", "/instances", limit=2, offset=1).json
    assert (page["total"], page["limit"], page["offset"]) == (4, 2, 1)
    assert [item["id"] for item in page["items"]] == [ids["b"], ids["loose"]]
    for bad in (
        {"status": "lost"},
        {"started_from": "2026-01-01T00:00:00"},  # no offset
        {"started_to": "0.5"},  # no seconds since 1970 either
        {"ended_to": "0001-01-01T00:00:00+01:00"},  # before year 1 in UTC
        {"limit": "0"},
    ):
        refused = world.get("quinn", "/instances", **bad)
        assert refused.status_code == 422, bad
        assert set(refused.json["errors"]) == set(bad), refused.json


def test_variables_as_far_as_the_caller_may_see_them(world):
    """A client gets its own task's form fields and declared variables only — the same data
    the task answer gives it; staff the whole data (R-11)."""
    a = world.ids["a"]
    client = world.get("carl", f"/instances/{a}/variables")
    assert client.status_code == 200, client.json
    assert_schema("InstanceVariables", client.json)
    assert client.json["task_id"] == world.contract_task
    task_data = world.get("carl", f"/tasks/{world.contract_task}").json["data"]
    assert client.json["variables"] == task_data
    assert "man_days" not in client.json["variables"]  # the market's review (internal)
    staff = world.get("quinn", f"/instances/{a}/variables").json
    assert staff["task_id"] == world.contract_task
    assert staff["variables"]["man_days"] == 2.0
    assert world.get("cora", f"/instances/{a}/variables").status_code == 404
    assert world.get("hank", f"/instances/{a}/variables").status_code == 404
