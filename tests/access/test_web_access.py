"""Access rules of every web endpoint: a role × endpoint matrix (R-11).

* anonymous → the login page, for every protected endpoint (GET and POST);
* a client of another organisation → 404, and the attempt is in the access log;
* staff without the task's candidate role → 404 (cannot see it) or 403 (may see it, may not act),
  logged either way;
* the users the task is for → allowed.

`test_every_web_endpoint_is_in_the_matrix` fails when a new endpoint is added to the app without
being added here. The case, process instance and user administration pages have their own
role × endpoint table (`PAGE_MATRIX`). The JSON API has its own tests. Staff with a part in
organisation A's case only, against every web page and API route that takes an id of B's:
tests/access/test_cross_organisation_access.py.
"""

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from certflow.db import db
from certflow.models import User
from domain.attachments import store_attachment
from engine.models import Incident
from tests.case_support import (
    add_case_records,
    failing_record_acceptance,
    use_record_acceptance,
)
from tests.helpers import record_acceptance
from tests.web_support import REVIEW_OK, Browser, Web, actor, text, web_fixture  # noqa: F401
from webapp.models import AccessLog

# endpoint: (method, URL template); {task} is the task under test, {file} an attachment; {org},
# {instance}, {document}, {incident}, {user}: organisation A's case, its instance, document,
# incident and a user account (see `pages`).
ENDPOINTS: dict[str, tuple[str, str]] = {
    "inbox.index": ("GET", "/"),
    "tasks.show": ("GET", "/tasks/{task}"),
    "tasks.submit": ("POST", "/tasks/{task}"),
    "tasks.claim": ("POST", "/tasks/{task}/claim"),
    "tasks.unclaim": ("POST", "/tasks/{task}/unclaim"),
    "tasks.reassign": ("POST", "/tasks/{task}/reassign"),
    "tasks.follow_up": ("POST", "/tasks/{task}/follow-up"),
    "tasks.comment": ("POST", "/tasks/{task}/comments"),
    "tasks.download": ("GET", "/files/{file}"),
    "auth.logout": ("POST", "/logout"),
    "cases.index": ("GET", "/cases"),
    "cases.show": ("GET", "/cases/{org}"),
    "cases.document": ("GET", "/cases/{org}/documents/{document}"),
    "instances.show": ("GET", "/instances/{instance}"),
    "instances.diagram": ("GET", "/instances/{instance}/diagram.bpmn"),
    "instances.retry": ("POST", "/instances/{incident_instance}/incidents/{incident}/retry"),
    "incident_repair.show": ("GET", "/instances/{incident_instance}/incidents/{incident}/repair"),
    "incident_repair.correct": (
        "POST",
        "/instances/{incident_instance}/incidents/{incident}/correct",
    ),
    "incident_repair.send_back": (
        "POST",
        "/instances/{incident_instance}/incidents/{incident}/send-back",
    ),
    "incidents.index": ("GET", "/incidents?process=certification&age=1"),  # issue 10
    "admin.users": ("GET", "/admin/users"),
    "admin.new_user": ("GET", "/admin/users/new"),
    "admin.edit_user": ("POST", "/admin/users/{user}"),
    "admin.reset_password": ("POST", "/admin/users/{user}/password"),
    "complaints.register": ("GET", "/complaints/register"),  # client portal and staff
    # Client self-service (issue 10): the client's home and apply; link requests (market).
    "client_home.home": ("GET", "/home"),
    "client_home.apply": ("POST", "/home/apply"),
    "client_home.request_change": ("POST", "/home/certificates/CTC-SHFW-2026-9999/change"),
    # the mark artwork of the client's own certificate (test_mark_artwork.py).
    "client_home.mark_artwork": ("GET", "/home/certificates/CTC-SHFW-2026-9999/mark"),
    "client_home.mark_artwork_file": ("GET", "/home/certificates/CTC-SHFW-2026-9999/mark.svg"),
    "link_requests.index": ("GET", "/link-requests"),
    "link_requests.approve": ("POST", "/link-requests/999999/approve"),
    "link_requests.refuse": ("POST", "/link-requests/999999/refuse"),
    # The studio (issue 12): its own role × endpoint matrix in tests/access/test_studio_access.py.
    "studio.index": ("GET", "/studio"),
    "studio.new_draft": ("POST", "/studio/processes/certification/drafts"),
    "studio.import_file": ("POST", "/studio/processes/certification/import"),
    "studio.export_version": ("GET", "/studio/processes/certification/versions/1.bpmn"),
    "studio.edit": ("GET", "/studio/drafts/999999"),
    "studio.draft_source": ("GET", "/studio/drafts/999999/draft.bpmn"),
    "studio.validate": ("POST", "/studio/drafts/999999/validate"),
    "studio.save": ("POST", "/studio/drafts/999999/save"),
    "studio.submit": ("POST", "/studio/drafts/999999/submit"),
    "studio.review": ("GET", "/studio/drafts/999999/review"),
    "studio.decide": ("POST", "/studio/drafts/999999/decide"),
    "studio.compare": ("GET", "/studio/processes/certification/compare"),
    "studio.form_edit": ("GET", "/studio/drafts/999999/forms/a.json"),
    "studio.form_save": ("POST", "/studio/drafts/999999/forms/a.json"),
    "studio.form_source": ("GET", "/studio/drafts/999999/forms/a.json/source"),
    "studio.form_source_preview": ("POST", "/studio/drafts/999999/forms/a.json/source/preview"),
    "studio.form_source_save": ("POST", "/studio/drafts/999999/forms/a.json/source"),
    "studio.form_preview": ("GET", "/studio/drafts/999999/forms/a.json/preview"),
    "studio.decision_version": ("GET", "/studio/processes/x/versions/1/decisions/a.dmn"),
    "studio.decision_draft": ("GET", "/studio/drafts/999999/decisions/a.dmn"),
    "studio.running_cases": ("GET", "/studio/processes/certification/versions/1/running"),
    "studio.migrate_cases": ("POST", "/studio/processes/certification/versions/1/migrate"),
    "studio.move_back": ("POST", "/studio/instances/999999/move-back"),
    "studio.decision_source": ("GET", "/studio/drafts/999999/decisions/a.dmn/source"),
    "studio.decision_save": ("POST", "/studio/drafts/999999/decisions/a.dmn/save"),
    "studio.instructions_preview": ("POST", "/studio/drafts/999999/instructions-preview"),
    # The auditor register: hr and admin only; an unknown auditor is 404 for them.
    "hr.auditors": ("GET", "/hr/auditors"),
    "hr.new_auditor": ("GET", "/hr/auditors/new"),
    "hr.show_auditor": ("GET", "/hr/auditors/999999"),
    "hr.evaluate": ("POST", "/hr/auditors/999999/evaluations"),
    "hr.renew": ("POST", "/hr/auditors/999999/renewals"),
    # The quality manager's workspace (issue 13): quality_manager and admin only.
    "quality.index": ("GET", "/quality"),
    "quality.rules": ("GET", "/quality/rules"),
    "quality.rules_diagram": ("GET", "/quality/rules/diagram/review_flow"),
    "quality.rules_diagram_source": ("GET", "/quality/rules/diagram/review_flow/source.bpmn"),
    "quality.compliance": ("GET", "/quality/compliance"),
    "quality.compliance_breaches": ("GET", "/quality/compliance/complaint_answered"),
    "quality.report_pdf": ("GET", "/quality/report.pdf"),
    "quality.definitions": ("GET", "/quality/definitions"),
    "quality.download_version": ("GET", "/quality/definitions/review_flow/versions/1.zip"),
    "quality.compare": ("GET", "/quality/definitions/review_flow/compare"),
    "quality.audit_trail": ("GET", "/quality/trail?kind=task_reassigned"),
    "quality.audit_trail_csv": ("GET", "/quality/trail.csv"),
    "quality.exports": ("GET", "/quality/exports"),
    "quality.events_xes": ("GET", "/quality/exports/events.xes?process=review_flow"),
    "quality.events_csv": ("GET", "/quality/exports/events.csv"),
    "quality.conformance": ("GET", "/quality/conformance?process=review_flow"),
    "quality.heatmap_index": ("GET", "/quality/heatmap"),
    "quality.heatmap": ("GET", "/quality/heatmap/review_flow?measure=frequency"),
    "quality.heatmap_diagram": ("GET", "/quality/heatmap/review_flow/1.bpmn"),
    # revising a programme of a case, REVISE_PROGRAMME (scheduler, admin) only.
    "programmes.revise": ("GET", "/cases/{org}/programmes/999999/revise"),
    # an audit's work allocation and team (staff who see its case; an unknown audit: 404);
    # replacing a member: CHANGE_AUDIT_TEAM (scheduler, admin) only.
    "audit_team.show": ("GET", "/audits/999999/team"),
    "audit_team.reassign": ("POST", "/audits/999999/work"),
    "audit_team.replace": ("POST", "/audits/999999/team"),
    # R-9.5.1e: invoicing a fee and recording a payment, MANAGE_FEES (market, admin) only.
    "fees.invoice": ("GET", "/cases/{org}/fees/invoice"),
    "fees.payment": ("GET", "/cases/{org}/fees/999999/payment"),
}
# Reachable without signing in: single endpoints, and whole public blueprints (the certificate
# registry, R-14, is for everyone and tested on its own).
PUBLIC = {"auth.login", "i18n.switch_language", "main.index", "main.healthz", "static"}
PUBLIC |= {"main.favicon"}  # the site icon (issue 10)
# The public complaint form (rate-limited), its receipt (the same dates as the status, issue 10)
# and status lookup (status only, R-11, R-12).
PUBLIC |= {"complaints.new", "complaints.received", "complaints.status"}
PUBLIC |= {"signup.signup"}  # the public sign-up of clients (issue 10, rate-limited)
# Operations (issue 16): readiness is public (checks only); /metrics is for the configured metrics
# token, never a session (tests/platform/test_operations_endpoints.py).
PUBLIC |= {"ops.readyz", "ops.metrics"}
PUBLIC_BLUEPRINTS = {"api", "registry"}
TASK_ENDPOINTS = [
    name for name in ENDPOINTS if name.startswith("tasks.") and "{task}" in (ENDPOINTS[name][1])
]
FORM_DATA = {
    "tasks.submit": REVIEW_OK,
    "tasks.reassign": {"assignee": "carl"},
    "tasks.follow_up": {"follow_up": "2026-02-01"},
    "tasks.comment": {"body": "hello"},
    "admin.edit_user": {"display_name": "Hank 测试", "roles": "hr", "active": "1"},
    "admin.reset_password": {"password": "a-new-password", "password_confirm": "a-new-password"},
}


