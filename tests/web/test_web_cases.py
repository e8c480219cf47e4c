"""Case pages (`/cases`, `/cases/<org>`, documents) and process instance pages (`/instances/<id>`,
the BPMN source, incident retry): what they show, and who may see them (R-11)."""

import re
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from certflow.db import db
from engine.models import Incident, ProcessInstance
from tests.case_support import (
    CaseRecords,
    add_case_records,
    failing_record_acceptance,
    use_record_acceptance,
)
from tests.helpers import REVIEW_FLOW, record_acceptance
from tests.web_support import REVIEW_OK, Browser, Web, text, web_fixture  # noqa: F401
from webapp.models import AccessLog


@dataclass
class Cases:
    web: Web
    a: CaseRecords
    instance_a: int  # APP-A of organisation A, waiting for the client's contract
    instance_b: int  # APP-B of organisation B, waiting for the market's review
    org_b: int

    def browser(self, username: str) -> Browser:
        return self.web.browser(username)


@pytest.fixture
def cases(web) -> Cases:
    instance_a = web.start("APP-A", org="A")
    web.to_contract(instance_a)
    instance_b = web.start("APP-B", org="B")
    with web.app.app_context():
        records = add_case_records(
            db.session, web.storage, web.now(), web.organisations["A"], "APP-A"
        )
    return Cases(web, records, instance_a, instance_b, web.organisations["B"])


def denied(web: Web) -> list[tuple]:
    with web.app.app_context():
        return [
            (row.username, row.status, row.path)
            for row in db.session.scalars(
                select(AccessLog).where(AccessLog.event == "denied").order_by(AccessLog.id)
            )
        ]


# -- the case page --------------------------------------------------------------------------------
def test_the_case_page_shows_status_tasks_timeline_documents_files_audits_certificates(cases):
    a = cases.a
    page = text(cases.browser("carl").get(f"/cases/{a.organisation_id}"))
    assert "甲公司 Alpha Ltd" in page
    assert 'data-application="APP-A"' in page and "已签合同" in page  # contracted
    # the client's open task, as a link
    contract = cases.web.open_task(cases.instance_a)
    assert f'href="/tasks/{contract}?next=/cases/{a.organisation_id}"' in page
    # timeline: who, what, when (China time: 01:00 UTC is 09:00)
    assert 'data-event="instance_started"' in page and 'data-event="task_created"' in page
    assert "Mia 测试" in page and "2026-01-05 09:00" in page
    # audit with score, level and findings
    assert "85.50" in page and "★★★" in page
    assert re.search(r"符合\s*2", page) and re.search(r"不符合\s*1", page)
    assert "吴组长 Wu" in page
    # certificate, documents (the client's only), files
    assert a.certificate_number in page and "有效" in page
    assert f"/cases/{a.organisation_id}/documents/{a.report_id}" in page
    assert f"/documents/{a.internal_id}" not in page and "暗访记录" not in page
    assert f'href="/files/{a.file_id}"' in page
    assert cases.browser("carl").get(f"/files/{a.file_id}").status_code == 200


def test_staff_see_internal_documents_and_assignees(cases):
    page = text(cases.browser("quinn").get(f"/cases/{cases.a.organisation_id}"))
    assert f"/documents/{cases.a.internal_id}" in page
    assert "暗访记录" in page
    response = cases.browser("quinn").get(
        f"/cases/{cases.a.organisation_id}/documents/{cases.a.internal_id}"
    )
    assert response.status_code == 200 and "秘密 secret" in text(response)


def test_documents_are_rendered_as_markdown_without_html(cases):
    a = cases.a
    response = cases.browser("carl").get(f"/cases/{a.organisation_id}/documents/{a.report_id}")
    assert response.status_code == 200
    page = text(response)
    assert "<h1>审查报告 Audit report</h1>" in page
    assert "<strong>推荐 recommend</strong>" in page
    assert "<table>" in page and "<td>5.1.1</td>" in page
    assert "&lt;script&gt;alert('x')&lt;/script&gt;" in page
    assert "<script>alert" not in page
    assert 'href="javascript' not in page and "[click me](javascript:alert(1))" in page
    assert "<img src=x" not in page and "&lt;img src=x" in page


def test_clients_see_only_their_own_case_and_refusals_are_logged(cases):
    a = cases.a
    cora = cases.browser("cora")  # client of organisation B
    for url in (
        f"/cases/{a.organisation_id}",
        f"/cases/{a.organisation_id}/documents/{a.report_id}",
        f"/instances/{cases.instance_a}",
        f"/instances/{cases.instance_a}/diagram.bpmn",
    ):
        response = cora.get(url)
        assert response.status_code == 404, url
        assert "该页面不存在" in text(response)
        assert denied(cases.web)[-1] == ("cora", 404, url)
    # her own case: the list leads straight to it
    response = cora.get("/cases")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/cases/{cases.org_b}"
    assert cora.get(f"/cases/{cases.org_b}").status_code == 200
    # carl may not read the internal record of his own case, nor B's case
    carl = cases.browser("carl")
    url = f"/cases/{a.organisation_id}/documents/{a.internal_id}"
    assert carl.get(url).status_code == 404
    assert denied(cases.web)[-1] == ("carl", 404, url)
    assert carl.get(f"/cases/{cases.org_b}").status_code == 404
    # a document is only reachable under its own case
    assert (
        cases.browser("ada").get(f"/cases/{cases.org_b}/documents/{a.report_id}").status_code == 404
    )


