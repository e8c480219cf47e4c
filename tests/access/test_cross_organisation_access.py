"""Cross-organisation access for staff (R-11; issue 9, items 1 and 12): staff whose only part is
in organisation A's case see nothing of organisation B's — web pages and API routes alike.

* aldo (auditor) sits on A's audit team; sam (mystery_shopper) completed one task of A's case.
  Neither holds a role of any task of B's case.
* Every web page and API route that takes a case, instance, task, document, attachment or
  incident id is listed in CROSS_ORG; `test_every_id_route_is_in_the_cross_organisation_matrix`
  builds the list from `app.url_map`, so a new route without an entry fails the suite.
* B's answer is 404 (403 where the route refuses by role first); web refusals are written to
  access_log (the API answers without logging, as everywhere in the API).
"""

from dataclasses import dataclass

import pytest
from sqlalchemy import select, update

from certflow.accounts import create_user, issue_token
from certflow.db import db
from certflow.models import User
from domain.attachments import store_attachment
from domain.documents import create_document
from domain.models import Application, Nonconformity, Organisation
from engine.models import HumanTask, Incident
from tests.access.test_web_access import FORM_DATA, access_log
from tests.case_support import add_case_records, failing_record_acceptance, use_record_acceptance
from tests.certificate_factory import issued_certificate
from tests.factories import make_audit
from tests.helpers import record_acceptance
from tests.web_support import PASSWORD, Web, actor, text, web_fixture  # noqa: F401

ID_ARGUMENTS = {
    "task_id",
    "instance_id",
    "organisation_id",
    "document_id",
    "attachment_id",
    "incident_id",
    "nc_id",
    "audit_id",
    "invoice_id",
}
# endpoint: (method, URL template on B's records, expected status for staff of A only)
CROSS_ORG: dict[str, tuple[str, str, int]] = {
    "tasks.show": ("GET", "/tasks/{task}", 404),
    "tasks.submit": ("POST", "/tasks/{task}", 404),
    "tasks.claim": ("POST", "/tasks/{task}/claim", 404),
    "tasks.unclaim": ("POST", "/tasks/{task}/unclaim", 404),
    "tasks.reassign": ("POST", "/tasks/{task}/reassign", 404),
    "tasks.follow_up": ("POST", "/tasks/{task}/follow-up", 404),
    "tasks.comment": ("POST", "/tasks/{task}/comments", 404),
    "tasks.download": ("GET", "/files/{file}", 404),
    "cases.show": ("GET", "/cases/{org}", 404),
    "cases.document": ("GET", "/cases/{org}/documents/{document}", 404),
    "instances.show": ("GET", "/instances/{instance}", 404),
    "instances.diagram": ("GET", "/instances/{instance}/diagram.bpmn", 404),
    # Moving a case back to its older version: process owners and admin only.
    "studio.move_back": ("POST", "/studio/instances/{instance}/move-back", 403),
    "instances.retry": ("POST", "/instances/{incident_instance}/incidents/{incident}/retry", 404),
    "incident_repair.show": (
        "GET",
        "/instances/{incident_instance}/incidents/{incident}/repair",
        404,
    ),
    "incident_repair.correct": (
        "POST",
        "/instances/{incident_instance}/incidents/{incident}/correct",
        404,
    ),
    "incident_repair.send_back": (
        "POST",
        "/instances/{incident_instance}/incidents/{incident}/send-back",
        404,
    ),
    "api.get_instance": ("GET", "/api/v1/instances/{instance}", 404),
    "api.get_task": ("GET", "/api/v1/tasks/{task}", 404),
    "api.claim_task": ("POST", "/api/v1/tasks/{task}/claim", 404),
    "api.unclaim_task": ("POST", "/api/v1/tasks/{task}/unclaim", 404),
    "api.complete_task": ("POST", "/api/v1/tasks/{task}/complete", 404),
    "api.reassign_task": ("POST", "/api/v1/tasks/{task}/reassign", 404),
    # Retrying needs admin or process_owner (who see every instance): refused by role first.
    "api.retry_incident": ("POST", "/api/v1/incidents/{incident}/retry", 403),
    "api.download_attachment": ("GET", "/api/v1/attachments/{file}", 404),
    # Issue 11: the resources of the API.
    "api.instance_variables": ("GET", "/api/v1/instances/{instance}/variables", 404),
    "api.get_certificate": ("GET", "/api/v1/certificates/{cert}", 404),
    "api.certificate_history": ("GET", "/api/v1/certificates/{cert}/history", 404),
    "api.certificate_documents": ("GET", "/api/v1/certificates/{cert}/documents", 404),
    "api.certificate_instances": ("GET", "/api/v1/certificates/{cert}/instances", 404),
    "api.get_nonconformity": ("GET", "/api/v1/nonconformities/{nc}", 404),
    "api.list_audit_sites": ("GET", "/api/v1/audits/{audit}/sites", 404),
    "api.list_invoices": ("GET", "/api/v1/organisations/{org}/invoices", 404),  # R-9.5.1e
    # B's audit team page and work allocation are not theirs (404); replacing a member
    # needs CHANGE_AUDIT_TEAM, and revising a programme REVISE_PROGRAMME: refused by role first.
    "audit_team.show": ("GET", "/audits/{audit}/team", 404),
    "audit_team.reassign": ("POST", "/audits/{audit}/work", 404),
    "audit_team.replace": ("POST", "/audits/{audit}/team", 403),
    "programmes.revise": ("GET", "/cases/{org}/programmes/999999/revise", 403),
    # R-9.5.1e: invoicing and payments need MANAGE_FEES (market, admin): refused by role first;
    # a market user of another case: tests/web/test_fee_pages.py.
    "fees.invoice": ("GET", "/cases/{org}/fees/invoice", 403),
    "fees.payment": ("GET", "/cases/{org}/fees/999999/payment", 403),
}
API_BODIES = {
    "api.complete_task": {"data": {"accepted": True, "man_days": 2.0}},
    "api.reassign_task": {"assignee": "max"},
}
STAFF_OF_A_ONLY = ("aldo", "sam")