@dataclass
class Case:
    web: Web
    market_task: str  # review task of organisation A's application (market lane)
    client_task: str  # contract task of organisation A's application (client lane)
    file_a: int  # uploaded by carl for organisation A
    org_a: int
    instance_a: int  # the instance of client_task
    document: int = 1
    incident: int = 1
    incident_instance: int = 1
    user: int = 1

    def url(self, endpoint: str, task: str) -> str:
        return ENDPOINTS[endpoint][1].format(
            task=task,
            file=self.file_a,
            org=self.org_a,
            instance=self.instance_a,
            document=self.document,
            incident=self.incident,
            incident_instance=self.incident_instance,
            user=self.user,
        )

    def call(self, browser: Browser, endpoint: str, task: str):
        method, _ = ENDPOINTS[endpoint]
        url = self.url(endpoint, task)
        if method == "GET":
            return browser.get(url)
        return browser.post(url, FORM_DATA.get(endpoint, {}))


@pytest.fixture
def case(web) -> Case:
    instance_a = web.start("APP-A", org="A")
    client_task = web.to_contract(instance_a)
    market_task = web.open_task(web.start("APP-A2", org="A"))
    with web.app.app_context():
        attachment = store_attachment(
            db.session,
            web.storage,
            filename="licence.pdf",
            content_type="application/pdf",
            data=b"%PDF-1.4 licence",
            kind="legal_status",
            uploaded_by="carl",
            now=web.clock.now(),
            organisation_id=web.organisations["A"],
        )
        db.session.commit()
        file_a = attachment.id
    return Case(web, market_task, client_task, file_a, web.organisations["A"], instance_a)


