"""The complaint pages (R-12, R-11): the public form (no sign-in, CSRF, validation, rate limit),
the public status lookup, and the registration by a client in its portal and by complaints
staff — with the Flask test client, on both databases."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from certflow.accounts import create_user
from certflow.db import db
from domain.models import Certificate, Complaint, Document, Organisation
from engine.models import HumanTask, ProcessInstance
from engine.service import Actor
from tests.conftest import START_TIME
from tests.helpers import OWNER, override_settings
from tests.paths import PROCESSES
from tests.web_support import PASSWORD, Browser, Web, text, web_fixture  # noqa: F401
from webapp import complaints as complaints_web
from webapp.models import AccessLog

COMPLAINT_BPMN = PROCESSES / "complaint.bpmn"
NUMBER_A = "CTC-SHFW-2025-0101"
NUMBER_B = "CTC-SHFW-2025-0102"
DESK = Actor("desk", frozenset({"complaints"}))
HANDLER = Actor("hugo", frozenset({"complaints"}))
VALID = {
    "kind": "about_client",
    "certificate_number": "ctc-shfw-2025-0101",
    "complainant_name": "林女士",
    "complainant_contact": "lin@example.cn",
    "subject": "空调维修三次未修好",
    "description": "1 月 6 日报修，上门三次仍未修好。",
}
REFERENCE = re.compile(r'id="complaint-reference" data-reference="(TS-\d{4}-\d{4})"')


def certificate_of(organisation: Organisation, number: str) -> None:
    issued = START_TIME.date() - timedelta(days=100)
    db.session.add(
        Certificate(
            number=number,
            organisation_id=organisation.id,
            organisation_name=organisation.name,
            organisation_address=organisation.address,
            sites=[],
            scope="家用电器售后服务",
            star_level=4,
            standard="GB/T 27922-2011",
            rules="rules",
            issuing_body="CTC",
            signatory="sig",
            issued_on=issued,
            original_issued_on=issued,
            expires_on=issued + timedelta(days=1095),
            status="valid",
            mark="mark",
        )
    )


@pytest.fixture
def site(web: Web) -> Web:
    with web.app.app_context():
        web.engine.deploy([COMPLAINT_BPMN], actor=OWNER, comment="complaints")
        for who in (DESK, HANDLER):
            create_user(
                db.session,
                who.username,
                password=PASSWORD,
                roles=who.roles,
                display_name=who.username,
                now=START_TIME,
            )
        certificate_of(db.session.get(Organisation, web.organisations["A"]), NUMBER_A)
        certificate_of(db.session.get(Organisation, web.organisations["B"]), NUMBER_B)
        db.session.commit()
    return web


def complaints(web: Web) -> list[Complaint]:
    with web.app.app_context():
        rows = db.session.scalars(select(Complaint).order_by(Complaint.id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def access_events(web: Web, event: str) -> list[AccessLog]:
    with web.app.app_context():
        return db.session.scalars(
            select(AccessLog).where(AccessLog.event == event).order_by(AccessLog.id)
        ).all()


def submit(browser: Browser, data: dict | None = None, **kwargs):
    browser.get("/complaints/new", **kwargs)
    data = dict(VALID if data is None else data)
    return browser.post("/complaints/new", data, follow_redirects=True, **kwargs)


# -- the public form ------------------------------------------------------------------------------
def test_the_public_form_needs_no_sign_in(site):
    browser = Browser(site.app)
    response = browser.get("/complaints/new")
    assert response.status_code == 200
    page = text(response)
    assert 'id="complaint-form"' in page and 'name="csrf_token"' in page
    assert re.findall(r'name="kind" value="(\w+)"', page) == ["about_client", "about_cb", "appeal"]
    assert "CNCA" in page
    english = text(browser.get("/complaints/new?lang=en"))
    assert "We reply in writing within 30 days of receipt" in english


def test_a_valid_complaint_is_registered_acknowledged_and_its_process_started(site):
    browser = Browser(site.app)
    response = submit(browser)
    assert response.status_code == 200, text(response)
    page = text(response)
    assert REFERENCE.search(page).group(1) == "TS-2026-0001"
    assert "2026-02-03" in page  # the written reply within 30 days (day 29, issue 11)
    [complaint] = complaints(site)
    assert (complaint.reference, complaint.kind, complaint.channel) == (
        "TS-2026-0001",
        "about_client",
        "public",
    )
    assert complaint.organisation_id == site.organisations["A"]
    assert complaint.complainant_name == "林女士"
    with site.app.app_context():
        instance = db.session.get(ProcessInstance, complaint.instance_id)
        assert (instance.process_id, instance.business_key, instance.started_by) == (
            "complaint",
            "TS-2026-0001",
            "system",
        )
        task = db.session.scalars(
            select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.state == "open")
        ).one()
        assert (task.element_id, task.candidate_role) == ("Task_AssignHandler", "complaints")
        [ack] = db.session.scalars(
            select(Document).where(Document.kind == "complaint_acknowledgement")
        ).all()
        assert "TS-2026-0001" in ack.body
    [logged] = access_events(site, "complaint_submitted")
    assert logged.data == {"reference": "TS-2026-0001"} and logged.username is None


def test_registration_and_process_start_are_one_transaction(web):
    """R-12: a complaint is registered only with its process. When the start fails (here: the
    process is not deployed), the registration and its reference number are rolled back too."""
    with web.app.app_context():
        certificate_of(db.session.get(Organisation, web.organisations["A"]), NUMBER_A)
        db.session.commit()
    response = submit(Browser(web.app))
    assert response.status_code == 503, text(response)
    assert complaints(web) == []
    with web.app.app_context():
        web.engine.deploy([COMPLAINT_BPMN], actor=OWNER, comment="complaints")
    response = submit(Browser(web.app))
    assert REFERENCE.search(text(response)).group(1) == "TS-2026-0001"  # no number burnt


def test_invalid_input_is_refused_with_field_errors_and_the_values_kept(site):
    browser = Browser(site.app)
    data = {
        **VALID,
        "certificate_number": "",
        "complainant_name": '<script>alert("x")</script>',
        "subject": "",
        "description": "x" * 8001,
    }
    response = submit(browser, data)
    assert response.status_code == 422
    page = text(response)
    assert 'id="complaint-form"' in page and 'id="complaint-errors"' in page
    for field in ("certificate_number", "subject", "description"):
        assert f'id="complaint-{field}-errors"' in page, field
    assert 'id="complaint-complainant_name-errors"' not in page
    # values kept, escaped
    assert 'value="&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"' in page
    assert "<script>alert" not in page
    assert 'value="about_client" checked' in page
    assert "x" * 8001 in page
    unknown = submit(browser, {**VALID, "certificate_number": "CTC-NOPE-1"})
    assert unknown.status_code == 422
    assert 'id="complaint-certificate_number-errors"' in text(unknown)
    bad_kind = submit(browser, {**VALID, "kind": "about_everything"})
    assert bad_kind.status_code == 422 and 'id="complaint-kind-errors"' in text(bad_kind)
    assert complaints(site) == []
    assert access_events(site, "complaint_submitted") == []


def test_a_submission_without_the_csrf_token_is_refused(site):
    browser = Browser(site.app)
    response = browser.post("/complaints/new", dict(VALID), csrf=False)
    assert response.status_code == 400
    assert complaints(site) == []


def test_a_submission_is_answered_with_a_redirect_to_its_receipt(site):
    # POST/redirect/GET (issue 10): reloading the receipt registers nothing again.
    browser = Browser(site.app)
    browser.get("/complaints/new")
    response = browser.post("/complaints/new", dict(VALID))
    assert response.status_code == 303
    assert response.headers["Location"] == "/complaints/received?reference=TS-2026-0001"
    for _ in range(2):
        receipt = browser.get(response.headers["Location"])
        assert receipt.status_code == 200
        assert REFERENCE.search(text(receipt)).group(1) == "TS-2026-0001"
        assert "2026-02-03" in text(receipt)
        assert "林女士" not in text(receipt)  # the receipt shows what the status shows
    assert len(complaints(site)) == 1
    assert browser.get("/complaints/received?reference=TS-2099-0001").status_code == 404
    carl = site.browser("carl")
    data = {**VALID, "kind": "appeal", "certificate_number": NUMBER_A}
    registered_by_client = carl.post("/complaints/register", data)
    assert registered_by_client.status_code == 303
    assert "/complaints/received?reference=TS-2026-0002" in registered_by_client.headers["Location"]


def test_five_submissions_per_hour_and_address_then_429(site, monkeypatch):
    browser = Browser(site.app)
    for number in range(1, 6):
        response = submit(browser)
        assert response.status_code == 200, number
    refused = submit(browser)
    assert refused.status_code == 429
    assert 3590 <= int(refused.headers["Retry-After"]) <= 3600  # the rest of the hour
    assert 'id="complaint-reference"' not in text(refused)
    assert len(complaints(site)) == 5
    [throttled] = access_events(site, "complaint_throttled")
    assert throttled.status == 429 and throttled.remote_addr == "127.0.0.1"
    # Another address is not affected …
    other = Browser(site.app)
    assert submit(other, environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 200
    # … and the window is an hour of real time (the wall clock, not the business clock).
    later = complaints_web.wall_clock() + timedelta(minutes=61)
    monkeypatch.setattr(complaints_web, "wall_clock", lambda: later)
    assert submit(browser).status_code == 200
    assert len(complaints(site)) == 7


def test_invalid_submissions_do_not_use_up_the_limit(site):
    override_settings(site.app, complaint_rate_limit=1)
    browser = Browser(site.app)
    for _ in range(3):
        assert submit(browser, {**VALID, "subject": ""}).status_code == 422
    assert submit(browser).status_code == 200
    assert submit(browser).status_code == 429


def test_the_limit_is_a_setting(site):
    override_settings(site.app, complaint_rate_limit=1)
    browser = Browser(site.app)
    assert submit(browser).status_code == 200
    assert submit(browser).status_code == 429


# -- the public status ----------------------------------------------------------------------------
def test_status_lookup_shows_the_status_and_dates_only(site):
    browser = Browser(site.app)
    empty = browser.get("/complaints/status")
    assert empty.status_code == 200 and 'id="complaint-status"' not in text(empty)
    for reference in ("TS-2026-0001", "nonsense", "TS-2026-0001' or 1=1 --", "x" * 500):
        response = browser.get("/complaints/status", query_string={"reference": reference})
        assert response.status_code == 404, reference
        assert 'id="complaint-not-found"' in text(response)

    submit(browser)
    [complaint] = complaints(site)

    def shown(reference="ts-2026-0001 "):
        response = browser.get("/complaints/status", query_string={"reference": reference})
        assert response.status_code == 200
        page = text(response)
        for secret in ("林女士", "lin@example.cn", "空调维修", "上门三次", NUMBER_A, "甲公司"):
            assert secret not in page, secret
        return re.search(r'id="complaint-status" data-status="(\w+)"', page).group(1), page

    status, page = shown()
    assert status == "received" and "2026-01-05" in page and "2026-02-03" in page

    with site.app.app_context():
        task = db.session.scalars(
            select(HumanTask).where(
                HumanTask.instance_id == complaint.instance_id, HumanTask.state == "open"
            )
        ).one()
        site.engine.complete_task(task.id, actor=DESK, data={"handler": "hugo"})
    assert shown()[0] == "investigating"

    site.advance(timedelta(days=3))
    with site.app.app_context():
        task = db.session.scalars(
            select(HumanTask).where(
                HumanTask.instance_id == complaint.instance_id,
                HumanTask.element_id == "Task_InvestigateComplaint",
                HumanTask.state == "open",
            )
        ).one()
        site.engine.complete_task(
            task.id,
            actor=HANDLER,
            data={
                "findings": "维修记录核实 repair records checked",
                "substantiated": False,
                "follow_up": "none",
                "decision": "维修已完成 the repair was completed",
            },
        )
    status, page = shown("TS-2026-0001")
    assert status == "answered" and "2026-01-08" in page  # answered on
    assert "hugo" not in page and "维修记录核实" not in page and "维修已完成" not in page


# -- the client portal and staff registration -----------------------------------------------------
def test_a_client_appeals_for_its_own_organisation(site):
    carl = site.browser("carl")
    form = carl.get("/complaints/register")
    assert form.status_code == 200
    page = text(form)
    assert re.findall(r'name="kind" value="(\w+)"', page) == ["about_cb", "appeal"]
    assert f'value="{NUMBER_A}"' in page  # the organisation's certificate, prefilled
    assert 'value="Carl 测试"' in page
    assert 'href="/complaints/register"' in text(carl.get("/"))  # in the navigation

    data = {**VALID, "kind": "appeal", "certificate_number": NUMBER_A, "subject": "对决定的申诉"}
    response = carl.post("/complaints/register", data, follow_redirects=True)
    assert response.status_code == 200, text(response)
    assert REFERENCE.search(text(response))
    [complaint] = complaints(site)
    assert (complaint.kind, complaint.channel, complaint.organisation_id) == (
        "appeal",
        "portal",
        site.organisations["A"],
    )
    with site.app.app_context():
        instance = db.session.get(ProcessInstance, complaint.instance_id)
        assert instance.started_by == "system"  # the case stays invisible to the client
    # Not a complaint about a client, not another organisation's certificate.
    refused = carl.post("/complaints/register", {**data, "kind": "about_client"})
    assert refused.status_code == 422 and 'id="complaint-kind-errors"' in text(refused)
    other = carl.post("/complaints/register", {**data, "certificate_number": NUMBER_B})
    assert other.status_code == 422
    assert 'id="complaint-certificate_number-errors"' in text(other)
    # Without a certificate number the appeal still belongs to the client's organisation.
    plain = carl.post(
        "/complaints/register", {**data, "certificate_number": ""}, follow_redirects=True
    )
    assert plain.status_code == 200
    assert complaints(site)[-1].organisation_id == site.organisations["A"]
    assert len(complaints(site)) == 2


def test_complaints_staff_register_any_kind_and_start_the_process(site):
    desk = site.browser("desk")
    page = text(desk.get("/complaints/register"))
    assert re.findall(r'name="kind" value="(\w+)"', page) == ["about_client", "about_cb", "appeal"]
    response = desk.post(
        "/complaints/register", {**VALID, "certificate_number": NUMBER_B}, follow_redirects=True
    )
    assert response.status_code == 200, text(response)
    [complaint] = complaints(site)
    assert (complaint.channel, complaint.organisation_id) == ("staff", site.organisations["B"])
    with site.app.app_context():
        assert db.session.get(ProcessInstance, complaint.instance_id).started_by == "desk"
    invalid = desk.post("/complaints/register", {**VALID, "certificate_number": ""})
    assert invalid.status_code == 422


def test_registration_needs_a_sign_in_and_the_role(site):
    anonymous = Browser(site.app)
    response = anonymous.get("/complaints/register")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    hank = site.browser("hank")  # hr
    assert hank.get("/complaints/register").status_code == 403
    assert hank.post("/complaints/register", dict(VALID)).status_code == 403
    assert complaints(site) == []


def test_a_client_without_organisation_names_no_certificate(site):
    with site.app.app_context():
        create_user(
            db.session,
            "nora",
            password=PASSWORD,
            roles={"client"},
            display_name="Nora",
            now=START_TIME,
        )
        db.session.commit()
    nora = site.browser("nora")
    data = {**VALID, "kind": "about_cb", "certificate_number": NUMBER_A}
    refused = nora.post("/complaints/register", data)
    assert refused.status_code == 422
    assert 'id="complaint-certificate_number-errors"' in text(refused)
    assert (
        nora.post(
            "/complaints/register", {**data, "certificate_number": ""}, follow_redirects=True
        ).status_code
        == 200
    )
    [complaint] = complaints(site)
    assert complaint.organisation_id is None and complaint.channel == "portal"