@dataclass
class Records:
    """One organisation's records the matrix points at."""

    org: int
    task: str  # the market's review task (open)
    client_task: str  # the client's contract task (open)
    instance: int
    document: int
    file: int
    incident_instance: int
    incident: int
    cert: str
    nc: int
    audit: int

    def url(self, template: str, task: str) -> str:
        return template.format(
            task=task,
            file=self.file,
            org=self.org,
            instance=self.instance,
            document=self.document,
            incident=self.incident,
            incident_instance=self.incident_instance,
            cert=self.cert,
            nc=self.nc,
            audit=self.audit,
        )


def incident_of(web: Web, business_key: str, org: str) -> tuple[int, int]:
    instance_id = web.start(business_key, org=org)
    use_record_acceptance(failing_record_acceptance)
    try:
        with web.app.app_context():
            web.engine.complete_task(
                web.open_task(instance_id),
                actor=actor("mia"),
                data={"accepted": True, "man_days": 2.0},
            )
            [incident] = db.session.scalars(
                select(Incident).where(Incident.instance_id == instance_id)
            ).all()
            return instance_id, incident.id
    finally:
        use_record_acceptance(record_acceptance)


def records_of(web: Web, org: str, key: str) -> Records:
    instance = web.start(f"APP-{key}", org=org)
    client_task = web.to_contract(instance)
    task = web.open_task(web.start(f"APP-{key}2", org=org))
    incident_instance, incident = incident_of(web, f"APP-{key}3", org)
    with web.app.app_context():
        application = db.session.scalars(
            select(Application).where(Application.number == f"APP-{key}")
        ).one()
        document = create_document(
            db.session,
            kind="audit_report",
            title=f"审查报告 Audit report — APP-{key}",
            lines=["# 审查报告 Audit report"],
            organisation_id=web.organisations[org],
            application_id=application.id,
            created_by="ada",
            now=web.now(),
        )
        attachment = store_attachment(
            db.session,
            web.storage,
            filename=f"营业执照 licence {key}.pdf",
            content_type="application/pdf",
            data=f"%PDF-1.4 business licence of {key}".encode(),
            kind="legal_status",
            uploaded_by="cora" if org == "B" else "carl",
            now=web.now(),
            organisation_id=web.organisations[org],
        )
        organisation = db.session.get(Organisation, web.organisations[org])
        certificate = issued_certificate(organisation=organisation)
        audit = make_audit(db.session, web.now(), organisation, application)
        nc = Nonconformity(
            audit_id=audit.id, number="NC-1", item_code="5.1.1", description=f"NC of {key}"
        )
        db.session.add(nc)
        db.session.commit()
        return Records(
            web.organisations[org],
            task,
            client_task,
            instance,
            document.id,
            attachment.id,
            incident_instance,
            incident,
            certificate.number,
            nc.id,
            audit.id,
        )


@dataclass
class World:
    web: Web
    a: Records
    b: Records
    tokens: dict[str, str]

    def api(self, username: str, method: str, url: str, body: dict | None = None):
        client = self.web.app.test_client()
        headers = {"Authorization": f"Bearer {self.tokens[username]}"}
        return client.open(url, method=method, json=body, headers=headers)


@pytest.fixture
def world(web) -> World:
    a = records_of(web, "A", "A")
    b = records_of(web, "B", "B")
    with web.app.app_context():
        # aldo: on A's audit team (his only part); sam: completed A's first review.
        add_case_records(db.session, web.storage, web.now(), a.org, "APP-A")
        now = web.now()
        create_user(
            db.session,
            "sam",
            password=PASSWORD,
            roles={"mystery_shopper"},
            display_name="Sam 暗访",
            now=now,
        )
        # The review of A's application (review_flow has no mystery-shopper lane) is recorded
        # as sam's: his only part in any case.
        db.session.execute(
            update(HumanTask)
            .where(HumanTask.instance_id == a.instance, HumanTask.state == "completed")
            .values(completed_by="sam")
        )
        db.session.commit()
        users = db.session.scalars(
            select(User).where(User.username.in_([*STAFF_OF_A_ONLY, "quinn"]))
        ).all()
        tokens = {user.username: issue_token(db.session, user, now) for user in users}
        db.session.commit()
    return World(web, a, b, tokens)


