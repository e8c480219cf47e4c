"""Issue 12 ("live validation") in Debian's chromium: bpmnlint runs in the studio's modeler (rules
of tools/vendor-bpmn-js/.bpmnlintrc) — a problem introduced while editing is marked on its
element and listed beside the server's `certflow validate` result, the list selects the
element, the fix makes it disappear; the token simulation can be switched on for training and
review."""

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Live
from tests.browser.studio_steps import deploy_processes, modeler_ready, open_new_draft
from tests.browser.test_studio_browser import select_element

pytestmark = pytest.mark.browser
FLOW = "Flow_ToRecordAcceptanceReview"  # the only incoming flow of the task below
RECORD = "Task_RecordAcceptanceReview"
MARK = f'.djs-overlays[data-container-id="{RECORD}"] .bjsl-overlay'  # the linter's mark


def open_checked_draft(page: Page, live: Live, login) -> None:
    deploy_processes(live)
    studio = open_new_draft(page, login)
    expect(studio).to_have_attribute("data-problems-checked", "1", timeout=20_000)


def test_a_lint_problem_is_marked_on_its_element_listed_and_gone_when_fixed(
    page: Page, live: Live, login
):
    open_checked_draft(page, live, login)
    studio = page.locator("[data-studio]")
    # The committed diagram lints clean with the chosen rules.
    expect(studio).not_to_have_attribute("data-lint-checked", "0", timeout=20_000)
    expect(studio).to_have_attribute("data-lint-ids", "")
    expect(page.locator("[data-problem-count]")).to_have_text("(0)")

    select_element(page, FLOW)
    page.locator('.djs-context-pad [data-action="delete"]').click()
    lint = page.locator(f'li[data-lint-rule="no-implicit-start"][data-problem-element="{RECORD}"]')
    expect(lint).to_contain_text("元素没有流入的顺序流", timeout=20_000)
    expect(page.locator(MARK)).to_have_count(1)
    select_element(page, "Task_AcceptanceReview")
    page.evaluate("() => { window.location.hash = ''; }")
    lint.locator("button").click()  # the list selects the element
    expect(page.locator(f'.djs-element.selected[data-element-id="{RECORD}"]')).to_have_count(1)

    # Fixed (the deletion undone): the finding and its mark are gone.
    page.locator("[data-studio-canvas] svg[tabindex]").first.focus()
    page.keyboard.press("Control+z")
    expect(lint).to_have_count(0, timeout=20_000)
    expect(page.locator(MARK)).to_have_count(0)
    expect(studio).to_have_attribute("data-lint-ids", "")
    # The same in English.
    page.goto(page.url.split("#")[0] + "?lang=en")
    modeler_ready(page)
    select_element(page, FLOW)
    page.locator('.djs-context-pad [data-action="delete"]').click()
    expect(
        page.locator(f'li[data-lint-rule="no-implicit-start"][data-problem-element="{RECORD}"]')
    ).to_contain_text("Modelling check · ", timeout=20_000)
    expect(page.locator(".bjsl-button")).to_be_visible()
    expect(page.locator(".bjs-powered-by")).to_be_visible()  # the watermark stays visible


def test_the_token_simulation_can_be_switched_on_in_the_draft_editor(page: Page, live: Live, login):
    open_checked_draft(page, live, login)
    expect(page.locator(".bts-palette")).to_be_hidden()
    page.locator(".bts-toggle-mode").click()
    expect(page.locator(".bts-palette")).to_be_visible()
    expect(page.locator(".bts-context-pad").first).to_be_attached()  # start events get "play"
    expect(page.locator(".bjs-powered-by")).to_be_visible()
