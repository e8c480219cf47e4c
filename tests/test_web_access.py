"""Access rules of every web endpoint: a role × endpoint matrix (R-11).

* anonymous → the login page, for every protected endpoint (GET and POST);
* a client of another organisation → 404, and the attempt is in the access log;
* staff without the task's candidate role → 404 (cannot see it) or 403 (may see it, may not act),
  logged either way;
* the users the task is for → allowed.

`test_every_web_endpoint_is_in_the_matrix` fails when a new endpoint is added to the app without
being added here (the case and process pages will be). The JSON API has its own tests.
"""

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from certflow.db import db
from domain.attachments import store_attachment
from tests.web_support import REVIEW_OK, Browser, Web, text, web_fixture  # noqa: F401
from webapp.models import AccessLog

# endpoint: (method, URL template); {task} is the task under test, {file} an attachment.
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
}
# Reachable without signing in: single endpoints, and whole public blueprints (the certificate
# registry, R-14, is for everyone and tested on its own).
PUBLIC = {"auth.login", "i18n.switch_language", "main.index", "main.healthz", "static"}
PUBLIC_BLUEPRINTS = {"api", "registry"}
TASK_ENDPOINTS = [
    name for name in ENDPOINTS if name.startswith("tasks.") and "{task}" in (ENDPOINTS[name][1])
]
FORM_DATA = {
    "tasks.submit": REVIEW_OK,
    "tasks.reassign": {"assignee": "carl"},
    "tasks.follow_up": {"follow_up": "2026-02-01"},
    "tasks.comment": {"body": "hello"},
}


@dataclass
class Case:
    web: Web
    market_task: str  # review task of organisation A's application (market lane)
    client_task: str  # contract task of organisation A's application (client lane)
    file_a: int  # uploaded by carl for organisation A

    def url(self, endpoint: str, task: str) -> str:
        return ENDPOINTS[endpoint][1].format(task=task, file=self.file_a)

    def call(self, browser: Browser, endpoint: str, task: str):
        method, _ = ENDPOINTS[endpoint]
        url = self.url(endpoint, task)
        if method == "GET":
            return browser.get(url)
        return browser.post(url, FORM_DATA.get(endpoint, {}))


@pytest.fixture
def case(web) -> Case:
    client_task = web.to_contract(web.start("APP-A", org="A"))
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
    return Case(web, market_task, client_task, file_a)


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
    # Staff may download case files (the API's rule: uploader, organisation, staff).
    assert case.call(hank, "tasks.download", case.market_task).status_code == 200
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
