"""The certificate resource of the JSON API (issue 11): list and search, one by number, its status
history, its documents as the caller may read them, links to the instances of its cycle — and a
client sees only its own organisation's certificates (R-11)."""

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from certflow.accounts import issue_token
from certflow.db import db
from certflow.models import User
from domain.certificate_status import suspend
from domain.documents import create_document
from domain.models import Organisation
from tests.api.test_api import assert_schema
from tests.certificate_factory import ISSUED_AT, issued_certificate
from tests.web_support import Web, web_fixture  # noqa: F401

CLIENT_KIND, INTERNAL_KIND = "audit_report", "mystery_shopping_record"


@dataclass
class Certs:
    web: Web
    a: str  # certificate numbers
    b: str
    a_instance: int
    tokens: dict[str, str]

    def get(self, username: str, url: str, **params):
        client = self.web.app.test_client()
        headers = {"Authorization": f"Bearer {self.tokens[username]}"}
        return client.get(f"/api/v1{url}", query_string=params, headers=headers)


@pytest.fixture
def certs(web) -> Certs:
    with web.app.app_context():
        numbers = {}
        for key in ("A", "B"):
            organisation = db.session.get(Organisation, web.organisations[key])
            certificate = issued_certificate(organisation=organisation, star_level=4)
            numbers[key] = certificate.number
            for kind in (CLIENT_KIND, INTERNAL_KIND):
                create_document(
                    db.session,
                    kind=kind,
                    title=f"{kind} {key}",
                    lines=[f"# {kind} of {key}"],
                    organisation_id=organisation.id,
                    application_id=certificate.application_id,
                    created_by="ada",
                    now=ISSUED_AT,
                )
            if key == "A":
                suspend(
                    db.session,
                    certificate_id=certificate.id,
                    reason="e",
                    sites=[],
                    detail="费用未缴 fees unpaid",
                    correction_days=30,
                    max_months=6,
                    actor="quinn",
                    now=ISSUED_AT,
                )
        users = db.session.scalars(select(User)).all()
        tokens = {user.username: issue_token(db.session, user, ISSUED_AT) for user in users}
        db.session.commit()
    # A lifecycle instance keyed by A's certificate number, started by mia (her part in A).
    a_instance = web.start(numbers["A"])
    return Certs(web, numbers["A"], numbers["B"], a_instance, tokens)


def test_a_client_lists_and_reads_only_its_own_certificates(certs):
    listing = certs.get("carl", "/certificates")
    assert listing.status_code == 200, listing.json
    assert_schema("CertificatePage", listing.json)
    assert [c["number"] for c in listing.json["items"]] == [certs.a]
    assert listing.json["total"] == 1
    assert certs.get("carl", "/certificates", number=certs.b).json["items"] == []
    for suffix in ("", "/history", "/documents", "/instances"):
        assert certs.get("carl", f"/certificates/{certs.b}{suffix}").status_code == 404, suffix
        assert certs.get("carl", f"/certificates/{certs.a}{suffix}").status_code == 200, suffix
    # B's client, the other way round.
    assert [c["number"] for c in certs.get("cora", "/certificates").json["items"]] == [certs.b]
    assert certs.get("cora", f"/certificates/{certs.a}").status_code == 404


def test_staff_see_the_certificates_of_their_cases_and_the_overseers_all(certs):
    assert [c["number"] for c in certs.get("mia", "/certificates").json["items"]] == [certs.a]
    assert certs.get("mia", f"/certificates/{certs.b}").status_code == 404
    assert certs.get("hank", "/certificates").json["total"] == 0  # no part in any case
    everything = certs.get("quinn", "/certificates").json
    assert {c["number"] for c in everything["items"]} == {certs.a, certs.b}


def test_search_by_number_organisation_and_status_with_paging(certs):
    def numbers(**params):
        answer = certs.get("quinn", "/certificates", **params)
        assert answer.status_code == 200, answer.json
        return [c["number"] for c in answer.json["items"]]

    assert numbers(number=certs.b.lower()[-6:]) == [certs.b]  # part, any case
    assert numbers(organisation="beta") == [certs.b]
    assert numbers(organisation="甲公司") == [certs.a]
    assert numbers(organisation="%") == []  # wildcards are text
    assert numbers(status="suspended") == [certs.a]
    assert numbers(status="valid") == [certs.b]
    first = certs.get("quinn", "/certificates", limit=1).json
    second = certs.get("quinn", "/certificates", limit=1, offset=1).json
    assert (first["total"], first["limit"], len(first["items"])) == (2, 1, 1)
    assert {first["items"][0]["number"], second["items"][0]["number"]} == {certs.a, certs.b}
    refused = certs.get("quinn", "/certificates", status="lost")
    assert refused.status_code == 422 and "status" in refused.json["errors"]


def test_one_certificate_by_number(certs):
    answer = certs.get("carl", f"/certificates/{certs.a.lower()}")  # numbers are uppercase
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert_schema("Certificate", body)
    assert (body["number"], body["status"], body["star_level"]) == (certs.a, "suspended", 4)
    assert body["organisation"]["name"] == "甲公司 Alpha Ltd"
    assert body["scope"] and body["sites"] and not body["sites"][0]["suspended"]
    assert body["issued_on"] < body["expires_on"]
    assert body["mark_use_allowed"] is False  # suspended: no use of the mark (R-10.1e)
    assert body["links"] == {
        "history": f"/api/v1/certificates/{certs.a}/history",
        "documents": f"/api/v1/certificates/{certs.a}/documents",
        "instances": f"/api/v1/certificates/{certs.a}/instances",
    }


def test_status_history_oldest_first(certs):
    answer = certs.get("carl", f"/certificates/{certs.a}/history")
    assert_schema("CertificateEventList", answer.json)
    steps = [(e["status_before"], e["status_after"], e["rule"]) for e in answer.json["items"]]
    assert steps[0][:2] == (None, "valid")
    assert steps[-1] == ("valid", "suspended", "R-9.5.1e")


def test_documents_as_the_caller_may_read_them(certs):
    """A client reads the reports addressed to it, not internal records (R-11); staff all."""
    client_view = certs.get("carl", f"/certificates/{certs.a}/documents").json
    assert_schema("CaseDocumentList", client_view)
    assert [d["title"] for d in client_view["items"]] == [f"{CLIENT_KIND} A"]
    staff_view = certs.get("quinn", f"/certificates/{certs.a}/documents").json
    assert [d["kind"] for d in staff_view["items"]] == [CLIENT_KIND, INTERNAL_KIND]


def test_links_to_the_instances_of_its_cycle(certs):
    for username in ("carl", "mia", "quinn"):
        answer = certs.get(username, f"/certificates/{certs.a}/instances").json
        assert_schema("InstanceLinkList", answer)
        assert [i["id"] for i in answer["items"]] == [certs.a_instance], username
        url = answer["items"][0]["url"]
        assert certs.get(username, url.removeprefix("/api/v1")).status_code == 200
    assert certs.get("quinn", f"/certificates/{certs.b}/instances").json["items"] == []
