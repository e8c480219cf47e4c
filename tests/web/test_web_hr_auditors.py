"""The auditor register pages of HR (`/hr/auditors`, R-7.2.2): register, evaluate, renew, the
history and the expiring list, with field errors naming the rule; Chinese and English."""

from datetime import timedelta

from sqlalchemy import select

from certflow.dates import china_date
from certflow.db import db
from domain.models import Auditor
from tests.web_support import text, web_fixture  # noqa: F401


def day(web, days: int) -> str:
    return (china_date(web.now()) + timedelta(days=days)).isoformat()


REGISTER = {
    "name": "周审查",
    "registration_number": "CCAA-SC-4001",
    "level": "senior",
    "team_leader_qualified": "1",
    "fields": "after_sales_service",
    "languages": ["zh", "en"],
}


def registered_id(web) -> int:
    with web.app.app_context():
        return db.session.scalars(select(Auditor.id).where(Auditor.name == "周审查")).one()


def test_hr_registers_evaluates_and_renews_on_the_pages(web):
    hank = web.browser("hank")
    assert "审查人员登记" in text(hank.get("/hr/auditors"))
    refused = hank.post("/hr/auditors/new", {**REGISTER, "registration_expires_on": ""})
    assert refused.status_code == 422
    assert "R-7.2.2" in text(refused) and 'value="周审查"' in text(refused)
    created = hank.post("/hr/auditors/new", {**REGISTER, "registration_expires_on": day(web, 30)})
    assert created.status_code == 302, text(created)
    auditor = registered_id(web)
    page = text(hank.get(f"/hr/auditors/{auditor}"))
    assert "CCAA-SC-4001" in page and "中文, 英语" in page
    assert "周审查" in text(hank.get("/hr/auditors?expiring=1"))

    new_day = day(web, 700)
    no_evaluation = hank.post(f"/hr/auditors/{auditor}/renewals", {"expires_on": new_day})
    assert no_evaluation.status_code == 422
    assert "R-7.2.2" in text(no_evaluation)
    negative = hank.post(
        f"/hr/auditors/{auditor}/evaluations",
        {"evaluated_on": day(web, 0), "evaluator": "王经理", "result": "not_qualified"},
    )
    assert negative.status_code == 422  # a negative evaluation states why
    evaluated = hank.post(
        f"/hr/auditors/{auditor}/evaluations",
        {
            "evaluated_on": day(web, 0),
            "evaluator": "王经理",
            "result": "qualified",
            "languages": ["zh", "en", "ja"],
        },
    )
    assert evaluated.status_code == 302, text(evaluated)
    renewed = hank.post(f"/hr/auditors/{auditor}/renewals", {"expires_on": new_day})
    assert renewed.status_code == 302, text(renewed)
    page = text(hank.get(f"/hr/auditors/{auditor}"))
    assert new_day in page and "续期" in page and "王经理" in page and "日语" in page
    assert "周审查" not in text(hank.get("/hr/auditors?expiring=1"))
    english = text(hank.get(f"/hr/auditors/{auditor}?lang=en"))
    assert "Renewed" in english and "Record an evaluation" in english


def test_the_register_pages_are_for_hr_and_admin_only(web):
    assert web.browser("ada").get("/hr/auditors").status_code == 200
    for username in ("mia", "carl", "quinn"):
        assert web.browser(username).get("/hr/auditors").status_code == 403
