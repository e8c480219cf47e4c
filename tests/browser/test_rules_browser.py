"""Issue 13 in Debian's chromium: the quality manager opens the rules traceability page from
the quality workspace, follows a rule to a deployed diagram, sees the rule's steps highlighted
(marker `cf-rule` on the SVG elements) and every step's rules as overlays, chooses another
rule from the list beside the diagram; in Chinese and in English."""

import pytest
from playwright.sync_api import Page, expect

from engine.service import Actor
from tests.browser.conftest import Live
from tests.paths import PROCESSES

pytestmark = pytest.mark.browser
ACCEPTED = ["Gateway_Accepted", "Task_SignContract", "Task_RecordContract"]


def highlighted(page: Page, element_id: str):
    return page.locator(f'.djs-element.cf-rule[data-element-id="{element_id}"]')


def diagram_ready(page: Page) -> None:
    box = page.locator("[data-rules-diagram]")
    expect(box).to_have_attribute("data-diagram-ready", "true", timeout=20_000)


def test_the_quality_manager_chooses_a_rule_and_sees_its_steps_highlighted(
    page: Page, live: Live, login
):
    with live.app.app_context():
        live.web.engine.deploy([PROCESSES], actor=Actor("setup", frozenset()), comment="rules")
    login("quinn")
    page.goto("/quality")
    page.get_by_role("link", name="规则追溯").click()
    row = page.locator('tr[data-rule="R-6.2.2a"]')
    expect(row.locator("th")).to_contain_text("规则第6.2.2条（a）")
    expect(row.locator(".rule-text")).to_contain_text("签订具有法律效力的书面认证合同")
    row.locator('a[data-rule-diagram="certification"]').click()
    diagram_ready(page)
    for element in ACCEPTED:
        expect(highlighted(page, element)).to_have_count(1)
    expect(highlighted(page, "Task_NotifyNotAccepted")).to_have_count(0)
    expect(page.locator(".cf-rule-overlay", has_text="规则第6.2.2条（a）").first).to_be_attached()
    expect(page.locator("h2#diagram-title")).to_contain_text("实现规则第6.2.2条（a）的步骤")

    # Another rule from the list beside the diagram.
    page.locator('a[data-choose-rule="R-6.2.2b"]').click()
    diagram_ready(page)
    expect(highlighted(page, "Task_NotifyNotAccepted")).to_have_count(1)
    expect(highlighted(page, "Task_SignContract")).to_have_count(0)


def test_the_rules_on_a_diagram_in_english(page: Page, live: Live, login):
    with live.app.app_context():
        live.web.engine.deploy([PROCESSES], actor=Actor("setup", frozenset()), comment="rules")
    login("quinn")
    page.goto("/quality/rules?lang=en")
    row = page.locator('tr[data-rule="R-6.2.2a"]')
    expect(row.locator("th")).to_contain_text("Rule 6.2.2 (a)")
    row.locator('a[data-rule-diagram="certification"]').click()
    diagram_ready(page)
    for element in ACCEPTED:
        expect(highlighted(page, element)).to_have_count(1)
    expect(page.locator(".cf-rule-overlay", has_text="Rule 6.2.2 (a)").first).to_be_attached()
    expect(page.locator("h2#diagram-title")).to_contain_text("Steps implementing Rule 6.2.2 (a)")
    page.goto("/quality/rules?lang=zh_CN")  # the session remembers the language: leave Chinese