def access_log(web: Web) -> list[tuple]:
    with web.app.app_context():
        return [
            (row.event, row.username, row.status, row.method, row.path)
            for row in db.session.scalars(
                select(AccessLog).where(AccessLog.event == "denied").order_by(AccessLog.id)
            )
        ]


def test_every_web_endpoint_is_in_the_matrix(web):
    endpoints = {
        rule.endpoint
        for rule in web.app.url_map.iter_rules()
        if rule.endpoint.split(".", 1)[0] not in PUBLIC_BLUEPRINTS
    }
    assert endpoints == set(ENDPOINTS) | PUBLIC


def test_anonymous_users_are_sent_to_the_login_page_everywhere(case):
    browser = Browser(case.web.app)
    browser.get("/login")  # a CSRF token of the anonymous session: CSRF is not what stops it
    for endpoint in ENDPOINTS:
        response = case.call(browser, endpoint, case.client_task)
        assert response.status_code == 302, endpoint
        assert response.headers["Location"].startswith("/login"), endpoint
    assert case.web.task(case.client_task).assignee is None
    for endpoint in ("main.healthz", "auth.login"):
        url = {"main.healthz": "/healthz", "auth.login": "/login"}[endpoint]
        assert browser.get(url).status_code == 200


def test_a_client_of_another_organisation_gets_404_and_is_logged(case):
    cora = case.web.browser("cora")
    for endpoint in TASK_ENDPOINTS:
        for task in (case.client_task, case.market_task):
            response = case.call(cora, endpoint, task)
            assert response.status_code == 404, (endpoint, task)
            assert "该页面不存在" in text(response)
            method = ENDPOINTS[endpoint][0]
            assert access_log(case.web)[-1] == (
                "denied",
                "cora",
                404,
                method,
                case.url(endpoint, task),
            ), endpoint
    response = case.call(cora, "tasks.download", case.client_task)
    assert response.status_code == 404
    assert access_log(case.web)[-1][:3] == ("denied", "cora", 404)
    assert case.client_task not in text(cora.get("/?tab=groups"))
    task = case.web.task(case.client_task)
    assert (task.state, task.assignee) == ("open", None)