def test_staff_see_a_case_only_with_a_part_in_it(cases):
    a, org_b = cases.a.organisation_id, cases.org_b
    expected = {
        "ada": {a, org_b},  # admin, quality_manager, process_owner see every case
        "quinn": {a, org_b},
        "olga": {a, org_b},
        "mia": {a, org_b},  # market: the review tasks of both cases are in her lane
        "hank": set(),  # hr: no part in either
        "aldo": {a},  # auditor, only through his seat on A's audit team
        "carl": {a},
        "cora": {org_b},
    }
    for username, visible in expected.items():
        browser = cases.browser(username)
        for organisation in (a, org_b):
            status = browser.get(f"/cases/{organisation}").status_code
            assert status == (200 if organisation in visible else 404), (username, organisation)
        listing = browser.get("/cases")
        if listing.status_code == 302:  # clients go straight to their case
            shown = {int(listing.headers["Location"].rsplit("/", 1)[1])}
        else:
            shown = {int(x) for x in re.findall(r'data-organisation-id="(\d+)"', text(listing))}
        assert shown == visible, username
    assert [row[:2] for row in denied(cases.web)].count(("hank", 404)) == 2


def test_the_audit_team_member_may_open_the_case_instances(cases):
    aldo = cases.browser("aldo")
    assert aldo.get(f"/instances/{cases.instance_a}").status_code == 200
    assert aldo.get(f"/instances/{cases.instance_b}").status_code == 404
    hank = cases.browser("hank")
    assert hank.get(f"/instances/{cases.instance_a}").status_code == 404


def test_the_case_list_is_searchable(cases):
    ada = cases.browser("ada")

    def found(q: str) -> set[int]:
        return {
            int(x)
            for x in re.findall(
                r'data-organisation-id="(\d+)"', text(ada.get("/cases", query_string={"q": q}))
            )
        }

    a, b = cases.a.organisation_id, cases.org_b
    assert found("") == {a, b}
    assert found("Beta") == {b}
    assert found("APP-A") == {a}
    assert found(cases.a.certificate_number) == {a}
    assert found("91110000MA00000002") == {b}
    assert found("100%_") == set()


def test_unknown_and_huge_ids_are_404_and_logged(cases):
    ada = cases.browser("ada")
    for url in (
        "/cases/999999",
        "/cases/99999999999999999999",
        f"/cases/{cases.a.organisation_id}/documents/999999",
        "/instances/999999",
        "/instances/99999999999999999999",
        f"/instances/{cases.instance_a}/diagram.bpmn?process=nope",
    ):
        assert ada.get(url).status_code == 404, url
    assert len(denied(cases.web)) == 6


# -- the process instance page --------------------------------------------------------------------
ACTIVE_AT_CONTRACT = '["BoundaryTimer_ContractOverdue", "Task_SignContract"]'


def _data(page: str, name: str) -> str:
    match = re.search(rf"{name}='([^']*)'", page)
    assert match, name
    return match.group(1)


