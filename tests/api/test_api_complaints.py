"""Complaints through the API (issue 11; R-12, R-11): intake by a client, by complaints staff and
publicly (with the web form's rate limit, in the same counter), status by reference, and the
overdue flag counted from receipt whatever the state."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from certflow.accounts import create_user, issue_token
from certflow.db import db
from certflow.models import User
from certflow.settings import EXTENSION_KEY
from domain.models import Organisation
from domain.models_cases import Complaint
from tests.api.test_api import assert_schema
from tests.complaints.test_web_complaints import (
    COMPLAINT_BPMN,
    NUMBER_A,
    NUMBER_B,
    VALID,
    certificate_of,
)
from tests.conftest import START_TIME
from tests.helpers import OWNER
from tests.web_support import PASSWORD, Browser, Web, web_fixture  # noqa: F401
from webapp.models import RateCounter


class Site:
    def __init__(self, web: Web) -> None:
        self.web = web
        self.client = web.app.test_client()
        with web.app.app_context():
            web.engine.deploy([COMPLAINT_BPMN], actor=OWNER, comment="complaints")
            create_user(
                db.session,
                "desk",
                password=PASSWORD,
                roles={"complaints"},
                display_name="desk",
                now=START_TIME,
            )
            certificate_of(db.session.get(Organisation, web.organisations["A"]), NUMBER_A)
            certificate_of(db.session.get(Organisation, web.organisations["B"]), NUMBER_B)
            users = db.session.scalars(select(User)).all()
            self.tokens = {u.username: issue_token(db.session, u, START_TIME) for u in users}
            db.session.commit()

    def post(self, url: str, body: dict, username: str | None = None):
        headers = {"Authorization": f"Bearer {self.tokens[username]}"} if username else {}
        return self.client.post(f"/api/v1{url}", json=body, headers=headers)

    def status(self, reference: str):
        return self.client.get(f"/api/v1/complaints/{reference}/status")

    def complaint(self, reference: str) -> Complaint:
        with self.web.app.app_context():
            query = select(Complaint).where(Complaint.reference == reference)
            row = db.session.scalars(query).one()
            db.session.expunge(row)
            return row


@pytest.fixture
def site(web) -> Site:
    return Site(web)


CLIENT_APPEAL = {**VALID, "kind": "appeal", "certificate_number": NUMBER_A}


def test_public_intake_and_status_by_reference(site):
    answer = site.post("/complaints/public", VALID)
    assert answer.status_code == 201, answer.json
    assert_schema("ComplaintStatus", answer.json)
    reference = answer.json["reference"]
    assert (answer.json["status"], answer.json["overdue"]) == ("received", False)
    row = site.complaint(reference)
    assert (row.channel, row.organisation_id, row.instance_id is not None) == (
        "public",
        site.web.organisations["A"],  # the certificate's organisation
        True,
    )
    status = site.status(reference.lower())
    assert status.status_code == 200 and status.json == answer.json
    assert site.status("TS-1999-0001").status_code == 404
    # Rule breaches: 422 with the field and the rule, nothing registered.
    refused = site.post("/complaints/public", {**VALID, "certificate_number": "CTC-NONE"})
    assert refused.status_code == 422
    assert refused.json["errors"] == {"certificate_number": ["no certificate has this number"]}
    missing = site.post("/complaints/public", {**VALID, "subject": "   "})
    assert missing.status_code == 422 and missing.json["errors"] == {"subject": ["required"]}


def test_a_client_registers_for_its_own_organisation_only(site):
    answer = site.post("/complaints", CLIENT_APPEAL, "carl")
    assert answer.status_code == 201, answer.json
    row = site.complaint(answer.json["reference"])
    assert (row.channel, row.kind, row.organisation_id) == (
        "portal",
        "appeal",
        site.web.organisations["A"],
    )
    other = site.post("/complaints", {**CLIENT_APPEAL, "certificate_number": NUMBER_B}, "carl")
    assert other.status_code == 422
    assert other.json["errors"] == {
        "certificate_number": ["not a certificate of your organisation (R-11)"]
    }
    about_client = site.post("/complaints", VALID, "carl")  # not a kind a client registers
    assert about_client.status_code == 422 and set(about_client.json["errors"]) == {"kind"}
    assert site.post("/complaints", CLIENT_APPEAL, "mia").status_code == 403  # no such role
    assert site.post("/complaints", CLIENT_APPEAL).status_code == 401


def test_staff_register_any_kind_as_a_channel(site):
    answer = site.post("/complaints", VALID, "desk")
    assert answer.status_code == 201, answer.json
    row = site.complaint(answer.json["reference"])
    assert (row.channel, row.kind, row.organisation_id) == (
        "staff",
        "about_client",
        site.web.organisations["A"],
    )


def test_the_public_endpoint_shares_the_web_forms_rate_limit(site):
    """The web form's limit (5 per address and hour) counts API and web submissions together:
    alternating cannot double it."""
    limit = site.web.app.extensions[EXTENSION_KEY].complaint_rate_limit
    browser = Browser(site.web.app)
    for n in range(limit):
        if n % 2:
            assert site.post("/complaints/public", VALID).status_code == 201, n
        else:
            browser.get("/complaints/new")
            assert browser.post("/complaints/new", VALID).status_code == 303, n
    refused = site.post("/complaints/public", VALID)
    assert refused.status_code == 429, refused.json
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.json["error"] == "too_many_requests"
    with site.web.app.app_context():
        assert db.session.query(Complaint).count() == limit  # the refused one is not registered
        assert db.session.query(RateCounter).count() == 1


def test_invalid_public_submissions_do_not_use_up_the_limit(site):
    limit = site.web.app.extensions[EXTENSION_KEY].complaint_rate_limit
    for _ in range(limit + 2):
        assert site.post("/complaints/public", {**VALID, "subject": " "}).status_code == 422
    assert site.post("/complaints/public", VALID).status_code == 201


def test_overdue_from_receipt_while_waiting_for_a_handler(site):
    """R-12: the reply is due 30 days from receipt, whatever the state; a complaint nobody was
    assigned to is overdue on the first day after its due date."""
    reference = site.post("/complaints/public", VALID).json["reference"]
    due = site.complaint(reference).reply_due_on

    def at(day: int) -> None:
        with site.web.app.app_context():
            site.web.clock.set(START_TIME + timedelta(days=day))

    received_on = site.status(reference).json["received_on"]
    assert due.isoformat() > received_on
    days_left = (due - START_TIME.date()).days
    at(days_left)  # the due day itself
    assert site.status(reference).json["overdue"] is False
    at(days_left + 1)
    late = site.status(reference).json
    assert (late["status"], late["overdue"]) == ("received", True)


# -- Idempotency-Key on the complaint intakes (issue 11) -----------------------------------------
def keyed(site: Site, url: str, body: dict, key: str, username: str | None = None):
    headers = {"Idempotency-Key": key}
    if username:
        headers["Authorization"] = f"Bearer {site.tokens[username]}"
    return site.client.post(f"/api/v1{url}", json=body, headers=headers)


def complaints(site: Site) -> int:
    with site.web.app.app_context():
        return len(db.session.scalars(select(Complaint.id)).all())


@pytest.mark.parametrize(
    ("url", "body", "username"),
    [
        ("/complaints", CLIENT_APPEAL, "carl"),
        ("/complaints", VALID, "desk"),
        ("/complaints/public", VALID, None),
    ],
)
def test_a_retried_complaint_with_the_same_key_registers_one(site, url, body, username):
    first = keyed(site, url, body, "lost-answer-1", username)
    assert first.status_code == 201, first.json
    again = keyed(site, url, body, "lost-answer-1", username)
    assert again.status_code == 201
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    assert complaints(site) == 1
    other = keyed(
        site, url, {**body, "subject": "另一件事 another matter"}, "lost-answer-1", username
    )
    assert other.status_code == 422 and "Idempotency-Key" in other.json["errors"]
    assert complaints(site) == 1
    assert keyed(site, url, body, "new-key", username).status_code == 201
    assert complaints(site) == 2


def test_a_replayed_public_complaint_takes_no_rate_limit_slot(site):
    assert keyed(site, "/complaints/public", VALID, "k").status_code == 201
    for _ in range(10):  # the limit is 5 an hour: replays are answered before counting
        assert keyed(site, "/complaints/public", VALID, "k").status_code == 201
    assert complaints(site) == 1


def test_the_document_offers_the_key_on_the_complaint_intakes():
    from webapp.api.document import document

    for path in ("/complaints", "/complaints/public"):
        names = [p["name"] for p in document()["paths"][path]["post"].get("parameters", [])]
        assert "Idempotency-Key" in names, path