def test_the_client_of_the_organisation_may_work_on_its_task(case):
    carl = case.web.browser("carl")
    assert case.client_task in text(carl.get("/?tab=groups"))
    assert carl.get(f"/tasks/{case.client_task}").status_code == 200
    assert carl.get(f"/files/{case.file_a}").status_code == 200
    assert carl.post(f"/tasks/{case.client_task}/claim").status_code == 302
    assert carl.post(f"/tasks/{case.client_task}/comments", {"body": "ok"}).status_code == 302
    # ... but not on the market's task of the same case (no client role there).
    assert carl.get(f"/tasks/{case.market_task}").status_code == 404
    assert carl.post(f"/tasks/{case.market_task}/claim").status_code == 404
    response = carl.post(
        f"/tasks/{case.client_task}",
        {"f/signed_on": "2026-01-20", "f/signatory": "李雷"},
    )
    assert response.status_code == 302
    assert case.web.task(case.client_task).state == "completed"
    assert access_log(case.web)[-1][1:3] == ("carl", 404)


def test_staff_without_the_candidate_role_get_404_and_are_logged(case):
    hank = case.web.browser("hank")  # hr: no part in either task
    for endpoint in TASK_ENDPOINTS:
        response = case.call(hank, endpoint, case.market_task)
        assert response.status_code == 404, endpoint
        assert access_log(case.web)[-1][1:3] == ("hank", 404), endpoint
    # Case files follow the case rule (issue 9, item 12): hank has no part in A's case …
    assert case.call(hank, "tasks.download", case.market_task).status_code == 404
    assert access_log(case.web)[-1][1:3] == ("hank", 404)
    # … mia has (A's review tasks are hers).
    assert case.call(case.web.browser("mia"), "tasks.download", case.market_task).status_code == 200
    mia = case.web.browser("mia")  # market: not the client's task
    assert mia.get(f"/tasks/{case.client_task}").status_code == 404
    assert mia.post(f"/tasks/{case.client_task}/claim").status_code == 404


def test_supervisors_who_see_everything_may_still_not_act_for_other_roles(case):
    quinn = case.web.browser("quinn")  # quality_manager: sees all tasks, holds no lane role
    expected = {
        "tasks.show": 200,
        "tasks.submit": 403,
        "tasks.claim": 403,
        "tasks.unclaim": 403,
        "tasks.reassign": 403,
        "tasks.follow_up": 302,
        "tasks.comment": 302,
    }
    for endpoint, status in expected.items():
        response = case.call(quinn, endpoint, case.market_task)
        assert response.status_code == status, endpoint
        if status == 403:
            assert access_log(case.web)[-1][1:3] == ("quinn", 403), endpoint
    assert case.web.task(case.market_task).state == "open"
    assert case.web.browser("quinn").get("/?tab=all").status_code == 200


def test_admins_may_do_everything(case):
    ada = case.web.browser("ada")
    for endpoint in ("tasks.show", "tasks.follow_up", "tasks.comment", "tasks.download"):
        assert case.call(ada, endpoint, case.market_task).status_code in (200, 302), endpoint
    assert ada.post(f"/tasks/{case.market_task}/claim").status_code == 302
    assert ada.post(f"/tasks/{case.market_task}/reassign", {"assignee": "max"}).status_code == 302
    assert ada.post(f"/tasks/{case.market_task}/unclaim").status_code == 302
    assert case.web.task(case.market_task).assignee is None
    assert ada.post(f"/tasks/{case.market_task}", REVIEW_OK).status_code == 302
    assert access_log(case.web) == []


