"""Issue 12, "Editing" (timers, messages with payloads and variables), in Debian's chromium: a
process owner edits the payload of `certification`'s certificate_issued throw event in a draft
(the message itself shown by the stock group, chosen from the diagram's messages), a bad
expression is marked on the element by the live validation, the saved draft has the new payload
and passes `certflow validate`; a caught message's variable is checked in the field; the token
simulation speaks the page's language."""

import pytest
from lxml import etree
from playwright.sync_api import Page, expect

from certflow.db import db
from domain.models_studio import ProcessDraft
from engine.sources import validate_sources
from tests.browser.conftest import Live
from tests.browser.studio_steps import deploy_processes, modeler_ready, open_new_draft
from tests.browser.test_studio_browser import fill_entry, select_element

pytestmark = pytest.mark.browser
ISSUED = "Event_CertificateIssued"
PAYLOAD = '{"business_key": certificate["number"], "certificate_id": certificate["id"]}'
EXTENDED = (
    '{"business_key": certificate["number"], "certificate_id": certificate["id"], '
    '"issued_by": "certification"}'
)


def open_draft(page: Page, live: Live, login, process_id: str, query: str = "") -> int:
    deploy_processes(live)
    open_new_draft(page, login, process_id, query)
    return int(page.url.rsplit("/", 1)[1].split("#")[0].split("?")[0])


def test_a_process_owner_edits_a_message_payload_and_a_bad_expression_is_marked(
    page: Page, live: Live, login
):
    draft_id = open_draft(page, live, login, "certification")
    select_element(page, ISSUED)
    # The stock group shows the message, chosen from the diagram's messages.
    message = page.locator("#bio-properties-panel-messageRef")
    expect(message).to_have_value("Message_CertificateIssued")
    expect(message.locator("option")).to_contain_text(["certificate_issued", "plaque_due"])
    payload = page.locator("#bio-properties-panel-cf-messagePayload")
    expect(payload).to_have_value(PAYLOAD)
    expect(page.locator('[data-group-id="group-certflow-message"]')).to_contain_text("消息内容")

    fill_entry(page, "cf-messagePayload", '{"business_key": certificate["number"]')
    marked = page.locator(f'.djs-element.cf-problem[data-element-id="{ISSUED}"]')
    expect(marked).to_have_count(1, timeout=20_000)
    expect(page.locator(f'[data-problem-element="{ISSUED}"]')).to_contain_text(
        "message payload: syntax error"
    )
    fill_entry(page, "cf-messagePayload", EXTENDED)
    expect(marked).to_have_count(0, timeout=20_000)

    page.locator("[data-studio-save]").click()
    expect(page.locator("[data-studio-status]")).to_have_text("已保存。", timeout=20_000)
    expect(page.locator("[data-problem-count]")).to_have_text("(0)", timeout=20_000)
    with live.app.app_context():
        files = dict(db.session.get(ProcessDraft, draft_id).files)
        assert validate_sources(files, live.web.engine.registry) == []
    root = etree.fromstring(files["certification.bpmn"].encode("utf-8"))
    payloads = root.xpath(
        f"//*[@id='{ISSUED}']/*[local-name()='messageEventDefinition']"
        "/*[local-name()='extensionElements']/*[local-name()='messagePayload']/text()"
    )
    assert payloads == [EXTENDED]
    other = root.xpath("//*[@id='Event_PlaqueDue']//*[local-name()='messagePayload']/text()")
    assert other == [PAYLOAD]  # untouched


def test_a_caught_message_variable_is_checked_in_the_field(page: Page, live: Live, login):
    open_draft(page, live, login, "mark_plaque")
    select_element(page, "StartEvent_PlaqueDue")
    variable = page.locator("#bio-properties-panel-cf-messageVariable")
    expect(variable).to_have_value("plaque_due")
    expect(page.locator("#bio-properties-panel-cf-messagePayload")).to_have_count(0)
    fill_entry(page, "cf-messageVariable", "plaque due")
    entry = page.locator('[data-entry-id="cf-messageVariable"]')
    expect(entry.locator(".bio-properties-panel-error")).to_have_text(
        "不是有效的变量名（字母、数字和 _，以字母开头）"
    )
    fill_entry(page, "cf-messageVariable", "plaque_due")
    expect(entry.locator(".bio-properties-panel-error")).to_have_count(0)


def test_the_token_simulation_speaks_chinese_on_the_chinese_page(page: Page, live: Live, login):
    open_draft(page, live, login, "certification")
    select_element(page, "StartEvent_ApplicationStarted")  # zoomed to 100 %: pads are shown
    toggle = page.locator(".bts-toggle-mode")
    expect(toggle).to_contain_text("令牌模拟")
    toggle.click()
    expect(page.locator(".bts-palette")).to_be_visible()
    expect(page.locator('.bts-palette [title="重置模拟"]')).to_have_count(1)
    expect(page.locator('.bts-palette [title="显示或隐藏模拟日志"]')).to_have_count(1)
    page.locator('.bts-palette [title="显示或隐藏模拟日志"]').click()
    log = page.locator(".bts-log")
    expect(log.locator(".bts-header")).to_contain_text("模拟日志")
    expect(log.locator(".placeholder")).to_have_text("暂无记录")
    # Starting the process from its start event's "play" writes the log in Chinese too.
    start = '.djs-overlays[data-container-id="StartEvent_ApplicationStarted"] .bts-context-pad'
    page.locator(start).click()
    expect(log).to_contain_text("流程已开始", timeout=10_000)
    expect(page.locator(".bts-toggle-mode")).not_to_contain_text("Token Simulation")


