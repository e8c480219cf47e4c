"""People through the API (issue 11 "People"; issue 15 R-7.2.2): admin manages users and roles,
hr keeps the auditor register — register, evaluate, renew — with 422 naming field and rule, and
everyone else is refused (an allowlist)."""

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from certflow.accounts import issue_token
from certflow.dates import china_date
from certflow.db import db
from certflow.models import User
from tests.api.test_api import assert_schema
from tests.web_support import Web, web_fixture  # noqa: F401
from webapp.models import AccessLog


class Api:
    def __init__(self, web: Web) -> None:
        self.web = web
        with web.app.app_context():
            users = db.session.scalars(select(User)).all()
            self.tokens = {u.username: issue_token(db.session, u, web.now()) for u in users}
            db.session.commit()

    def call(self, username: str, method: str, url: str, body: Any = None, **params):
        return self.web.app.test_client().open(
            f"/api/v1{url}",
            method=method,
            json=body,
            query_string=params,
            headers={"Authorization": f"Bearer {self.tokens[username]}"},
        )

    def today(self):
        return china_date(self.web.now())


@pytest.fixture
def api(web) -> Api:
    return Api(web)


def auditor_body(api: Api, **changes) -> dict:
    body = {
        "name": "张审查",
        "registration_number": "CCAA-SC-3001",
        "registration_expires_on": (api.today() + timedelta(days=20)).isoformat(),
        "level": "senior",
        "team_leader_qualified": True,
        "fields": ["after_sales_service"],
        "languages": ["zh", "en"],
    }
    body.update(changes)
    return body


# -- users (admin) -----------------------------------------------------------------------------
def test_admin_creates_a_user_with_a_role_that_can_then_use_the_api(api):
    created = api.call(
        "ada",
        "POST",
        "/users",
        {
            "username": "sara",
            "display_name": "Sara 计划",
            "password": "a-long-pass-1",
            "roles": ["scheduler"],
        },
    )
    assert created.status_code == 201, created.json
    assert_schema("UserOut", created.json)
    assert created.json["roles"] == ["scheduler"]
    with api.web.app.app_context():
        sara = db.session.scalars(select(User).where(User.username == "sara")).one()
        assert sara.check_password("a-long-pass-1")
        assert db.session.scalars(
            select(AccessLog.event).where(AccessLog.event == "user_created")
        ).all() == ["user_created"]
    listed = api.call("ada", "GET", "/users").json["items"]
    assert "sara" in [u["username"] for u in listed]


def test_a_client_user_needs_its_organisation_and_no_other_role(api):
    answer = api.call(
        "ada",
        "POST",
        "/users",
        {
            "username": "cliff",
            "display_name": "Cliff",
            "password": "a-long-pass-1",
            "roles": ["client", "market"],
        },
    )
    assert answer.status_code == 422
    assert set(answer.json["errors"]) == {"roles", "organisation_id"}
    assert "client role" in answer.json["errors"]["roles"][0]


def test_a_taken_username_and_a_short_password_are_field_errors(api):
    answer = api.call(
        "ada",
        "POST",
        "/users",
        {"username": "hank", "display_name": "H", "password": "short", "roles": ["hr"]},
    )
    assert answer.status_code == 422
    assert set(answer.json["errors"]) == {"username", "password"}


def test_admin_changes_roles_and_deactivates_but_not_themself(api):
    hank = api.call("ada", "GET", "/users").json["items"]
    [hank] = [u for u in hank if u["username"] == "hank"]
    changed = api.call("ada", "PATCH", f"/users/{hank['id']}", {"roles": ["hr", "scheduler"]})
    assert changed.status_code == 200 and changed.json["roles"] == ["hr", "scheduler"]
    off = api.call("ada", "PATCH", f"/users/{hank['id']}", {"active": False})
    assert off.json["active"] is False
    assert api.call("hank", "GET", "/roles").status_code == 401  # its token stops working
    [ada] = [u for u in api.call("ada", "GET", "/users").json["items"] if u["username"] == "ada"]
    refused = api.call("ada", "PATCH", f"/users/{ada['id']}", {"roles": ["hr"]})
    assert refused.status_code == 422 and "roles" in refused.json["errors"]
    assert api.call("ada", "PATCH", "/users/999999", {"active": False}).status_code == 404


@pytest.mark.parametrize("username", ["hank", "mia", "carl", "quinn"])
def test_only_admin_manages_users(api, username):
    assert api.call(username, "GET", "/users").status_code == 403
    body = {"username": "x1", "display_name": "x", "password": "a-long-pass-1", "roles": ["hr"]}
    assert api.call(username, "POST", "/users", body).status_code == 403
    assert api.call(username, "PATCH", "/users/1", {"x": "\u0000"}).status_code == 403
    assert api.call(username, "GET", "/roles").status_code == 200