def test_unknown_and_malformed_ids_are_404_and_logged(case):
    mia = case.web.browser("mia")
    for url in (
        "/tasks/00000000-0000-0000-0000-000000000000",
        "/tasks/not-a-uuid",
        "/files/999999",
        "/files/99999999999999999999",
    ):
        assert mia.get(url).status_code == 404, url
    assert mia.post("/tasks/not-a-uuid/claim").status_code == 404
    assert [row[2] for row in access_log(case.web)] == [404] * 5


# -- case, process instance and user administration pages ----------------------------------------
# user: expected status per endpoint (organisation A's case, its report, its instance, an open
# incident of another instance of A; the admin pages act on hank's account). 404: may not see it;
# 403: may see it (or the page exists for everyone) but lacks the role. Run in this order: ada's
# password reset of hank comes last.
PAGE_ENDPOINTS = [
    name
    for name in ENDPOINTS
    if name.split(".")[0]
    in (
        "cases",
        "instances",
        "incident_repair",
        "incidents",
        "admin",
        "hr",
        "quality",
        "programmes",
        "audit_team",
        "fees",
    )
]
SEES_A = {
    "cases.index": 200,
    "cases.show": 200,
    "cases.document": 200,
    "instances.show": 200,
    "instances.diagram": 200,
    "instances.retry": 403,
    "incident_repair.show": 403,
    "incident_repair.correct": 403,
    "incident_repair.send_back": 403,
}
# The retry roles (permission table) may repair: the page; a correction with nothing changed
# retries (still failing: back to the instance); a send-back without a task is 404.
REPAIR = {
    "incidents.index": 200,  # the list of open incidents of every case (issue 10)
    "incident_repair.show": 200,
    "incident_repair.correct": 302,
    "incident_repair.send_back": 404,
}
NOT_HR = {
    "hr.auditors": 403,
    "hr.new_auditor": 403,
    "hr.show_auditor": 403,
    "hr.evaluate": 403,
    "hr.renew": 403,
}
HR = {  # MANAGE_AUDITORS: hr and admin (an unknown auditor: 404)
    "hr.auditors": 200,
    "hr.new_auditor": 200,
    "hr.show_auditor": 404,
    "hr.evaluate": 404,
    "hr.renew": 404,
}
# The quality workspace (issue 13), AUDIT_QUALITY: quality_manager, admin and the read-only
# accreditation assessor; the rest 403.
QUALITY = {name: 200 for name in ENDPOINTS if name.startswith("quality.")}
NOT_QUALITY = {name: 403 for name in QUALITY}
# no audit 999999 — 404 for everyone signed in, except a replacement without the
# CHANGE_AUDIT_TEAM role (403 before any look-up).
NO_AUDIT = {"audit_team.show": 404, "audit_team.reassign": 404, "audit_team.replace": 403}
# R-9.5.1e: MANAGE_FEES (market, admin); no invoice 999999 in A's case: 404 for them.
NOT_FEES = {"fees.invoice": 403, "fees.payment": 403}
FEES = {"fees.invoice": 200, "fees.payment": 404}
NOT_ADMIN = (
    {
        "admin.users": 403,
        "admin.new_user": 403,
        "admin.edit_user": 403,
        "admin.reset_password": 403,
    }
    | NOT_HR
    | NOT_QUALITY
    | {"programmes.revise": 403}  # no REVISE_PROGRAMME
    | NO_AUDIT
    | NOT_FEES
)
HIDDEN_A = {name: 404 for name in SEES_A} | {"cases.index": 200}
# The incident list takes no id: whoever lacks a repairing role is refused by role (403).
NOT_REPAIRING = {"incidents.index": 403}
PAGE_MATRIX: dict[str, dict[str, int]] = {
    # quality_manager: sees every case, may not retry; the quality workspace is hers
    "quinn": SEES_A | NOT_REPAIRING | NOT_ADMIN | QUALITY,
    # assessor (issue 13): reads every case and the quality workspace; changes nothing
    "asa": SEES_A | NOT_REPAIRING | NOT_ADMIN | QUALITY,
    "olga": SEES_A | {"instances.retry": 302} | REPAIR | NOT_ADMIN,  # process_owner
    "mia": SEES_A | NOT_REPAIRING | NOT_ADMIN | FEES,  # market: A's review tasks are hers
    "hank": HIDDEN_A
    | NOT_REPAIRING
    | NOT_ADMIN
    | HR,  # hr: no part in A's case; keeps the register
    "aldo": SEES_A | NOT_REPAIRING | NOT_ADMIN,  # auditor: on A's audit team only
    "carl": SEES_A | {"cases.index": 302} | NOT_REPAIRING | NOT_ADMIN,  # client of A: to his case
    "cora": HIDDEN_A | {"cases.index": 302} | NOT_REPAIRING | NOT_ADMIN,  # client of B
    "ada": SEES_A
    | {"instances.retry": 302}
    | REPAIR
    | {"admin.users": 200, "admin.new_user": 200, "admin.edit_user": 302}
    | {"admin.reset_password": 302}
    | HR
    | QUALITY
    | {"programmes.revise": 404}  # may revise; no programme 999999 in A's case
    | NO_AUDIT
    | {"audit_team.replace": 404}
    | FEES,
}


