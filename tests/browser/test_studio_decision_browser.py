"""Issue 12 ("DMN") in Debian's chromium: a process owner edits one cell of the star-level
decision table with dmn-js in a draft, saves it and submits the draft; the quality manager sees
the changed rule in the review and approves; the new version's table shows the change (R-5: the
thresholds are data a process owner changes through a reviewed draft)."""

import pytest
from playwright.sync_api import Page, expect

from certflow.db import db
from engine.sources import version_sources
from tests.browser.conftest import Live
from tests.browser.studio_steps import (
    deploy_processes,
    modeler_ready,
    open_latest_review,
    open_new_draft,
    submit_for_review,
)

pytestmark = pytest.mark.browser
CELL = "InputEntry_FourStars_Score"


def test_a_process_owner_edits_a_cell_of_the_star_level_table_and_it_is_approved(
    page: Page, live: Live, login
):
    deploy_processes(live)
    with live.app.app_context():
        before = version_sources(db.session, "certification")
    assert "<text>&gt;= 90</text>" in before.files["star_level.dmn"]
    open_new_draft(page, login)
    page.locator('[data-decision-link="star_level.dmn"]').click()
    editor = page.locator("[data-decision-editor]")
    expect(editor).to_have_attribute("data-decision-ready", "true", timeout=20_000)
    expect(editor.locator(".input-cell .clause").first).to_have_text("当")  # dmn-js in Chinese
    cell = editor.locator(f'td[data-element-id="{CELL}"]')
    expect(cell).to_contain_text(">= 90")
    cell.locator("[contenteditable]").click()
    page.keyboard.press("Control+A")
    page.keyboard.type(">= 93")
    page.locator("h1").click()  # leave the cell
    expect(editor).to_have_attribute("data-dirty", "true")
    page.locator("[data-decision-save]").click()
    expect(editor).to_have_attribute("data-decision-saved", "true", timeout=20_000)
    expect(page.locator("[data-decision-status]")).to_have_text("已保存。")

    page.locator(".breadcrumb a").click()
    modeler_ready(page)
    submit_for_review(page, "四星级门槛提高到 93 分")

    open_latest_review(page, login)
    changed = page.locator('[data-decision-change="Decision_StarLevel"] tr[data-rule-change]')
    expect(changed).to_have_count(1)
    expect(changed).to_have_attribute("data-rule", "Rule_FourStars")
    expect(changed.locator("del")).to_have_text(">= 90")
    expect(changed.locator("ins")).to_have_text(">= 93")
    page.get_by_role("button", name="批准并发布").click()
    expect(page.locator("[data-deployed-version]")).to_contain_text("quinn 已批准", timeout=20_000)

    version = before.version + 1
    page.goto(f"/studio/processes/certification/versions/{version}/decisions/star_level.dmn")
    expect(page.locator('tr[data-rule="Rule_FourStars"]')).to_contain_text(">= 93")
    with live.app.app_context():
        after = version_sources(db.session, "certification")
    assert after.version == version
    assert "<text>&gt;= 93</text>" in after.files["star_level.dmn"]
