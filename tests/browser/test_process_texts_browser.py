"""The texts of the real definitions in a real browser, in the language the person picks (issue 10,
"Labels everywhere"): from the inbox to the acceptance review of a certification application, in
Chinese, then switched to English with the link in the top bar."""

from unittest.mock import patch

import pytest
from playwright.sync_api import Page, expect

from domain.uscc import uscc_check_char
from scenarios import certification_case
from tests.browser.conftest import Live
from tests.certification_case import Case, deploy_everything, make_people

pytestmark = pytest.mark.browser


@pytest.fixture
def applied(live: Live, tmp_path) -> Case:
    """The real processes deployed into the live app and one application submitted."""
    app = live.app
    with app.app_context():
        engine, clock = app.extensions["certflow.engine"], app.extensions["certflow.clock"]
        deploy_everything(engine)
        case = Case(engine, clock, make_people(clock.now()), tmp_path / "uploads")
        case.instance_id = engine.start("certification", actor=case.people.client).id
        # An organisation of its own: the seeded ones already have their client accounts.
        first17 = "91350100MA3" + "TEXT01"
        with patch.object(certification_case, "VALID_USCC", first17 + uscc_check_char(first17)):
            case.submit_application()
    return case


def test_the_market_reviews_an_application_in_chinese_then_in_english(
    page: Page, login, applied: Case
):
    login(applied.people.market.username, "pw")
    page.goto("/?tab=groups")
    # Exact: other browser tests leave "受理评审 Acceptance review" of their own flow.
    page.get_by_role("link", name="受理评审", exact=True).first.click()
    expect(page.locator("h1")).to_have_text("受理评审")
    expect(page.locator(".instructions")).to_contain_text("评审申请材料的完整性")
    expect(page.get_by_text("信息足以建立审查方案").first).to_be_visible()

    page.get_by_role("link", name="English").click()
    expect(page.locator("h1")).to_have_text("Acceptance review")
    expect(page.locator(".instructions")).to_contain_text("Review the materials for completeness")
    expect(page.locator("#form-title")).not_to_contain_text("受理")
    expect(page.locator(".task-form")).not_to_contain_text("信息足以建立审查方案")
    page.goto("/?tab=groups")
    expect(page.get_by_role("link", name="Acceptance review", exact=True).first).to_be_visible()