@pytest.fixture
def pages(case: Case) -> Case:
    web = case.web
    with web.app.app_context():
        records = add_case_records(db.session, web.storage, web.now(), case.org_a, "APP-A")
        hank = db.session.scalars(select(User).where(User.username == "hank")).one()
        case.user = hank.id
    case.document = records.report_id
    case.incident_instance = web.start("APP-A3", org="A")
    use_record_acceptance(failing_record_acceptance)
    with web.app.app_context():
        web.engine.complete_task(
            web.open_task(case.incident_instance),
            actor=actor("mia"),
            data={"accepted": True, "man_days": 2.0},
        )
        [incident] = db.session.scalars(
            select(Incident).where(Incident.instance_id == case.incident_instance)
        ).all()
        case.incident = incident.id
    yield case  # the handler keeps failing: retries leave the incident open
    use_record_acceptance(record_acceptance)


def test_the_case_instance_and_admin_pages_follow_the_matrix(pages):
    assert set(PAGE_ENDPOINTS) == {name for expected in PAGE_MATRIX.values() for name in expected}
    for username, expected in PAGE_MATRIX.items():
        browser = pages.web.browser(username)
        for endpoint in PAGE_ENDPOINTS:
            before = len(access_log(pages.web))
            response = pages.call(browser, endpoint, pages.client_task)
            status = expected[endpoint]
            assert response.status_code == status, (username, endpoint, text(response)[-300:])
            log = access_log(pages.web)
            if status in (403, 404):
                method = ENDPOINTS[endpoint][0]
                assert log[-1] == (
                    "denied",
                    username,
                    status,
                    method,
                    pages.url(endpoint, pages.client_task),
                ), (username, endpoint)
            else:
                assert len(log) == before, (username, endpoint)
    with pages.web.app.app_context():
        incident = db.session.get(Incident, pages.incident)
        # olga's and ada's retries, and their corrections (nothing changed: retried as well)
        assert (incident.status, incident.attempts) == ("open", 5)


def test_the_assessor_reads_and_may_change_nothing(case):
    """Issue 13: the accreditation assessor (asa) reads A's case and what the quality manager
    reads of it, but sees no task and is refused — logged — on every endpoint that changes
    something; nothing changed."""
    asa = case.web.browser("asa")
    assert asa.get(f"/cases/{case.org_a}").status_code == 200
    assert asa.get(f"/instances/{case.instance_a}").status_code == 200
    assert asa.get(f"/files/{case.file_a}").status_code == 200  # as the quality manager may
    assert case.web.browser("quinn").get(f"/files/{case.file_a}").status_code == 200
    assert case.call(asa, "tasks.show", case.market_task).status_code == 404  # no task
    assert asa.get("/?tab=all").status_code == 403  # not the quality manager's list of tasks
    mutating = [
        name
        for name, (method, _) in ENDPOINTS.items()
        if method == "POST" and name != "auth.logout"
    ]
    for endpoint in mutating:
        before = len(access_log(case.web))
        response = case.call(asa, endpoint, case.market_task)
        assert response.status_code in (403, 404), (endpoint, response.status_code)
        log = access_log(case.web)
        assert len(log) == before + 1 and log[-1][1:3] == ("asa", response.status_code), endpoint
    task = case.web.task(case.market_task)
    assert (task.state, task.assignee) == ("open", None)
