"""Client self-service (issue 10, R-11): public sign-up, link requests decided by the market role,
"apply for certification" bound to the client's organisation, and the client's home — on the real
processes/ deployment, SQLite and PostgreSQL."""

from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from certflow.accounts import create_user
from certflow.db import db
from certflow.models import User
from domain.application import ApplicationForm, register_application
from domain.attachments import store_attachment
from domain.errors import RuleViolation
from domain.models import Application, CaseBinding, LinkRequest, Organisation
from engine.models import HumanTask, ProcessInstance
from engine.service import Actor
from tests.certification_case import deploy_everything
from tests.conftest import START_TIME
from tests.factories import VALID_USCC, make_organisation
from tests.web_support import Browser, text
from webapp import signup as signup_module
from webapp.models import AccessLog

PASSWORD = "Secret-pass-2026"


@dataclass
class Act:
    session: object
    now: datetime
    actor: str


OTHER_USCC = "91110000MA00000002"  # organisation B (stored by tests/factories, not checked)
THIRD_USCC = "91310000MA1FL0000N"  # valid, unused


@pytest.fixture
def site(app, monkeypatch):
    """The app with the real processes deployed, a market user and organisation B with a client."""
    monkeypatch.setattr(
        "certflow.models.generate_password_hash",
        partial(generate_password_hash, method="pbkdf2:sha256:1"),
    )
    with app.app_context():
        deploy_everything(app.extensions["certflow.engine"])
        org_b = make_organisation(db.session, START_TIME, name="乙公司", uscc=OTHER_USCC)
        for name, roles, org in (("mia", {"market"}, None), ("cora", {"client"}, org_b.id)):
            user = create_user(
                db.session, name, password=PASSWORD, roles=roles, display_name=name, now=START_TIME
            )
            user.organisation_id = org
        db.session.commit()
    return app


def form(**changes) -> dict[str, str]:
    values = {
        "org_name": "福州优服电器有限公司",
        "uscc": VALID_USCC,
        "contact_name": "王芳",
        "email": "wang@example.cn",
        "phone": "",
        "username": "wang_fang",
        "password": PASSWORD,
        "password2": PASSWORD,
    }
    values.update(changes)
    return values


def signed_up(app, **changes) -> Browser:
    browser = Browser(app)
    browser.get("/signup")
    response = browser.post("/signup", form(**changes))
    assert response.status_code == 302, text(response)
    assert response.headers["Location"].endswith("/home")
    browser.get("/home")
    return browser


def signed_in(app, username: str) -> Browser:
    browser = Browser(app)
    response = browser.login(username, PASSWORD)
    assert response.status_code == 302, text(response)
    return browser


def user(app, username: str) -> User:
    with app.app_context():
        row = db.session.scalars(select(User).where(User.username == username)).one()
        db.session.expunge(row)
        return row


# -- sign-up --------------------------------------------------------------------------------------
def test_first_sign_up_creates_the_organisation_and_a_signed_in_client(site):
    browser = signed_up(site)
    home = browser.get("/home")
    assert home.status_code == 200
    assert "福州优服电器有限公司" in text(home) and 'id="apply-button"' in text(home)
    created = user(site, "wang_fang")
    assert created.active and created.roles == {"client"}
    with site.app_context():
        organisation = db.session.get(Organisation, created.organisation_id)
        assert organisation.uscc == VALID_USCC and organisation.contact_email == "wang@example.cn"
        assert db.session.scalar(select(func.count(LinkRequest.id))) == 0
        events = db.session.scalars(
            select(AccessLog.event).where(AccessLog.username == "wang_fang")
        )
        assert "signup" in list(events)
    # Signing in later lands on the home too.
    again = Browser(site)
    response = again.login("wang_fang", PASSWORD)
    assert response.headers["Location"].endswith("/home")


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"uscc": VALID_USCC[:-1] + "X"}, "uscc", "not a valid unified social credit code"),
        ({"uscc": ""}, "uscc", "This field is required"),
        ({"password": "short1", "password2": "short1"}, "password", "at least 10"),
        ({"password": "onlyletterspass", "password2": "onlyletterspass"}, "password", "digits"),
        ({"password2": "Other-pass-2026"}, "password2", "differ"),
        ({"email": "", "phone": ""}, "email", "e-mail address or a phone number"),
        ({"email": "not-an-address"}, "email", "not an e-mail address"),
        ({"username": "a b"}, "username", "letters, digits"),
        ({"username": "cora"}, "username", "taken"),
    ],
)
def test_invalid_sign_up_is_422_with_the_field_and_rule_and_nothing_is_lost(
    site, changes, field, words
):
    browser = Browser(site)
    browser.get("/signup?lang=en")
    response = browser.post("/signup", form(**changes))
    assert response.status_code == 422
    page = text(response)
    assert f'id="signup-{field}-errors"' in page and words in page
    assert "福州优服电器有限公司" in page  # the values are kept …
    assert PASSWORD not in page  # … except the passwords
    with site.app_context():
        assert db.session.scalar(select(func.count(User.id))) == 2  # mia and cora only
        assert db.session.scalar(select(func.count(Organisation.id))) == 1


