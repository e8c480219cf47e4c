"""The web app in a real browser (Debian's chromium through Playwright): signing in, claiming,
field errors with the entered values kept, completing a task, uploading and downloading a file,
refused access to another organisation's case, the highlighted diagram, switching language."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Live

pytestmark = pytest.mark.browser


def open_review(page: Page, key: str) -> None:
    """From the inbox (my groups' tasks, filtered by the business key) to the review task."""
    page.goto(f"/?tab=groups&key={key}")
    page.get_by_role("link", name="受理评审 Acceptance review").click()
    expect(page.locator("h1")).to_have_text("受理评审 Acceptance review")


def test_sign_in_and_claim_a_task(page: Page, login, start):
    _, key = start()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))
    login("mia")
    expect(page.locator("h1")).to_have_text("待办")
    page.goto(f"/?tab=groups&key={key}")
    row = page.locator("tr", has_text=key)
    expect(row).to_have_count(1)
    row.get_by_role("button", name="认领").click()
    expect(page.locator(".flash-success")).to_contain_text(
        "您已认领任务：受理评审 Acceptance review"
    )
    page.goto(f"/?tab=mine&key={key}")
    expect(page.locator("tr", has_text=key)).to_contain_text("mia")


def test_invalid_form_shows_field_errors_and_keeps_values_then_completes(
    page: Page, login, start, live: Live
):
    instance, key = start()
    login("mia")
    open_review(page, key)
    page.check('[name="f/accepted"]')
    page.fill('[name="f/man_days"]', "0.1")
    page.fill('[name="f/reason"]', "材料齐全 complete <b>set</b>")
    page.get_by_role("button", name="提交并完成").click()
    expect(page.locator(".flash-error").first).to_contain_text("请更正标出的字段")
    expect(page.locator(".field.has-error")).to_contain_text("不得小于 0.5。")
    expect(page.locator('[name="f/man_days"]')).to_have_value("0.1")
    expect(page.locator('[name="f/reason"]')).to_have_value("材料齐全 complete <b>set</b>")
    expect(page.locator('[name="f/accepted"]')).to_be_checked()

    page.fill('[name="f/man_days"]', "2.5")
    page.get_by_role("button", name="提交并完成").click()
    expect(page.locator(".flash-success")).to_contain_text("任务已完成：受理评审 Acceptance review")
    expect(page).to_have_url(re.compile(r"/(\?.*)?$"))
    # the instance moved on: the client's contract task is active now
    page.goto(f"/instances/{instance}")
    expect(page.locator("[data-diagram]")).to_have_attribute("data-diagram-ready", "true")
    expect(page.locator("[data-diagram]")).to_have_attribute(
        "data-active", '["BoundaryTimer_ContractOverdue", "Task_SignContract"]'
    )
    expect(page.locator(".events")).to_contain_text("任务已完成")
    assert live.web.task(live.web.open_task(instance)).element_id == "Task_SignContract"


def test_upload_a_file_and_download_it(page: Page, login, start, tmp_path):
    start(process="web_form_flow")
    login("mia")
    page.goto("/?tab=groups&process=web_form_flow")
    page.get_by_role("link", name="填写表单 Fill in the form").first.click()
    evidence = tmp_path / "证据 evidence.txt"
    evidence.write_text("服务记录 service record\n", encoding="utf-8")
    page.set_input_files('[name="f/evidence_file"]', str(evidence))
    page.fill('[name="f/title"]', "上传测试 upload")
    page.get_by_role("button", name="保存草稿").click()
    expect(page.locator(".flash-success")).to_contain_text("草稿已保存")
    link = page.locator(".file-kept a", has_text="证据 evidence.txt")
    expect(link).to_be_visible()
    expect(page.locator('[name="f/title"]')).to_have_value("上传测试 upload")
    with page.expect_download() as info:
        link.click()  # served as an attachment
    download = info.value
    assert download.suggested_filename == "证据 evidence.txt"
    assert Path(download.path()).read_text(encoding="utf-8") == "服务记录 service record\n"
    # the same file through the page's session, as the server sends it
    response = page.request.get(link.get_attribute("href"))
    assert response.status == 200 and response.body() == evidence.read_bytes()


