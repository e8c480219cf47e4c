"""R-7.1.2 in a real browser: the scheduler opens the case, revises its audit programme (a refused
revision first: no reason), and the case page lists revision 2 with what changed, why and who,
after the programme as established (revision 1)."""

import pytest
from playwright.sync_api import Page, expect

from certflow.accounts import create_user
from certflow.db import db
from domain.models import Application, AuditProgramme, Organisation
from engine.service import Actor
from tests.browser.conftest import Live
from tests.factories import make_application, make_programme
from tests.web_support import PASSWORD

pytestmark = pytest.mark.browser


def scheduled_case(live: Live) -> tuple[int, int]:
    """A new organisation whose case the scheduler sam_browser has a part in (he started its
    process) and its contracted application's programme (revision 1)."""
    web = live.web
    with web.app.app_context():
        organisation = Organisation(
            name="丙公司 Gamma Ltd",
            uscc="91350100M000200Y00",
            address="福州市",
            contact_name="丁",
            created_at=web.now(),
        )
        db.session.add(organisation)
        create_user(
            db.session,
            "sam_browser",
            password=PASSWORD,
            roles={"scheduler"},
            display_name="Sam 调度",
            now=web.now(),
        )
        application = make_application(db.session, web.now(), organisation, number="APP-C-PRG")
        db.session.flush()
        # Set-up only: the test flow is started by the market role; started by sam, the case is
        # one he has a part in (webapp/access.py case_visible_clause).
        instance = web.engine.start(
            "review_flow",
            actor=Actor("sam_browser", frozenset({"scheduler", "market"})),
            business_key="APP-C-PRG",
            data={"headcount": 120, "application_id": "APP-C-PRG"},
        )
        db.session.get(Application, application.id).instance_id = instance.id
        programme_id = make_programme(
            db.session,
            web.now(),
            application,
            by="sam_browser",
            mystery_shopping=False,
            sizing_notes="80 人",
        )
        db.session.commit()
        return organisation.id, programme_id


def test_the_scheduler_revises_the_programme_from_the_case(page: Page, login, live: Live):
    organisation_id, programme_id = scheduled_case(live)
    login("sam_browser")
    page.goto(f"/cases/{organisation_id}")
    programmes = page.locator("#programmes")
    expect(programmes.locator("[data-revision='1']")).to_contain_text("方案建立")
    programmes.get_by_role("link", name="调整审查方案").click()
    expect(page.locator("h1")).to_have_text("调整审查方案")

    page.fill("#man_days", "4.5")
    page.check("input[name=random_survey]")
    page.get_by_role("button", name="记录修订").click()  # no reason: refused, nothing kept
    expect(page.locator("#reason_kind-errors")).to_contain_text("请选择调整原因")
    expect(page.locator("#man_days")).to_have_value("4.5")

    page.select_option("#reason_kind", "audit_results")
    page.fill("#reason", "上次审查发现投诉处理薄弱，增加人日并安排随机调查")
    page.get_by_role("button", name="记录修订").click()
    expect(page.locator(".flash")).to_contain_text("审查方案第 2 次修订已记录")
    second = page.locator("#programmes [data-revision='2']")
    expect(second).to_contain_text("以前审查的结果")
    expect(second).to_contain_text("增加人日并安排随机调查")
    expect(second).to_contain_text("Sam 调度")
    expect(second.locator("table.changes tr")).to_have_count(3)  # header, man-days, survey
    expect(second).to_contain_text("4.5")
    expect(page.locator("#programmes [data-man-days]")).to_have_text("4.5")
    with live.app.app_context():
        assert db.session.get(AuditProgramme, programme_id).random_survey is True
