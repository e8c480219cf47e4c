"""Issue 12 in Debian's chromium: a process owner opens `certification` in the studio's modeler,
changes a user task's due time and a service task's parameter in the properties panel,
introduces an error (clears a required parameter) and sees it marked on the element and in the
list, clicks it to select the element, fixes it and submits with a reason; the quality manager
sees the changed elements highlighted in the diff and approves; the new version is deployed."""

import pytest
from lxml import etree
from playwright.sync_api import Page, expect

from certflow.db import db
from domain.models_studio import ProcessDraft
from engine.sources import version_sources
from tests.browser.conftest import Live
from tests.browser.studio_steps import (
    deploy_processes,
    open_latest_review,
    open_new_draft,
    submit_for_review,
)

pytestmark = pytest.mark.browser
ACCEPTANCE = "Task_AcceptanceReview"
RECORD = "Task_RecordAcceptanceReview"


def select_element(page: Page, element_id: str) -> None:
    """Through a link to the element (the URL's fragment: selected and zoomed to 100 %)."""
    page.evaluate("id => { window.location.hash = id; }", element_id)
    expect(page.locator(f'.djs-element.selected[data-element-id="{element_id}"]')).to_have_count(1)


def fill_entry(page: Page, entry: str, value: str) -> None:
    field = page.locator(f"#bio-properties-panel-{entry}")
    field.fill(value)
    field.press("Tab")  # text entries apply after a short debounce


def test_a_process_owner_changes_a_diagram_and_the_quality_manager_approves_it(
    page: Page, live: Live, login
):
    deploy_processes(live)
    with live.app.app_context():
        before = version_sources(db.session, "certification")
    studio = open_new_draft(page, login)
    expect(studio).to_have_attribute("data-problems-checked", "1", timeout=20_000)
    expect(page.locator("[data-problem-count]")).to_have_text("(0)")
    # bpmn-js speaks the page's language (Chinese by default).
    expect(page.locator('.djs-palette [aria-label="创建任务"]')).to_have_count(1)
    # The bpmn.io watermark stays visible beside the properties panel (licence).
    expect(page.locator(".bjs-powered-by")).to_be_visible()

    select_element(page, ACCEPTANCE)
    expect(page.locator("#bio-properties-panel-cf-dueIn")).to_have_value("P5D")
    fill_entry(page, "cf-dueIn", "P7D")

    select_element(page, RECORD)
    expect(page.locator("#bio-properties-panel-cf-operator")).to_have_value(
        "application.record_review"
    )
    fill_entry(page, "cf-param-scope", 'scope or application["scope"]')
    # The error: a required parameter removed → marked on its element and listed.
    fill_entry(page, "cf-param-man_days", "")
    problem = page.locator(f'[data-problem-element="{RECORD}"]')
    expect(problem).to_contain_text("man_days", timeout=20_000)
    expect(page.locator(f'.djs-element.cf-problem[data-element-id="{RECORD}"]')).to_have_count(1)
    select_element(page, ACCEPTANCE)
    page.evaluate("() => { window.location.hash = ''; }")
    problem.locator("button").click()  # the list selects the element
    expect(page.locator(f'.djs-element.selected[data-element-id="{RECORD}"]')).to_have_count(1)
    fill_entry(page, "cf-param-man_days", "man_days")
    expect(page.locator("[data-problem-count]")).to_have_text("(0)", timeout=20_000)
    expect(page.locator(".djs-element.cf-problem")).to_have_count(0)

    submit_for_review(page, "受理评审期限改为 7 天；认证范围取申请中的范围")

    open_latest_review(page, login)
    diff = page.locator("[data-studio-diff]")
    expect(diff).to_have_attribute("data-diff-ready", "true", timeout=20_000)
    for element_id in (ACCEPTANCE, RECORD):
        expect(
            page.locator(f'.djs-element.cf-changed[data-element-id="{element_id}"]')
        ).to_have_count(1)
        expect(
            page.locator(f'tr[data-diff-kind="changed"][data-element="{element_id}"]')
        ).to_be_visible()
    expect(page.locator("tr[data-diff-kind]")).to_have_count(2)
    expect(page.locator(f'tr[data-element="{ACCEPTANCE}"]')).to_contain_text("dueIn: P5D → P7D")
    # The validation result and the effect on the rules (none: no step gained or lost).
    expect(page.locator('[data-review-validation="ok"]')).to_contain_text("校验未发现草稿中的问题")
    expect(page.locator("[data-rules-effect-empty]")).to_be_visible()
    page.get_by_role("button", name="批准并发布").click()
    expect(page.locator("[data-deployed-version]")).to_contain_text("quinn 已批准", timeout=20_000)

    # Any two versions compared the same way: the changed steps coloured on the newer one.
    page.goto("/studio")
    page.locator('tr[data-process="certification"] a[data-compare]').click()
    expect(diff).to_have_attribute("data-diff-ready", "true", timeout=20_000)
    for element_id in (ACCEPTANCE, RECORD):
        expect(
            page.locator(f'.djs-element.cf-changed[data-element-id="{element_id}"]')
        ).to_have_count(1)

    with live.app.app_context():
        after = version_sources(db.session, "certification")
    assert after.version == before.version + 1
    assert 'name="dueIn" value="P7D"' in after.files["certification.bpmn"]
    root = etree.fromstring(after.files["certification.bpmn"].encode("utf-8"))
    [scope] = root.xpath(f"//*[@id='{RECORD}']//*[local-name()='parameter'][@id='scope']/@value")
    assert scope == 'scope or application["scope"]'