def test_a_client_cannot_open_another_organisations_case(page: Page, login, live: Live):
    login("cora")  # client of organisation B
    response = page.goto(f"/cases/{live.records.organisation_id}")
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("未找到")
    response = page.goto(f"/files/{live.records.file_id}")
    assert response.status == 404
    # her own case is there
    page.goto("/cases")
    expect(page.locator("h1")).to_have_text("乙公司 Beta Ltd")


def test_the_diagram_highlights_the_active_task(page: Page, login, start, live: Live):
    instance, _ = start()
    live.web.to_contract(instance)
    login("mia")  # she did the review
    page.goto(f"/instances/{instance}")
    box = page.locator("[data-diagram]")
    expect(box).to_have_attribute("data-diagram-ready", "true", timeout=15_000)
    active = page.locator('svg g.djs-element[data-element-id="Task_SignContract"]')
    expect(active).to_have_class(re.compile(r"\bcf-active\b"))
    done = page.locator('svg g.djs-element[data-element-id="Task_Review"]')
    expect(done).to_have_class(re.compile(r"\bcf-completed\b"))
    expect(page.locator('g.djs-element[data-element-id="Task_ChaseContract"]')).not_to_have_class(
        re.compile(r"\bcf-")
    )
    assert "签订合同 Sign contract" in (active.text_content() or "")  # the diagram's own label
    expect(page.locator(".bjs-powered-by")).to_be_visible()  # the bpmn.io watermark (licence)
    # the client sees its own task highlighted, not the certification body's steps
    page.context.clear_cookies()
    login("carl")
    page.goto(f"/instances/{instance}")
    expect(box).to_have_attribute("data-diagram-ready", "true", timeout=15_000)
    expect(active).to_have_class(re.compile(r"\bcf-active\b"))
    expect(done).not_to_have_class(re.compile(r"\bcf-"))


def test_switch_language(page: Page, login, live: Live):
    login("carl")
    page.goto(f"/cases/{live.records.organisation_id}")
    expect(page.locator("#tasks-title")).to_contain_text("待办任务")
    page.get_by_role("link", name="English").click()
    expect(page.locator("#tasks-title")).to_contain_text("Open tasks")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto("/")
    expect(page.locator("h1")).to_have_text("Inbox")
    page.get_by_role("link", name="中文").click()
    expect(page.locator("h1")).to_have_text("待办")


def test_the_diagram_marks_every_reached_element_and_the_path_taken(
    page: Page, login, start, live: Live
):
    # Issue 10: not only user tasks — script and service tasks, gateways and events too, and the
    # sequence flows the instance went along; at a readable zoom even on a narrow screen.
    instance, _ = start()
    live.web.to_contract(instance)
    page.set_viewport_size({"width": 520, "height": 800})
    login("ada")
    page.goto(f"/instances/{instance}")
    box = page.locator("[data-diagram]")
    expect(box).to_have_attribute("data-diagram-ready", "true", timeout=15_000)
    for element in (
        "StartEvent_Received",
        "Task_ComputeDays",  # script task
        "Task_Review",
        "Gateway_Accepted",
        "Task_RecordAcceptance",  # service task
    ):
        expect(page.locator(f'g.djs-element[data-element-id="{element}"]')).to_have_class(
            re.compile(r"\bcf-completed\b")
        )
    for flow in ("Flow_ToComputeDays", "Flow_ToReview", "Flow_Accepted", "Flow_ToContract"):
        expect(page.locator(f'g.djs-element[data-element-id="{flow}"]')).to_have_class(
            re.compile(r"\bcf-taken\b")
        )
    for flow in ("Flow_NotAccepted", "Flow_Contracted"):  # not (yet) taken
        expect(page.locator(f'g.djs-element[data-element-id="{flow}"]')).not_to_have_class(
            re.compile(r"\bcf-taken\b")
        )
    assert box.get_attribute("data-flows-marked") == "5"  # with Flow_ToGateway
    assert float(box.get_attribute("data-zoom")) >= 0.7  # not "fit" at an unreadable size