def test_the_instance_page_marks_active_and_completed_elements(cases):
    response = cases.browser("mia").get(f"/instances/{cases.instance_a}")
    assert response.status_code == 200
    page = text(response)
    assert _data(page, "data-active") == ACTIVE_AT_CONTRACT
    assert _data(page, "data-completed") == '["Task_Review"]'
    assert f'data-diagram-url="/instances/{cases.instance_a}/diagram.bpmn"' in page
    assert "bpmn-navigated-viewer.production.min.js" in page and "js/diagram.js" in page
    assert "<script>" not in page  # no inline script
    csp = response.headers["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in csp
    assert "script-src" not in csp  # scripts stay 'self' (default-src)
    # the event log
    assert 'data-event="task_created"' in page and 'data-event="task_completed"' in page
    assert "受理评审 Acceptance review" in page
    # the inbox keeps the strict policy
    assert "unsafe-inline" not in cases.browser("mia").get("/").headers["Content-Security-Policy"]


def test_clients_see_their_own_steps_not_the_internal_ones(cases):
    """R-8.2: a mystery shopping visit is unannounced — the client's view of its case shows its
    own tasks, and only a count of the certification body's open steps."""
    in_review = cases.web.start("APP-A2", org="A")  # the market's review is open
    carl = cases.browser("carl")
    page = text(carl.get(f"/cases/{cases.a.organisation_id}"))
    assert 'data-other-tasks="1"' in page
    assert "受理评审 Acceptance review" not in page  # neither open nor in the timeline
    assert 'data-event="task_completed"' not in page
    assert "签订合同 Sign contract" in page  # his own task
    page = text(carl.get(f"/instances/{cases.instance_a}"))
    assert _data(page, "data-active") == '["Task_SignContract"]'  # not the timer
    assert _data(page, "data-completed") == "[]"
    assert "受理评审" not in page and "下一个定时器" not in page
    page = text(carl.get(f"/instances/{in_review}"))
    assert _data(page, "data-active") == "[]" and 'data-other-tasks="1"' in page
    staff = text(cases.browser("quinn").get(f"/cases/{cases.a.organisation_id}"))
    assert "data-other-tasks" not in staff and staff.count("受理评审 Acceptance review") >= 2


def test_the_diagram_is_the_deployed_bpmn_source(cases):
    response = cases.browser("mia").get(f"/instances/{cases.instance_a}/diagram.bpmn")
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    assert response.data == (REVIEW_FLOW / "review_flow.bpmn").read_bytes()
    assert 'filename="review_flow.bpmn"' in response.headers["Content-Disposition"]


def test_static_viewer_files_are_served(cases):
    client = cases.web.app.test_client()
    for path in (
        "/static/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js",
        "/static/vendor/bpmn-js/assets/diagram-js.css",
        "/static/vendor/bpmn-js/assets/bpmn-js.css",
        "/static/vendor/bpmn-js/assets/bpmn-font/css/bpmn.css",
        "/static/vendor/bpmn-js/assets/bpmn-font/font/bpmn.woff2",
        "/static/js/diagram.js",
        "/static/css/cases.css",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        response.close()


def test_incidents_are_shown_and_retried_by_admin_or_process_owner(cases):
    web = cases.web
    instance = web.start("APP-A9", org="A")
    review = web.open_task(instance)
    use_record_acceptance(failing_record_acceptance)
    try:
        mia = cases.browser("mia")
        mia.get(f"/tasks/{review}")
        assert mia.post(f"/tasks/{review}", REVIEW_OK).status_code == 302
        with web.app.app_context():
            [incident] = db.session.scalars(
                select(Incident).where(Incident.instance_id == instance)
            ).all()
            incident_id = incident.id
        url = f"/instances/{instance}/incidents/{incident_id}/retry"

        page = text(mia.get(f"/instances/{instance}"))
        assert "registry is down" in page and _data(page, "data-incidents") == (
            '["Task_RecordAcceptance"]'
        )
        assert url not in page  # no retry button for the market
        carl_page = text(cases.browser("carl").get(f"/instances/{instance}"))
        assert "registry is down" not in carl_page  # clients do not see incident details

        for username, status in (("mia", 403), ("quinn", 403), ("carl", 403), ("cora", 404)):
            browser = cases.browser(username)
            browser.get(f"/cases/{cases.org_b}")  # any page, for the CSRF token
            assert browser.post(url).status_code == status, username
            assert denied(web)[-1][:2] == (username, status)

        olga = cases.browser("olga")
        assert url in text(olga.get(f"/instances/{instance}"))
        assert olga.post(url, csrf=False).status_code == 400  # CSRF
        response = olga.post(url)  # still failing
        assert response.status_code == 302
        assert "仍然失败" in text(olga.get(response.headers["Location"]))
        use_record_acceptance(record_acceptance)
        ada = cases.browser("ada")
        ada.get(f"/instances/{instance}")
        response = ada.post(url)
        assert response.status_code == 302
        page = text(ada.get(response.headers["Location"]))
        assert "故障已解决" in page
        assert _data(page, "data-active") == ACTIVE_AT_CONTRACT
        with web.app.app_context():
            row = db.session.get(Incident, incident_id)
            assert (row.status, row.resolved_by, row.attempts) == ("resolved", "ada", 2)
            assert db.session.get(ProcessInstance, instance).status == "running"
        assert ada.post(url).status_code == 404  # no longer open
    finally:
        use_record_acceptance(record_acceptance)


def test_nav_shows_cases_to_everyone_and_users_to_admins(cases):
    assert 'href="/cases"' in text(cases.browser("carl").get("/"))
    assert 'href="/admin/users"' not in text(cases.browser("quinn").get("/"))
    assert 'href="/admin/users"' in text(cases.browser("ada").get("/"))
    page = text(cases.browser("ada").get(f"/instances/{cases.instance_a}"))
    assert re.search(r'<a href="/cases" aria-current="page">', page)


def test_english_labels(cases):
    carl = cases.browser("carl")
    page = text(carl.get(f"/cases/{cases.a.organisation_id}?lang=en"))
    assert "Open tasks" in page and "Timeline" in page and "Contracted" in page
    assert "Valid" in page and "Audit report" in page