def test_a_process_owner_chooses_the_rules_of_a_step_from_the_catalogue(
    page: Page, live: Live, login
):
    """Issue 12: the rules a step implements, chosen in the properties panel from the rules
    catalogue (规则第x.y条 with its text), are written into the step's documentation."""
    deploy_processes(live)
    open_new_draft(page, login)
    select_element(page, ACCEPTANCE)
    rules = page.locator("[data-cf-rules]")
    expect(rules.locator('[data-cf-rule="R-6.2.1"]')).to_contain_text("规则第6.2.1条")
    expect(rules.locator("[data-cf-rule-remove]")).to_have_count(1)
    choose = page.locator("#bio-properties-panel-cf-rule-add")
    expect(choose.locator('option[value="R-7.1.1"]')).to_contain_text("规则第7.1.1条")
    choose.select_option("R-7.1.1")
    expect(rules.locator('[data-cf-rule="R-7.1.1"]')).to_contain_text("规则第7.1.1条")
    expect(choose.locator('option[value="R-7.1.1"]')).to_have_count(0)  # chosen once
    page.locator("[data-studio-save]").click()
    expect(page.locator("[data-studio-status]")).to_have_text("已保存。", timeout=20_000)
    draft_id = int(page.url.rsplit("/", 1)[1].split("#")[0])
    with live.app.app_context():
        saved = db.session.get(ProcessDraft, draft_id).files["certification.bpmn"]
    root = etree.fromstring(saved.encode("utf-8"))
    [doc] = root.xpath(f"//*[@id='{ACCEPTANCE}']/*[local-name()='documentation']/text()")
    assert doc.startswith("R-6.2.1, R-7.1.1: 评审申请材料")
    # Removing it from the list takes it out of the documentation again.
    page.locator('[data-cf-rule-remove="R-7.1.1"]').click()
    expect(rules.locator('[data-cf-rule="R-7.1.1"]')).to_have_count(0)
    expect(page.locator("#bio-properties-panel-cf-rule-add option[value='R-7.1.1']")).to_have_count(
        1
    )
    # A rule traceability.yaml maps to the step stays listed (edited in that file, not here).
    page.locator('[data-cf-rule-remove="R-6.2.1"]').click()
    expect(rules.locator('[data-cf-rule="R-6.2.1"]')).to_contain_text("追溯数据中列出")
    expect(rules.locator("[data-cf-rule-remove]")).to_have_count(0)


def test_a_process_owner_previews_and_edits_a_task_form_in_a_draft(page: Page, live: Live, login):
    """Issue 12, "Forms": the selected user task's form shown as the task page renders it; its
    field title edited in the draft (with its English), the preview following; the deployed
    version unchanged."""
    deploy_processes(live)
    open_new_draft(page, login)
    select_element(page, ACCEPTANCE)
    pane = page.locator("[data-studio-form-pane]")
    expect(pane).to_have_attribute("data-form", "acceptance_review.json")
    expect(pane.locator("[data-form-preview] h2")).to_have_text("受理评审")
    expect(pane.locator('label[for="f-scope"]')).to_have_text("确定的认证范围")
    pane.locator("[data-form-pane-edit]").click()
    page.locator('[name="scope:title"]').fill("本次认证范围")
    page.locator('[name="scope:title@en"]').fill("Scope of this certification")
    page.locator("[data-form-editor] button[type=submit]").click()
    expect(page.locator('[data-preview-card] label[for="f-scope"]')).to_have_text("本次认证范围")
    with live.app.app_context():
        deployed = version_sources(db.session, "certification").files
    assert "本次认证范围" not in deployed["forms/acceptance_review.json"]
