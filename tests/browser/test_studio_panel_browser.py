"""Issue 12, "Editing", in Debian's chromium: a process owner opens `certification` in a draft
and, in the properties panel, chooses a lane's role from the role catalogue, gives a user task a
follow-up time (a wrong one is refused in the field, as `certflow validate` refuses it), a guard
and a validator from the registered ones and instructions with their preview rendered by the
server against a sample case; the saved draft has them and still passes `certflow validate`."""

import re

import pytest
from lxml import etree
from playwright.sync_api import Page, expect

from certflow.db import db
from domain.models_studio import ProcessDraft
from engine.sources import validate_sources
from tests.browser.conftest import Live
from tests.browser.studio_steps import deploy_processes, modeler_ready, open_new_draft
from tests.browser.test_studio_browser import ACCEPTANCE, fill_entry, select_element

pytestmark = pytest.mark.browser
LANE = "Lane_MysteryShopper"
WRITTEN = "请核对 **{{ org_name }}** 的申请（{{ case }}）。"


def prop(root, element_id: str, name: str) -> list[str]:
    return root.xpath(f"//*[@id='{element_id}']//*[local-name()='property'][@name='{name}']/@value")


def test_a_process_owner_sets_lane_role_follow_up_guard_and_instructions_in_the_panel(
    page: Page, live: Live, login
):
    deploy_processes(live)
    studio = open_new_draft(page, login)

    # The lane's role, from the role catalogue (labels in the page's language).
    select_element(page, LANE)
    role = page.locator("#bio-properties-panel-cf-role")
    expect(role).to_have_value("mystery_shopper")
    expect(role.locator('option[value="auditor"]')).to_have_text("审查员 (auditor)")
    role.select_option("auditor")
    # A lane named by the role's Chinese name (as a desktop modeler's file may be) shows that
    # role; an unknown name is shown as it is, never as another role.
    draft_id = int(page.url.rsplit("/", 1)[1].split("#")[0])
    with live.app.app_context():
        draft = db.session.get(ProcessDraft, draft_id)
        source = draft.files["certification.bpmn"]
        renamed = source.replace('id="Lane_Market" name="market"', 'id="Lane_Market" name="市场部"')
        renamed = renamed.replace('id="Lane_Client" name="client"', 'id="Lane_Client" name="Sales"')
        draft.files = {**draft.files, "certification.bpmn": renamed}
        db.session.commit()
    page.reload()
    modeler_ready(page)
    select_element(page, "Lane_Market")
    expect(role).to_have_value("market")
    select_element(page, "Lane_Client")
    expect(role).to_have_value("Sales")
    role.select_option("client")
    select_element(page, LANE)
    role.select_option("auditor")

    select_element(page, ACCEPTANCE)
    # A follow-up time the engine could not read is refused in the field and not applied.
    fill_entry(page, "cf-followUpIn", "3 days")
    entry = page.locator('[data-entry-id="cf-followUpIn"]')
    expect(entry.locator(".bio-properties-panel-error")).to_have_text(
        "不是 ISO 8601 时长（例如 P5D、PT4H）"
    )
    fill_entry(page, "cf-followUpIn", "P3D")
    expect(entry.locator(".bio-properties-panel-error")).to_have_count(0)
    guard = page.locator("#bio-properties-panel-cf-guard")
    expect(guard).to_have_value("")
    expect(guard.locator("option")).to_contain_text(["—", "appointed_team_leader"])
    guard.select_option("not_on_audit_team")
    page.locator("#bio-properties-panel-cf-validate").select_option("decision_fits_audit")
    # The instructions and their preview, rendered as the task page renders them.
    instructions = page.locator("#bio-properties-panel-cf-instructions")
    expect(instructions).to_have_value(re.compile(r"^## 受理评审 — \{\{ application\.number \}\}"))
    original = instructions.input_value()
    instructions.fill(WRITTEN)
    instructions.press("Tab")
    preview = page.locator("[data-cf-instructions-preview] .cf-instructions-html")
    expect(preview.locator("strong")).to_have_text("示例服务有限公司", timeout=10_000)
    expect(preview).to_contain_text("CF-2026-0001")
    # The live validation has the new text (it needs its English in processes.po before it
    # may be deployed); the original text, put back, is translated.
    expect(page.locator('[data-problem-element="Task_AcceptanceReview"]')).to_contain_text(
        f"no English translation: {WRITTEN}", timeout=20_000
    )
    instructions.fill(original)
    instructions.press("Tab")
    expect(preview).to_contain_text("受理评审 — CF-2026-0001")

    expect(studio).to_have_attribute("data-dirty", "true")
    page.locator("[data-studio-save]").click()
    expect(page.locator("[data-studio-status]")).to_have_text("已保存。", timeout=20_000)
    expect(page.locator("[data-problem-count]")).to_have_text("(0)", timeout=20_000)
    draft_id = int(page.url.rsplit("/", 1)[1].split("#")[0])
    with live.app.app_context():
        files = dict(db.session.get(ProcessDraft, draft_id).files)
        assert validate_sources(files, live.web.engine.registry) == []
    root = etree.fromstring(files["certification.bpmn"].encode("utf-8"))
    assert root.xpath(f"//*[@id='{LANE}']/@name") == ["auditor"]
    assert root.xpath("//*[@id='Lane_Client']/@name") == ["client"]
    assert root.xpath("//*[@id='Lane_Market']/@name") == ["市场部"]  # untouched
    assert prop(root, ACCEPTANCE, "followUpIn") == ["P3D"]
    assert prop(root, ACCEPTANCE, "guard") == ["not_on_audit_team"]
    assert prop(root, ACCEPTANCE, "validate") == ["decision_fits_audit"]
    assert prop(root, ACCEPTANCE, "dueIn") == ["P5D"]  # untouched
    [text] = root.xpath(f"//*[@id='{ACCEPTANCE}']//*[local-name()='instructionsForEndUser']/text()")
    assert text == original  # the textarea round trip loses nothing