def test_every_id_route_is_in_the_cross_organisation_matrix(web):
    # A certificate number is public in the registry, not in the API's resources.
    routes = {
        rule.endpoint
        for rule in web.app.url_map.iter_rules()
        if set(rule.arguments) & ID_ARGUMENTS
        or (rule.endpoint.startswith("api.") and "number" in rule.arguments)
    }
    assert routes == set(CROSS_ORG)


@pytest.mark.parametrize("username", STAFF_OF_A_ONLY)
def test_staff_of_a_see_a_but_nothing_of_b(world, username):
    web, a, b = world.web, world.a, world.b
    browser = web.browser(username)
    # A's case is theirs: the case, its instance page and its files.
    for url in (f"/cases/{a.org}", f"/instances/{a.instance}", f"/files/{a.file}"):
        assert browser.get(url).status_code == 200, (username, url)
    for url in (f"/api/v1/instances/{a.instance}", f"/api/v1/attachments/{a.file}"):
        assert world.api(username, "GET", url).status_code == 200, (username, url)
    listing = text(browser.get("/cases"))
    assert "甲公司 Alpha Ltd" in listing and "乙公司 Beta Ltd" not in listing
    # B's: 404 (or 403) on every page and route, web refusals logged.
    for endpoint, (method, template, status) in CROSS_ORG.items():
        for task in (b.task, b.client_task):
            url = b.url(template, task)
            if endpoint.startswith("api."):
                response = world.api(username, method, url, API_BODIES.get(endpoint))
                assert response.status_code == status, (username, endpoint, response.json)
                continue
            if method == "GET":
                response = browser.get(url)
            else:
                response = browser.post(url, FORM_DATA.get(endpoint, {}))
            assert response.status_code == status, (username, endpoint, text(response)[-300:])
            assert access_log(web)[-1] == ("denied", username, status, method, url), endpoint
    # Nothing of B's changed.
    for task in (b.task, b.client_task):
        row = web.task(task)
        assert (row.state, row.assignee) == ("open", None)


def test_whoever_sees_every_case_still_reads_b(world):
    quinn = world.web.browser("quinn")
    b = world.b
    for url in (f"/cases/{b.org}", f"/instances/{b.instance}", f"/files/{b.file}"):
        assert quinn.get(url).status_code == 200, url
    assert world.api("quinn", "GET", f"/api/v1/attachments/{b.file}").status_code == 200


@pytest.mark.parametrize("username", STAFF_OF_A_ONLY)
def test_a_part_in_one_case_opens_no_other_organisations_case(world, username):
    """Issue 9, item 1: the case rule's subqueries were not correlated with the organisation,
    so a part in any case opened every organisation's case, documents and instances."""
    browser = world.web.browser(username)
    b = world.b
    for url in (
        f"/cases/{b.org}",
        f"/cases/{b.org}/documents/{b.document}",
        f"/instances/{b.instance}",
    ):
        assert browser.get(url).status_code == 404, url
        assert access_log(world.web)[-1][:3] == ("denied", username, 404)
    assert "乙公司 Beta Ltd" not in text(browser.get("/cases"))


def test_files_follow_the_case_rule(world):
    """Issue 9, item 12: a file of B goes to its uploader, B's client users and staff who may
    see B's case — not to any staff member; a file of no organisation to its uploader, the
    overseeing roles and complaint handlers (R-11, R-12)."""
    web, b = world.web, world.b
    for username, status in (("sam", 404), ("aldo", 404), ("hank", 404), ("carl", 404)):
        assert web.browser(username).get(f"/files/{b.file}").status_code == status, username
    for username in ("cora", "quinn", "mia"):  # uploader/client of B; sees all; B's market
        assert web.browser(username).get(f"/files/{b.file}").status_code == 200, username
    assert world.api("sam", "GET", f"/api/v1/attachments/{b.file}").status_code == 404
    with web.app.app_context():
        create_user(
            db.session,
            "cath",
            password=PASSWORD,
            roles={"complaints"},
            display_name="Cath 投诉",
            now=web.now(),
        )
        orphan = store_attachment(
            db.session,
            web.storage,
            filename="complaint.pdf",
            content_type="application/pdf",
            data=b"%PDF-1.4 complaint evidence",
            kind="evidence",
            uploaded_by="mia",
            now=web.now(),
            organisation_id=None,
        )
        db.session.commit()
        orphan_id = orphan.id
    for username, status in (("mia", 200), ("cath", 200), ("quinn", 200), ("max", 404)):
        assert web.browser(username).get(f"/files/{orphan_id}").status_code == status, username
    assert web.browser("carl").get(f"/files/{orphan_id}").status_code == 404
