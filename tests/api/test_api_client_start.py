"""A client cannot plant a case in another organisation (R-11; issue 9, item 7; issue 10):
business keys and organisation links are set by the system, and a client starts only the
processes of webapp.access.CLIENT_STARTABLE_PROCESSES (certification), bound to its own
organisation — on the real processes/ deployment, whose certification process starts in the
client lane."""

import pytest
from sqlalchemy import func, select

from certflow.accounts import create_user, issue_token
from certflow.db import db
from certflow.models import User
from domain.models import CaseBinding
from engine.models import ProcessInstance
from tests.certification_case import deploy_everything
from tests.conftest import START_TIME
from tests.factories import make_application, make_organisation
from webapp import access


@pytest.fixture
def tokens(app, engine):
    deploy_everything(engine)
    org_a = make_organisation(db.session, START_TIME, name="甲公司")
    org_b = make_organisation(db.session, START_TIME, name="乙公司", uscc="91110000MA00000002")
    make_application(db.session, START_TIME, org_b, number="APP-2026-0002")
    result = {}
    for name, roles, organisation in (
        ("client_a", {"client"}, org_a),
        ("client_b", {"client"}, org_b),
        ("mia", {"market"}, None),
    ):
        user = create_user(
            db.session, name, password="pw", roles=roles, display_name=name, now=START_TIME
        )
        user.organisation_id = organisation.id if organisation else None
        result[name] = issue_token(db.session, user, START_TIME)
    db.session.commit()
    return result


def post(app, token, body):
    return app.test_client().post(
        "/api/v1/instances", json=body, headers={"Authorization": f"Bearer {token}"}
    )


def test_a_client_cannot_choose_a_business_key_or_start_a_process(app, tokens):
    body = {"process_id": "certification", "business_key": "APP-2026-0002"}
    response = post(app, tokens["client_a"], body)
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["business_key"]
    assert "set by the system" in response.json["errors"]["business_key"][0]
    # Nor the start data: the case's variables come from its forms.
    body = {"process_id": "certification", "data": {"organisation_id": 1}}
    response = post(app, tokens["client_a"], body)
    assert response.status_code == 422 and list(response.json["errors"]) == ["data"]
    # A process outside the allowlist stays 403.
    assert frozenset({"certification"}) == access.CLIENT_STARTABLE_PROCESSES
    for process_id in ("complaint", "surveillance", "suspension"):
        response = post(app, tokens["client_a"], {"process_id": process_id})
        assert response.status_code == 403
        assert response.json["error"] == "forbidden"
    assert db.session.scalar(select(func.count(ProcessInstance.id))) == 0
    inbox = app.test_client().get(
        "/api/v1/tasks", headers={"Authorization": f"Bearer {tokens['client_b']}"}
    )
    assert inbox.status_code == 200 and inbox.json["items"] == []


def test_a_client_starts_certification_for_its_own_organisation_only(app, tokens):
    response = post(app, tokens["client_a"], {"process_id": "certification"})
    assert response.status_code == 201
    instance_id = response.json["id"]
    binding = db.session.scalars(select(CaseBinding)).one()
    assert (binding.instance_id, binding.started_by) == (instance_id, "client_a")
    assert (
        binding.organisation_id
        == db.session.scalars(select(User.organisation_id).where(User.username == "client_a")).one()
    )

    def tasks(name):
        headers = {"Authorization": f"Bearer {tokens[name]}"}
        return app.test_client().get("/api/v1/tasks", headers=headers).json["items"]

    assert [t["instance_id"] for t in tasks("client_a")] == [instance_id]
    assert tasks("client_b") == []
    # One running application per organisation (409), nothing more started.
    assert post(app, tokens["client_a"], {"process_id": "certification"}).status_code == 409
    assert db.session.scalar(select(func.count(ProcessInstance.id))) == 1
    # A client account of no organisation starts nothing.
    lone = create_user(
        db.session, "lone", password="pw", roles={"client"}, display_name="lone", now=START_TIME
    )
    token = issue_token(db.session, lone, START_TIME)
    db.session.commit()
    assert post(app, token, {"process_id": "certification"}).status_code == 403