# -- the auditor register (hr) -----------------------------------------------------------------
def test_hr_registers_evaluates_and_renews_an_auditor(api):
    created = api.call("hank", "POST", "/auditors", auditor_body(api))
    assert created.status_code == 201, created.json
    assert_schema("AuditorDetail", created.json)
    auditor = created.json["id"]
    assert created.json["renewal_refused"].startswith("R-7.2.2")
    expiring = api.call("hank", "GET", "/auditors", expiring="true").json["items"]
    assert [a["id"] for a in expiring] == [auditor]

    new_day = (api.today() + timedelta(days=700)).isoformat()
    refused = api.call("hank", "POST", f"/auditors/{auditor}/renewals", {"expires_on": new_day})
    assert refused.status_code == 422
    assert refused.json["errors"]["evaluation"][0].startswith("R-7.2.2")

    evaluation = {
        "evaluated_on": api.today().isoformat(),
        "evaluator": "王经理",
        "result": "qualified",
        "languages": ["zh", "en", "ja"],
    }
    evaluated = api.call("hank", "POST", f"/auditors/{auditor}/evaluations", evaluation)
    assert evaluated.status_code == 201, evaluated.json
    assert evaluated.json["languages"] == ["zh", "en", "ja"]
    renewed = api.call("hank", "POST", f"/auditors/{auditor}/renewals", {"expires_on": new_day})
    assert renewed.status_code == 201, renewed.json
    assert renewed.json["registration_expires_on"] == new_day
    assert [e["kind"] for e in renewed.json["history"]] == ["registered", "evaluated", "renewed"]
    assert api.call("hank", "GET", "/auditors", expiring="true").json["items"] == []
    again = api.call(
        "hank",
        "POST",
        f"/auditors/{auditor}/renewals",
        {"expires_on": (api.today() + timedelta(days=800)).isoformat()},
    )
    assert again.status_code == 422  # one renewal per evaluation


def test_a_bad_registration_is_422_with_field_and_rule_and_nothing_is_stored(api):
    answer = api.call(
        "hank",
        "POST",
        "/auditors",
        auditor_body(api, registration_expires_on=(api.today() - timedelta(days=1)).isoformat()),
    )
    assert answer.status_code == 422
    assert answer.json["errors"]["registration_expires_on"][0].startswith("R-7.2.2")
    assert api.call("hank", "GET", "/auditors").json["items"] == []
    wrong_shape = api.call("hank", "POST", "/auditors", auditor_body(api, languages=["xx"]))
    assert wrong_shape.status_code == 422 and "languages/0" in wrong_shape.json["errors"]
    # a date is an ISO string, never a number (found by schemathesis)
    number = api.call("hank", "POST", "/auditors", auditor_body(api, registration_expires_on=0))
    assert number.status_code == 422 and "registration_expires_on" in number.json["errors"]


@pytest.mark.parametrize("username", ["mia", "carl", "quinn"])
def test_only_hr_and_admin_keep_the_register(api, username):
    assert api.call(username, "GET", "/auditors").status_code == 403
    assert api.call(username, "POST", "/auditors", auditor_body(api)).status_code == 403
    # who may act is decided before the body is judged
    assert api.call(username, "POST", "/auditors", {"x": "\u0000"}).status_code == 403
    assert api.call("ada", "GET", "/auditors").status_code == 200


def test_concurrent_renewals_on_one_evaluation_store_one(api):
    """Races: one winner, the others 409 (the unique evaluation of a renewal) or 422 (they saw
    the renewal already) — never a 5xx, never two renewals."""
    from tests.helpers import run_in_threads

    auditor = api.call("hank", "POST", "/auditors", auditor_body(api)).json["id"]
    evaluation = {"evaluated_on": api.today().isoformat(), "evaluator": "王经理",
                  "result": "qualified"}  # fmt: skip
    assert (
        api.call("hank", "POST", f"/auditors/{auditor}/evaluations", evaluation).status_code == 201
    )
    body = {"expires_on": (api.today() + timedelta(days=700)).isoformat()}

    def renew():
        response = api.call("hank", "POST", f"/auditors/{auditor}/renewals", body)
        return response.status_code

    results = run_in_threads(api.web.app, *([renew] * 4))
    assert all(kind == "ok" for kind, _ in results), results
    statuses = sorted(status for _, status in results)
    assert set(statuses) <= {201, 409, 422}, statuses
    with api.web.app.app_context():
        from domain.models_people import AuditorEvent

        renewals = db.session.scalars(
            select(AuditorEvent).where(AuditorEvent.kind == "renewed")
        ).all()
    assert len(renewals) == statuses.count(201) <= 1
    if db_is_postgresql(api):
        assert statuses.count(201) == 1, statuses


def db_is_postgresql(api) -> bool:
    with api.web.app.app_context():
        return db.engine.dialect.name == "postgresql"
