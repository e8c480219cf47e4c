"""Issue 10, "no dead ends", in the browser: the market user's review made the next service task
refuse the data (an incident); she sees on her inbox that the case is blocked and why; the
administrator corrects the value on the repair page and the case goes on — no API call, no id
typed by hand, all in Debian's chromium."""

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from certflow.db import db
from domain.errors import RuleViolation
from engine.models import EventLog
from handlers.registry import handler, unregister
from tests.browser.conftest import Live
from tests.browser.test_full_certification import dump
from tests.helpers import record_acceptance
from tests.web_support import actor

pytestmark = pytest.mark.browser
OPERATOR = "test_record_acceptance"


def record_within_ten_days(params, ctx):
    """A service task with a rule on the form's answer (man-days at most 10)."""
    if params["man_days"] > 10:
        raise RuleViolation(
            "R-6.2.1", f"审查人日 {params['man_days']} 超过 10 man-days above 10", field="man_days"
        )
    return record_acceptance(params, ctx)


@pytest.fixture
def picky_handler():
    unregister(OPERATOR)
    handler(OPERATOR)(record_within_ten_days)
    yield
    unregister(OPERATOR)
    handler(OPERATOR)(record_acceptance)


def test_admin_corrects_the_data_of_an_incident_and_the_case_goes_on(
    page: Page, login, start, live: Live, picky_handler
):
    instance, key = start()
    with live.app.app_context():
        engine = live.app.extensions["certflow.engine"]
        engine.complete_task(
            live.web.open_task(instance),
            actor=actor("mia"),
            data={"accepted": True, "man_days": 12.0},
        )
        [incident] = engine.open_incidents(instance)

    login("mia")  # the submitter sees that her case is blocked, and why
    blocked = page.locator("[data-blocked-cases]")
    expect(blocked).to_contain_text("您经办的受阻案卷")
    expect(blocked).to_contain_text("R-6.2.1")
    expect(blocked).not_to_contain_text("Traceback")

    page.context.clear_cookies()
    login("ada")
    page.goto(f"/instances/{instance}")
    expect(page.locator(".page-head [data-blocked]")).to_contain_text("审查人日 12.0 超过 10")
    page.click("a[data-repair]")
    expect(page.locator("h1")).to_have_text("处理故障")
    field = page.locator('[name="v/man_days"]')
    expect(field).to_have_value("12.0")
    field.fill("2.5")
    page.click("button[data-action=correct]")
    expect(page.locator(".flash-success")).to_contain_text("数据已更正")
    expect(page.locator("[data-instance-status]")).to_have_attribute(
        "data-instance-status", "running"
    )
    expect(page.locator("#incidents")).to_have_count(0)
    with live.app.app_context():
        event = db.session.scalars(
            select(EventLog).where(
                EventLog.instance_id == instance, EventLog.event_type == "incident_data_corrected"
            )
        ).one()
        assert event.actor == "ada"
        assert event.data["changes"] == {"man_days": {"before": 12.0, "after": 2.5}}
        assert event.data["incident_id"] == incident.id
    assert re.search(r"/instances/\d+", page.url)


def test_admin_sends_the_case_back_and_the_user_finds_her_answers(
    page: Page, login, start, live: Live, picky_handler
):
    instance, key = start()
    with live.app.app_context():
        too_many = {"accepted": True, "man_days": 12.0}
        review = live.web.open_task(instance)
        live.app.extensions["certflow.engine"].complete_task(
            review, actor=actor("mia"), data=too_many
        )

    login("ada")
    page.goto(f"/instances/{instance}")
    page.click("a[data-repair]")
    expect(page.locator("input[name=task_id]:checked")).to_have_value(review)
    page.click("button[data-action=send-back]")
    expect(page.locator(".flash-success")).to_contain_text("案卷已退回到")
    expect(page.locator("[data-instance-status]")).to_have_attribute(
        "data-instance-status", "running"
    )

    page.context.clear_cookies()
    login("mia")  # the review is back in her inbox, with her answers as the draft
    page.goto(f"/tasks/{review}")
    expect(page.locator('[name="f/man_days"]')).to_have_value("12")
    page.fill('[name="f/man_days"]', "2.5")
    page.click("button[name=action][value=complete]")
    expect(page.locator(".flash-success")).to_be_visible()
    with live.app.app_context():
        sent = db.session.scalars(
            select(EventLog).where(
                EventLog.instance_id == instance, EventLog.event_type == "task_sent_back"
            )
        ).one()
        assert sent.actor == "ada" and sent.data["previous_data"]["man_days"] == 12.0
        engine = live.app.extensions["certflow.engine"]
        assert engine.open_incidents(instance) == []
        assert "Task_SignContract" in engine.get_instance(instance).active_elements


def test_admin_finds_the_incident_from_the_navigation_and_repairs_it(
    page: Page, login, start, live: Live, picky_handler
):
    """The incident list (issue 10): reached from the navigation's count, the incident in words
    (case, organisation, step, error, who worked on it), its repair page one click away."""
    instance, key = start()
    with live.app.app_context():
        live.app.extensions["certflow.engine"].complete_task(
            live.web.open_task(instance),
            actor=actor("mia"),
            data={"accepted": True, "man_days": 12.0},
        )

    login("ada")
    nav = page.locator("nav.mainnav a[href='/incidents']")
    expect(nav).to_contain_text("故障")
    expect(nav.locator("[data-nav-count]")).to_be_visible()
    nav.click()
    expect(page.locator("h1")).to_have_text("故障")
    row = page.locator(f"#incident-list tr[data-instance-id='{instance}']")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(key)
    expect(row).to_contain_text("甲公司")  # the organisation of the application
    expect(row).to_contain_text("R-6.2.1")  # the error in words, with its rule
    expect(row).to_contain_text("Mia")  # the market user whose review the step read
    expect(row).not_to_contain_text("Task_")
    dump(page, "incident-list")
    page.get_by_role("link", name="English").click()
    expect(row).to_contain_text("Repair")
    page.get_by_role("link", name="中文").click()
    row.locator("a[data-repair]").click()
    expect(page.locator("h1")).to_have_text("处理故障")
    page.fill('[name="v/man_days"]', "2.5")
    page.click("button[data-action=correct]")
    expect(page.locator(".flash-success")).to_contain_text("数据已更正")
    page.locator("nav.mainnav a[href='/incidents']").click()
    expect(page.locator(f"#incident-list tr[data-instance-id='{instance}']")).to_have_count(0)
