"""The public registry in a real browser, without signing in (R-14, R-11)."""

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Live

pytestmark = pytest.mark.browser


def test_anyone_finds_a_certificate_by_organisation_name_and_sees_its_status(
    page: Page, live: Live
):
    number = live.records.certificate_number
    page.goto("/registry")
    page.locator("input[name=q]").fill("甲公司")
    page.locator("input[name=q]").press("Enter")
    results = page.locator("#search-results")
    expect(results).to_contain_text(number)
    results.get_by_role("link", name=number).first.click()
    expect(page.locator("h1")).to_contain_text(number)
    expect(page.locator("#certificate-status")).to_contain_text("有效")
    expect(page.locator("#status-history")).to_be_visible()
    # Nothing confidential on the public page.
    body = page.locator("body").inner_text()
    assert "91350100M000100Y43" not in body and "service@example.cn" not in body
    # The certificate PDF is linked and served to anonymous visitors.
    pdf = page.locator("#certificate-pdf")
    href = pdf.get_attribute("href")
    response = page.request.get(href)
    assert response.status == 200 and response.body()[:5] == b"%PDF-"


def test_search_by_certificate_number_and_the_announcements_list(page: Page, live: Live):
    number = live.records.certificate_number
    page.goto("/registry")
    page.locator("input[name=q]").fill(number.lower())
    page.locator("input[name=q]").press("Enter")
    expect(page.locator("#search-results")).to_contain_text(number)
    page.goto("/registry/announcements")
    expect(page.locator("h1")).to_be_visible()
    page.goto("/registry/certificates/CTC-SHFW-1999-9999")
    expect(page.locator("body")).to_contain_text("CTC-SHFW-1999-9999")
