"""A client cannot plant a case in another organisation (R-11; issue 9, item 7): business keys
and organisation links are set by the system, and a client starts only the processes of
webapp.access.CLIENT_STARTABLE_PROCESSES (none yet) — on the real processes/ deployment, whose
certification process starts in the client lane."""

import pytest
from sqlalchemy import func, select

from certflow.accounts import create_user, issue_token
from certflow.db import db
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
    # Without a business key: certification is not (yet) a process a client may start.
    assert frozenset() == access.CLIENT_STARTABLE_PROCESSES
    response = post(app, tokens["client_a"], {"process_id": "certification"})
    assert response.status_code == 403
    assert response.json["error"] == "forbidden"
    assert db.session.scalar(select(func.count(ProcessInstance.id))) == 0
    inbox = app.test_client().get(
        "/api/v1/tasks", headers={"Authorization": f"Bearer {tokens['client_b']}"}
    )
    assert inbox.status_code == 200 and inbox.json["items"] == []