def test_sign_up_is_throttled_per_address(site, monkeypatch):
    monkeypatch.setattr(signup_module, "SIGNUP_RATE_LIMIT", 2)
    browser = Browser(site)
    browser.get("/signup")
    # Invalid submissions give their place back.
    for _ in range(3):
        assert browser.post("/signup", form(uscc="bad")).status_code == 422
    signed_up(site)
    signed_up(site, username="second_user", uscc=THIRD_USCC)
    browser = Browser(site)
    browser.get("/signup")
    refused = browser.post("/signup", form(username="third_user"))
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    with site.app_context():
        assert (
            db.session.scalar(select(func.count(User.id)).where(User.username == "third_user")) == 0
        )


def test_sign_up_needs_the_csrf_token(site):
    response = Browser(site).post("/signup", form(), csrf=False)
    assert response.status_code == 400
    with site.app_context():
        assert db.session.scalar(select(func.count(Organisation.id))) == 1


# -- link requests --------------------------------------------------------------------------------
def test_a_known_code_becomes_a_link_request_that_the_market_approves(site):
    first = signed_up(site)
    organisation_id = user(site, "wang_fang").organisation_id
    second = signed_up(site, username="li_second", contact_name="李四", org_name="优服")
    requester = user(site, "li_second")
    assert requester.organisation_id is None  # never linked automatically
    home = text(second.get("/home"))
    assert 'data-status="pending"' in home and "福州优服电器有限公司" not in home
    assert second.get(f"/cases/{organisation_id}").status_code == 404
    assert second.post("/home/apply").headers["Location"].endswith("/home")
    # The market finds the request from its inbox.
    market = signed_in(site, "mia")
    inbox = text(market.get("/"))
    assert 'id="link-requests-notice"' in inbox and "/link-requests" in inbox
    page = text(market.get("/link-requests"))
    with site.app_context():
        request_id = db.session.scalars(select(LinkRequest.id)).one()
    assert f'data-link-request="{request_id}"' in page and "李四" in page
    # A client (even the organisation's own) may not decide.
    assert first.post(f"/link-requests/{request_id}/approve").status_code == 403
    response = market.post(f"/link-requests/{request_id}/approve")
    assert response.status_code == 303
    assert user(site, "li_second").organisation_id == organisation_id
    assert second.get(f"/cases/{organisation_id}").status_code == 200
    # Decided once: the second decision is a 409, nothing changes.
    assert market.post(f"/link-requests/{request_id}/refuse", {"reason": "x"}).status_code == 409
    with site.app_context():
        row = db.session.get(LinkRequest, request_id)
        assert (row.status, row.decided_by) == ("approved", "mia")
        logged = db.session.scalars(
            select(AccessLog).where(AccessLog.event == "link_request_approved")
        ).one()
        assert logged.username == "mia" and logged.data["user_id"] == requester.id


def test_a_refusal_needs_a_reason_and_the_requester_reads_it(site):
    signed_up(site)
    second = signed_up(site, username="li_second")
    market = signed_in(site, "mia")
    with site.app_context():
        request_id = db.session.scalars(select(LinkRequest.id)).one()
    market.post(f"/link-requests/{request_id}/refuse", {"reason": ""})
    with site.app_context():
        assert db.session.get(LinkRequest, request_id).status == "pending"
    market.post(f"/link-requests/{request_id}/refuse", {"reason": "不是本公司员工"})
    home = text(second.get("/home"))
    assert 'data-status="refused"' in home and "不是本公司员工" in home
    assert user(site, "li_second").organisation_id is None
    with site.app_context():
        assert (
            db.session.scalars(
                select(AccessLog.detail).where(AccessLog.event == "link_request_refused")
            ).one()
            == "不是本公司员工"
        )


