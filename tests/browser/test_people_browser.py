"""People in a real browser (issue 11; R-7.2.2): HR registers an auditor, records an evaluation
and renews the registration; an administrator creates a user with a role, who signs in and sees
their group's task in the inbox."""

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from certflow.dates import china_date
from tests.browser.conftest import Live

pytestmark = pytest.mark.browser


def test_hr_registers_evaluates_and_renews_an_auditor(page: Page, login, live: Live):
    today = china_date(live.web.now())
    login("hank")
    page.goto("/hr/auditors")
    expect(page.locator("h1")).to_have_text("审查人员登记")
    page.get_by_role("link", name="+ 登记审查人员").click()
    page.fill("#name", "郑审查")
    page.fill("#registration_number", "CCAA-SC-9001")
    page.fill("#registration_expires_on", (today + timedelta(days=20)).isoformat())
    page.select_option("#level", "senior")
    page.check("input[name=team_leader_qualified]")
    page.check("input[name=languages][value=en]")
    page.get_by_role("button", name="登记", exact=True).click()
    expect(page.locator(".flash-success")).to_contain_text("已登记 郑审查")
    expect(page.locator("#languages")).to_have_text("中文, 英语")

    new_day = (today + timedelta(days=700)).isoformat()
    page.fill("#expires_on", new_day)
    page.get_by_role("button", name="续期", exact=True).click()  # no evaluation yet: refused
    expect(page.locator("#renewal")).to_contain_text("R-7.2.2")

    page.fill("#evaluator", "人力资源部 王经理")
    page.check("input[name=result][value=qualified]")
    page.get_by_role("button", name="记录评价").click()
    expect(page.locator(".flash-success")).to_contain_text("评价已记录")
    page.fill("#expires_on", new_day)
    page.get_by_role("button", name="续期", exact=True).click()
    expect(page.locator(".flash-success")).to_contain_text("注册已续期")
    expect(page.locator("#valid-through")).to_have_text(new_day)
    history = page.locator("#history li")
    expect(history).to_have_count(3)
    expect(history.nth(2)).to_contain_text("续期")


def test_admin_creates_a_user_who_signs_in_and_sees_their_inbox(
    page: Page, login, live: Live, start
):
    _, key = start()  # a review task of the market group
    login("ada")
    page.goto("/admin/users/new")
    page.fill("#username", "mona_market")
    page.fill("#display_name", "Mona 市场")
    page.check("input[name=roles][value=market]")
    page.fill("#password", "mona-password-1")
    page.fill("#password_confirm", "mona-password-1")
    page.get_by_role("button", name="创建用户").click()
    expect(page.locator(".flash-success")).to_contain_text("mona_market")

    page.context.clear_cookies()
    login("mona_market", "mona-password-1")
    expect(page.locator("h1")).to_have_text("待办")
    page.goto(f"/?tab=groups&key={key}")
    expect(page.locator("tr", has_text=key)).to_have_count(1)