def test_a_process_owner_chooses_called_processes_and_decisions_in_the_panel(
    page: Page, live: Live, login
):
    """Call activities choose from the processes of the draft's files (what validation
    resolves), business rule tasks from the decisions of its DMN files; a rule task calling
    nothing is marked at once."""
    deploy_processes(live)
    open_new_draft(page, login)

    select_element(page, "Task_RescoreStarLevel")
    decision = page.locator("#bio-properties-panel-cf-calledDecision")
    expect(decision).to_have_value("Decision_StarLevel")
    expect(decision.locator('option[value="Decision_StarLevel"]')).to_contain_text("星级判定")
    decision.select_option("")
    expect(
        page.locator('.djs-element.cf-problem[data-element-id="Task_RescoreStarLevel"]')
    ).to_have_count(1, timeout=20_000)
    decision.select_option("Decision_StarLevel")
    expect(page.locator(".djs-element.cf-problem")).to_have_count(0, timeout=20_000)

    select_element(page, "CallActivity_Nonconformities")
    called = page.locator("#bio-properties-panel-cf-calledElement")
    expect(called).to_have_value("nonconformity")
    expect(called.locator("option")).to_have_text(
        ["—", "不符合整改 (nonconformity)", "现场审查 (onsite_audit)"]
    )
    called.select_option("onsite_audit")
    page.locator("[data-studio-save]").click()
    expect(page.locator("[data-studio-status]")).to_have_text("已保存。", timeout=20_000)
    draft_id = int(page.url.rsplit("/", 1)[1].split("#")[0])
    with live.app.app_context():
        files = dict(db.session.get(ProcessDraft, draft_id).files)
        assert validate_sources(files, live.web.engine.registry) == []
    root = etree.fromstring(files["certification.bpmn"].encode("utf-8"))
    assert root.xpath("//*[@id='CallActivity_Nonconformities']/@calledElement") == ["onsite_audit"]
    assert root.xpath(
        "//*[@id='Task_RescoreStarLevel']//*[local-name()='calledDecisionId']/text()"
    ) == ["Decision_StarLevel"]