# -- applying -------------------------------------------------------------------------------------
def client_task(app, instance_id: int) -> HumanTask:
    with app.app_context():
        row = db.session.scalars(
            select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.state == "open")
        ).one()
        db.session.expunge(row)
        return row


def application_data(app, username: str, uscc: str) -> dict:
    def upload(kind: str) -> int:
        with app.app_context():
            attachment = store_attachment(
                db.session,
                Path(app.instance_path) / "uploads",
                filename=f"{kind}.pdf",
                content_type="application/pdf",
                data=b"%PDF-1.4 " + kind.encode(),
                kind=kind,
                uploaded_by=username,
                now=START_TIME,
            )
            db.session.commit()
            return attachment.id

    return {
        "org_name": "福州优服电器有限公司",
        "uscc": uscc,
        "address": "福建省福州市鼓楼区五四路 1 号",
        "contact_name": "王芳",
        "contact_phone": "0591-88880000",
        "contact_email": "wang@example.cn",
        "requested_level": 3,
        "scope": "家用电器的安装、维修服务",
        "sites": [{"name": "总部", "address": "五四路 1 号", "is_fixed": True}],
        "shift_work": False,
        "headcount": 50,
        "legal_status_file": upload("legal_status"),
        "service_documents_files": [upload("service_documents")],
        "service_flowchart_file": upload("service_flowchart"),
        "other_certificate_files": [],
    }


DECLARATIONS = {
    "public_information_acknowledged": True,
    "truth_attestation": True,
    "attestation_signatory": "王芳",
    "attestation_position": "总经理",
    "attestation_signed_on": START_TIME.date().isoformat(),
}


def test_apply_starts_a_certification_bound_to_the_organisation_and_opens_the_application(site):
    browser = signed_up(site)
    organisation_id = user(site, "wang_fang").organisation_id
    response = browser.post("/home/apply")
    assert response.status_code == 303 and "/tasks/" in response.headers["Location"]
    task_page = browser.get(response.headers["Location"])
    assert task_page.status_code == 200 and "提交认证申请" in text(task_page)
    with site.app_context():
        binding = db.session.scalars(select(CaseBinding)).one()
        assert (binding.organisation_id, binding.started_by) == (organisation_id, "wang_fang")
    task = client_task(site, binding.instance_id)
    assert task.element_id == "Task_SubmitApplication"
    # The organisation's data is offered; the home shows the application being prepared.
    assert VALID_USCC in text(task_page)
    assert 'data-application="preparing"' in text(browser.get("/home"))
    # One running application per organisation: a second start is refused, nothing started.
    again = browser.post("/home/apply")
    assert again.status_code == 303 and again.headers["Location"].endswith("/home")
    with site.app_context():
        assert db.session.scalar(select(func.count(ProcessInstance.id))) == 1
    # The application confirms the binding: same organisation, no second one.
    with site.app_context():
        engine = site.extensions["certflow.engine"]
        engine.complete_task(
            task.id,
            actor=Actor("wang_fang", frozenset({"client"})),
            data=application_data(site, "wang_fang", VALID_USCC) | DECLARATIONS,
        )
        application = db.session.scalars(select(Application)).one()
        assert application.organisation_id == organisation_id
        assert db.session.scalar(select(func.count(Organisation.id))) == 2  # B and this one
        assert db.session.get(ProcessInstance, binding.instance_id).status == "running"
        assert not engine.open_incidents(binding.instance_id)
    home = text(browser.get("/home"))
    assert f'data-application="{application.number}"' in home
    assert 'data-application="preparing"' not in home and 'id="apply-blocked"' in home
    # Another organisation's client sees none of it.
    other = signed_in(site, "cora")
    other_home = text(other.get("/home"))
    assert application.number not in other_home and "福州优服电器有限公司" not in other_home
    assert other.get(f"/tasks/{task.id}").status_code == 404
    assert other.get(f"/cases/{organisation_id}").status_code == 404


