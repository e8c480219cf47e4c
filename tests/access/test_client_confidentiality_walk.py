"""R-11, issue 10 ("Confidentiality per task"): a whole certification case is run; then every page
and API answer the client can reach (every GET route of the app, with every id of the case) is
fetched as the client and must contain none of the case's internal information — the mystery
shopping record, the internal review (man-day basis, programme sizing), impartiality notes and
the staff's internal comments. The same content is checked to be there for staff, so the test
cannot pass by looking in the wrong place."""

import re
from datetime import date
from pathlib import Path

import pytest
from flask import g
from sqlalchemy import select

from certflow.accounts import create_user, issue_token
from certflow.db import db
from certflow.models import User
from domain.models import Application, Attachment, Certificate, ConflictOfInterest, Document
from engine.models import HumanTask, Incident
from tests.certification_case import Case, deploy_everything, make_people, one_nc, through_onsite
from tests.conftest import START_TIME as START
from tests.factories import make_auditor
from tests.web_support import Browser, text
from webapp.models import TaskComment

INTERNAL_COMMENT = "内部意见：客户可能夸大了网点数量 internal: outlets may be overstated"
CLIENT_COMMENT = "请按时提交整改 please answer in time"
SECRETS = {
    "mystery shopping record": "安暗访",
    "mystery shopping observations": "on site within 24 h",
    "internal review (man-day basis)": "120 staff, 2 fixed sites",
    "programme sizing": "medium size, 2 sites, no shifts",
    "impartiality note": "曾为该组织提供咨询 consulted for the client",
    "internal comment": "outlets may be overstated",
}
SKIPPED_ENDPOINTS = {"static", "i18n.switch_language", "auth.login", "main.favicon"}


@pytest.fixture
def case(engine, clock, app):
    deploy_everything(engine)  # files go where the app serves them from
    return Case(engine, clock, make_people(clock.now()), Path(app.instance_path) / "uploads")


def run_whole_case(case: Case) -> int:
    through_onsite(case, points_lost=80, nonconformities=one_nc())
    organisation_id = db.session.scalars(select(Application)).one().organisation_id
    # An impartiality record of another auditor: internal to the CB.
    other = make_auditor(db.session, case.clock.now(), name="赵回避", registration="CCAA-SC-9")
    db.session.add(
        ConflictOfInterest(
            auditor_id=other.id,
            organisation_id=organisation_id,
            kind="consulted",
            until=date(2025, 1, 1),
            note=SECRETS["impartiality note"],
        )
    )
    receipt = case.open_task("Task_ConfirmReportReceipt")
    for body, visibility in ((INTERNAL_COMMENT, "internal"), (CLIENT_COMMENT, "client")):
        db.session.add(
            TaskComment(
                task_id=receipt.id,
                instance_id=receipt.instance_id,
                author=case.people.market.username,
                body=body,
                created_at=case.clock.now(),
                visibility=visibility,
            )
        )
    db.session.commit()
    case.receive_report()
    nc_ids = case.confirm_ncs()
    case.answer_ncs(nc_ids)
    case.verify_ncs(nc_ids, accepted=False)
    case.answer_ncs(nc_ids)
    case.verify_ncs(nc_ids, accepted=True)
    case.at(45)
    case.decide("grant", 4)
    assert case.instance().status == "completed"
    return organisation_id


def signed_in(app, username: str) -> Browser:
    password = "pw"  # tests/certification_case.py
    g.pop("_login_user", None)  # the pushed app context is reused by the test client
    g.pop("csrf_token", None)
    browser = Browser(app)
    assert browser.login(username, password).status_code == 302
    return browser


def reachable_urls(app, case: Case, organisation_id: int) -> list[str]:
    """Every GET route with every id of the case filled in."""
    ids = {
        "task_id": [t.id for t in db.session.scalars(select(HumanTask))],
        "instance_id": [case.instance_id],
        "organisation_id": [organisation_id],
        "document_id": list(db.session.scalars(select(Document.id))),
        "attachment_id": list(db.session.scalars(select(Attachment.id))),
        "number": list(db.session.scalars(select(Certificate.number))),
        "user_id": list(db.session.scalars(select(User.id))),
        "incident_id": list(db.session.scalars(select(Incident.id))) or [1],
    }
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in SKIPPED_ENDPOINTS:
            continue
        combos = [{}]
        for argument in rule.arguments:
            # An argument of a newer route: any small id (the page must refuse or show nothing).
            combos = [{**c, argument: v} for c in combos for v in ids.get(argument, [1])]
        for values in combos:
            url = rule.rule
            for name, value in values.items():
                url = re.sub(rf"<(?:[^:<>]+:)?{name}>", str(value), url)
                url = re.sub(rf"<[^<>]*:{name}(?:\([^)]*\))?>", str(value), url)
            urls.append(url)
    urls += ["/?tab=group", "/?tab=all", "/?state=completed", "/complaints/status?reference=x"]
    return sorted(set(urls))


def leaks(body: str) -> dict[str, str]:
    return {name: secret for name, secret in SECRETS.items() if secret in body}


def test_no_client_page_or_api_answer_shows_internal_information(case, app):
    organisation_id = run_whole_case(case)
    urls = reachable_urls(app, case, organisation_id)
    client = signed_in(app, case.people.client.username)
    seen_ok = 0
    for url in urls:
        response = client.get(url)
        body = response.get_data().decode("utf-8", "replace")
        assert not leaks(body), (url, response.status_code, leaks(body))
        seen_ok += response.status_code == 200
    assert CLIENT_COMMENT in text(client.get(f"/tasks/{_receipt_task(case)}"))

    user = db.session.scalars(select(User).where(User.username == case.people.client.username))
    token = issue_token(db.session, user.one(), case.clock.now())
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    api_urls = [u for u in urls if u.startswith("/api/")]
    assert any(u.startswith("/api/v1/tasks/") for u in api_urls)
    for url in api_urls:
        response = app.test_client().get(url, headers=headers)
        body = response.get_data().decode("utf-8", "replace")
        assert not leaks(body), (url, response.status_code, leaks(body))
        seen_ok += response.status_code == 200
    assert seen_ok > 15  # the walk reached the client's pages, not only refusals

    # The same information is there for staff: the walk looks where it would show.
    create_user(
        db.session, "qm", password="pw", roles={"quality_manager"}, display_name="QM", now=START
    )
    db.session.commit()
    staff = signed_in(app, "qm")
    staff_seen = "".join(
        staff.get(u).get_data().decode("utf-8", "replace")
        for u in urls
        if u.startswith(("/tasks/", "/cases/"))
    )
    assert "安暗访" in staff_seen and INTERNAL_COMMENT in staff_seen


def _receipt_task(case: Case) -> str:
    return db.session.scalars(
        select(HumanTask.id).where(HumanTask.element_id == "Task_ConfirmReportReceipt")
    ).one()