def test_the_token_simulation_stays_english_on_the_english_page(page: Page, live: Live, login):
    open_draft(page, live, login, "certification", query="?lang=en")
    expect(page.locator(".bts-toggle-mode")).to_contain_text("Token Simulation")


def test_a_send_tasks_message_is_chosen_from_the_diagrams_messages(page: Page, live: Live, login):
    """The stock panel offers the message of events and receive tasks only; a send task gets the
    same choice in the certflow group (SpiffWorkflow reads its payload from the task itself)."""
    draft_id = open_draft(page, live, login, "certification")
    with live.app.app_context():
        draft = db.session.get(ProcessDraft, draft_id)
        source = draft.files["certification.bpmn"]
        throw = '<bpmn:intermediateThrowEvent id="Event_PlaqueDue" name="发放认证铜牌">'
        definition = (
            '<bpmn:messageEventDefinition id="MessageEventDefinition_PlaqueDue" '
            'messageRef="Message_PlaqueDue">'
        )
        start = source.index(throw)
        end = source.index("</bpmn:intermediateThrowEvent>", start)
        block = source[start:end] + "</bpmn:intermediateThrowEvent>"
        send = (
            block.replace(
                throw,
                throw.replace("intermediateThrowEvent", "sendTask")[:-1]
                + ' messageRef="Message_PlaqueDue">',
            )
            .replace(definition, "")
            .replace("</bpmn:messageEventDefinition>", "")
            .replace("intermediateThrowEvent>", "sendTask>")
        )
        draft.files = {**draft.files, "certification.bpmn": source.replace(block, send)}
        db.session.commit()
    page.reload()
    modeler_ready(page)
    select_element(page, "Event_PlaqueDue")
    chosen = page.locator("#bio-properties-panel-cf-sendMessage")
    expect(chosen).to_have_value("Message_PlaqueDue")
    expect(page.locator("#bio-properties-panel-cf-messagePayload")).to_have_value(PAYLOAD)
    chosen.select_option("Message_CertificateIssued")
    page.locator("[data-studio-save]").click()
    expect(page.locator("[data-studio-status]")).to_have_text("已保存。", timeout=20_000)
    with live.app.app_context():
        saved = db.session.get(ProcessDraft, draft_id).files["certification.bpmn"]
    root = etree.fromstring(saved.encode("utf-8"))
    [task] = root.xpath("//*[local-name()='sendTask'][@id='Event_PlaqueDue']")
    assert task.get("messageRef") == "Message_CertificateIssued"
    assert task.xpath("./*[local-name()='extensionElements']/*/text()") == [PAYLOAD]


def test_the_stock_timer_group_edits_our_expression_timers_and_a_bad_iso_value_is_marked(
    page: Page, live: Live, login
):
    """certflow's timers are expressions on the case data (timeDate = schedule["planning_at"]):
    the stock group shows and edits them; a literal must parse as the engine parses it."""
    draft_id = open_draft(page, live, login, "surveillance")
    timer = "Timer_PlanningTime"
    select_element(page, timer)
    expect(page.locator('[data-group-id="group-timer"]')).to_contain_text("定时器")
    kind = page.locator("#bio-properties-panel-timerEventDefinitionType")
    expect(kind).to_have_value("timeDate")
    expect(kind.locator("option:checked")).to_have_text("日期时间")
    value = page.locator("#bio-properties-panel-timerEventDefinitionValue")
    expect(value).to_have_value('schedule["planning_at"]')
    fill_entry(page, "timerEventDefinitionValue", '"2026-13-01T09:00:00+08:00"')
    expect(page.locator(f'[data-problem-element="{timer}"]')).to_contain_text(
        "is not an ISO 8601 date and time", timeout=20_000
    )
    expect(page.locator(f'.djs-element.cf-problem[data-element-id="{timer}"]')).to_have_count(1)
    fill_entry(page, "timerEventDefinitionValue", '"2026-03-01T09:00:00+08:00"')
    expect(page.locator(".djs-element.cf-problem")).to_have_count(0, timeout=20_000)
    page.locator("[data-studio-save]").click()
    expect(page.locator("[data-studio-status]")).to_have_text("已保存。", timeout=20_000)
    with live.app.app_context():
        saved = db.session.get(ProcessDraft, draft_id).files["surveillance.bpmn"]
    root = etree.fromstring(saved.encode("utf-8"))
    assert root.xpath(f"//*[@id='{timer}']//*[local-name()='timeDate']/text()") == [
        '"2026-03-01T09:00:00+08:00"'
    ]
