"""The audit's work allocation and team page (`/audits/<id>/team`, R-7.3, R-8.5.3, R-7.2.1): the
team leader reassigns an activity during the audit; the scheduler (or admin) replaces a member,
refused with the appointment's reasons (422, nothing written) or recorded; Chinese and English;
the page is for staff who see the case, never for clients."""

from functools import partial

import pytest
from sqlalchemy import select

from certflow.db import db
from domain.models import Audit, AuditTeamMember
from tests.audit.test_handlers_audit import AUDITOR, LEADER, call, make_case, plan_params
from tests.factories import make_auditor, make_organisation
from tests.web_support import Browser, text, web_fixture  # noqa: F401


@pytest.fixture(autouse=True)
def another_client(monkeypatch):
    """make_case's client beside the web fixture's organisations A and B (its own USCC)."""
    monkeypatch.setattr(
        "tests.audit.test_handlers_audit.make_organisation",
        partial(make_organisation, uscc="91350100M000200Y00"),
    )


def audit_under_way(web) -> dict:
    with web.app.app_context():
        case = make_case(db.session, web.now(), sites=2)
        call("audit.record_plan", plan_params(case), web.now())
        case.audit.status = "in_progress"
        zhao = make_auditor(
            db.session, web.now(), name="赵审查", username="zhao_auditor", registration="CCAA-9"
        )
        lapsing = make_auditor(
            db.session,
            web.now(),
            name="钱审查",
            username="qian_auditor",
            registration="CCAA-8",
            expires=case.audit.end_date.replace(day=1) if case.audit.end_date.day > 1 else None,
        )
        db.session.commit()
        return {
            "audit": case.audit.id,
            "organisation": case.organisation.id,
            "leader": case.leader.id,
            "auditor": case.auditor.id,
            "zhao": zhao.id,
            "lapsing": lapsing.id,
        }


def signed_in(web, username: str) -> Browser:
    browser = Browser(web.app)
    assert browser.login(username, "pw-" + username).status_code == 302
    return browser


def test_the_leader_reassigns_work_and_the_page_shows_it(web):
    ids = audit_under_way(web)
    url = f"/audits/{ids['audit']}/team"
    leader = signed_in(web, LEADER)
    page = text(leader.get(url))
    assert "工作分配" in page and "李审查" in page
    no_reason = leader.post(
        f"/audits/{ids['audit']}/work",
        {"activity_index": "1", "auditor_id": str(ids["leader"]), "reason": ""},
    )
    assert no_reason.status_code == 422 and "7.3" in text(no_reason)
    done = leader.post(
        f"/audits/{ids['audit']}/work",
        {"activity_index": "1", "auditor_id": str(ids["leader"]), "reason": "李审查另有安排"},
    )
    assert done.status_code == 302, text(done)
    page = text(leader.get(url))
    assert "李审查 → 张组长" in page and "李审查另有安排" in page
    assert "Changes of the work allocation" in text(leader.get(url + "?lang=en"))
    # Another member of the team may see the page but not reassign.
    auditor = signed_in(web, AUDITOR)
    assert auditor.get(url).status_code == 200
    refused = auditor.post(
        f"/audits/{ids['audit']}/work",
        {"activity_index": "0", "auditor_id": str(ids["leader"]), "reason": "x"},
    )
    assert refused.status_code == 403
    # A client never sees it; staff without a part in the case neither.
    assert web.browser("carl").get(url).status_code == 404
    assert web.browser("mia").get(url).status_code == 404


def test_the_admin_replaces_a_member_checked_as_at_the_appointment(web):
    ids = audit_under_way(web)
    ada = web.browser("ada")
    url = f"/audits/{ids['audit']}/team"
    assert "更换成员" in text(ada.get(url))
    lapsing = ada.post(
        url,
        {
            "replaced_auditor_id": str(ids["auditor"]),
            "new_auditor_id": str(ids["lapsing"]),
            "reason": "李审查因病离开",
        },
    )
    assert lapsing.status_code == 422 and "规则第7.2.2条" in text(lapsing)
    with web.app.app_context():
        members = db.session.scalars(
            select(AuditTeamMember.auditor_id).where(AuditTeamMember.audit_id == ids["audit"])
        ).all()
        assert ids["auditor"] in members and ids["lapsing"] not in members
    done = ada.post(
        url,
        {
            "replaced_auditor_id": str(ids["auditor"]),
            "new_auditor_id": str(ids["zhao"]),
            "reason": "李审查因病离开",
        },
    )
    assert done.status_code == 302, text(done)
    page = text(ada.get(url))
    assert "李审查 → 赵审查" in page and "李审查因病离开" in page
    with web.app.app_context():
        audit = db.session.get(Audit, ids["audit"])
        assert {a["auditor_id"] for a in audit.plan["activities"]} == {ids["zhao"]}
    # The team leader reassigns work but does not change the team (R-7.2.1: the scheduler).
    assert signed_in(web, LEADER).post(url, {"reason": "x"}).status_code == 403
