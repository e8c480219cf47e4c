"""The integrator's steps through the JSON API, shared by the lifecycle tests that start from a
new client (issue 11): an administrator creates the organisation and its client user, the client
starts its own certification, and the case runs to the certificate — every id taken from an API
answer (POST /instances, the forms' `oneOf` choices), time moved by POST /api/v1/clock.

The staff accounts and the audit team's HR records exist beforehand
(tests/certification_case.make_people), as at a certification body."""

from datetime import timedelta

from certflow.accounts import create_user
from certflow.dates import add_months
from certflow.db import db
from engine.service import Actor
from tests.api_lifecycle import ApiLifecycle
from tests.certification_case import findings_losing
from tests.factories import VALID_USCC


def choices(schema: dict, *path: str) -> dict[str, int]:
    """The `oneOf` choices of a form field: title → value."""
    node = schema
    for step in path:
        node = node["items"] if step == "[]" else node["properties"][step]
    return {option["title"]: option["const"] for option in node["oneOf"]}


def onboard_client(life: ApiLifecycle) -> None:
    """The administrator creates the organisation and its client user (POST /organisations,
    POST /users); the client obtains its own token with its password (POST /tokens)."""
    admin = create_user(
        db.session,
        "ada_admin",
        password="pw",
        roles={"admin"},
        display_name="Ada",
        now=life.clock.now(),
    )
    db.session.commit()
    life.use_api(admin, number=None)
    organisation = life.call(
        "POST", "/organisations", json={"name": "福州优服电器有限公司", "uscc": VALID_USCC}
    )
    user = life.call(
        "POST",
        "/users",
        json={
            "username": "new_client",
            "display_name": "王芳",
            "password": "a-long-pass-1",
            "roles": ["client"],
            "organisation_id": organisation["id"],
        },
    )
    assert user["organisation_id"] == organisation["id"]
    # The client's token: asked for with its password, no operator involved (issue 11).
    db.session.rollback()
    issued = life.http.post(
        "/api/v1/tokens",
        json={"username": "new_client", "password": "a-long-pass-1", "name": "ERP"},
    )
    assert issued.status_code == 201, issued.json
    life.tokens[user["username"]] = issued.json["token"]
    life.people.client = Actor(user["username"], frozenset({"client"}))


def team_from_the_form(life: ApiLifecycle) -> None:
    """The audit team's ids as the appointment form offers them (by the auditors' names)."""
    task = life.task_of(None, "Task_AppointTeam", life.people.scheduler.username)
    schema = life.get(f"/tasks/{task['id']}", life.people.scheduler.username)["form_schema"]
    offered = choices(schema, "members", "[]", "auditor_id")
    by_name = {
        name: next(v for t, v in offered.items() if name in t)
        for name in ("张组长", "李审查", "陈专家")
    }
    p = life.people
    p.leader_id, p.auditor_id, p.expert_id = by_name["张组长"], by_name["李审查"], by_name["陈专家"]


def certify_through_api(life: ApiLifecycle) -> str:
    """The client starts its certification and the case runs to a granted 4-star certificate
    (R-6 … R-9.1); returns the certificate's number (from GET /certificates)."""
    p = life.people
    started = life.call(
        "POST", "/instances", p.client.username, json={"process_id": "certification"}
    )
    life.instance_id, life.day0 = started["id"], life.now()
    life.submit_application()
    life.review()
    life.contract()
    life.programme()
    team_from_the_form(life)
    life.appoint()
    life.plan_and_prepare()
    life.opening_meeting()
    life.evidence(findings_losing(40))
    life.conclude("recommend", [])
    life.receive_report()
    life.correct_all_ncs()  # the NC of each deduction finding
    life.at(40)
    life.decide("grant", 4)
    [certificate] = life.get("/certificates", p.client.username)["items"]
    assert certificate["status"] == "valid"
    life.number = certificate["number"]
    return life.number


def new_client_certified(life: ApiLifecycle) -> str:
    """A new client onboarded and certified, all through the API; the certificate's number."""
    onboard_client(life)
    return certify_through_api(life)


def renew_registrations(life: ApiLifecycle) -> None:
    """HR's yearly work through the API (R-7.2.2): every registered auditor evaluated today and
    the registration renewed for 3 years (POST /auditors/{id}/evaluations, …/renewals), so that
    the team can be appointed again years later (e.g. for the recertification)."""
    today = life.now().date()
    for auditor in life.get("/auditors")["items"]:
        if auditor["registration_number"] is None:
            continue  # a technical expert holds no registration
        life.call(
            "POST",
            f"/auditors/{auditor['id']}/evaluations",
            json={"evaluated_on": today.isoformat(), "evaluator": "吴芳", "result": "qualified"},
        )
        renewed = life.call(
            "POST",
            f"/auditors/{auditor['id']}/renewals",
            json={"expires_on": (add_months(today, 36) - timedelta(days=1)).isoformat()},
        )
        assert renewed["registration_valid"] is True