def test_a_bound_application_refuses_another_organisations_code(site):
    signed_up(site)
    wang = user(site, "wang_fang")
    with site.app_context():
        instance = site.extensions["certflow.engine"].start(
            "certification", actor=Actor("wang_fang", frozenset({"client"}))
        )
        data = application_data(site, "wang_fang", THIRD_USCC)
        act = Act(db.session, START_TIME, "wang_fang")
        form = ApplicationForm(**data)
        with pytest.raises(RuleViolation, match="R-11.*91350100M000100Y43"):
            register_application(act, form, instance.id)
        db.session.rollback()
        assert db.session.scalar(select(func.count(Application.id))) == 0
        assert wang.organisation_id is not None


def test_the_home_is_for_clients_and_link_requests_for_the_market_only(site):
    signed_up(site)
    market = signed_in(site, "mia")
    assert market.get("/home").status_code == 403
    assert market.post("/home/apply").status_code == 403
    client = signed_in(site, "wang_fang")
    assert client.get("/link-requests").status_code == 403
    assert client.post("/link-requests/1/approve").status_code == 403
    assert "/link-requests" not in text(client.get("/home"))
    with site.app_context():
        assert db.session.scalar(select(func.count(ProcessInstance.id))) == 0
        denied = db.session.scalars(select(AccessLog.path).where(AccessLog.event == "denied"))
        assert {"/home", "/home/apply", "/link-requests"} <= set(denied)


def test_the_home_shows_the_organisations_records_and_nothing_internal(site):
    from datetime import date

    from domain.models import AuditProgramme, ProgrammeActivity
    from handlers.complaints import register_complaint
    from tests.case_support import add_case_records
    from tests.factories import make_application

    browser = signed_up(site)
    organisation_id = user(site, "wang_fang").organisation_id
    with site.app_context():
        organisation = db.session.get(Organisation, organisation_id)
        application = make_application(db.session, START_TIME, organisation, number="APP-H-1")
        records = add_case_records(
            db.session, Path(site.instance_path) / "uploads", START_TIME, organisation_id, "APP-H-1"
        )
        programme = db.session.scalars(
            select(AuditProgramme).where(AuditProgramme.application_id == application.id)
        ).one()
        db.session.add(
            ProgrammeActivity(
                programme=programme, kind="surveillance_1", due_date=date(2027, 2, 28)
            )
        )
        for kind, channel, subject in (
            ("about_cb", "portal", "审查员迟到"),
            ("about_client", "public", "消费者投诉维修太慢"),
        ):
            register_complaint(
                db.session,
                kind=kind,
                channel=channel,
                complainant_name="某人",
                complainant_contact="x@example.cn",
                subject=subject,
                description="说明",
                certificate_number=records.certificate_number if kind == "about_client" else None,
                actor="wang_fang",
                now=START_TIME,
                organisation_id=organisation_id,
            )
        db.session.commit()
    page = text(browser.get("/home?lang=en"))
    assert 'data-application="APP-H-1"' in page
    assert f'data-certificate="{records.certificate_number}"' in page and "Valid" in page
    assert "2027-02-28" in page or "2027年2月28日" in page  # next surveillance due
    assert 'data-document="audit_report"' in page
    assert "mystery_shopping_record" not in page and "Mystery shopping" not in page
    assert "审查员迟到" in page  # the client's own complaint, with its public status
    assert "消费者投诉维修太慢" not in page  # a complaint about the client is the CB's matter
    assert "某人" not in page and "x@example.cn" not in page


def test_signed_in_users_are_sent_from_the_sign_up_to_their_start_page(site):
    client = signed_up(site)
    assert client.get("/signup").headers["Location"].endswith("/home")
    market = signed_in(site, "mia")
    assert market.get("/signup").headers["Location"] == "/"


def test_the_inbox_names_the_organisation_of_a_case_before_its_application(site):
    """Issue 10: a case the client started is bound to its organisation (CaseBinding) before the
    application exists; the inbox's case column names that organisation, not "—"."""
    browser = signed_up(site)
    assert browser.post("/home/apply").status_code == 303
    inbox = text(browser.get("/"))
    assert "提交认证申请" in inbox
    assert '<span class="org">福州优服电器有限公司</span>' in inbox
    # Found by the organisation's name as well (the inbox's search).
    row = '<span class="org">福州优服电器有限公司</span>'
    assert row in text(browser.get("/?q=优服电器"))
    assert row not in text(browser.get("/?q=乙公司"))
    with site.app_context():
        binding = db.session.scalars(select(CaseBinding)).one()
        task = client_task(site, binding.instance_id)
    # The task page's heading names it too.
    assert "福州优服电器有限公司" in text(browser.get(f"/tasks/{task.id}"))
