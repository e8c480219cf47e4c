"""The public complaint form and status lookup in a real browser, without signing in: invalid
input keeps the values and shows the field errors, a valid complaint gets its reference, the
status lookup shows the status only, and the sixth submission within an hour is refused (R-12)."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from certflow.db import db
from domain.models_cases import Complaint
from tests.browser.conftest import Live
from tests.helpers import OWNER

pytestmark = pytest.mark.browser
COMPLAINT_BPMN = Path(__file__).resolve().parents[2] / "processes" / "complaint.bpmn"


@pytest.fixture(scope="module", autouse=True)
def complaint_process(live: Live):
    with live.app.app_context():
        live.app.extensions["certflow.engine"].deploy([COMPLAINT_BPMN], actor=OWNER)


def fill(page: Page, *, subject: str = "维修拖延 Repair delayed") -> None:
    page.locator("input[name=kind][value=about_cb]").check()
    page.locator("#complaint-complainant_name").fill("林女士")
    page.locator("#complaint-complainant_contact").fill("lin@example.cn")
    page.locator("#complaint-subject").fill(subject)
    page.locator("#complaint-description").fill("审查员迟到两小时 the auditor came two hours late")


def complaint_count(live: Live) -> int:
    with live.app.app_context():
        return db.session.scalar(select(func.count()).select_from(Complaint))


def submit(page: Page) -> None:
    page.locator("#complaint-form button[type=submit]").click()


def test_public_complaint_errors_reference_status_and_rate_limit(page: Page, live: Live):
    page.goto("/complaints/new")
    page.locator("#complaint-complainant_name").fill("林女士")
    submit(page)  # the rest is missing
    expect(page.locator("#complaint-errors")).to_be_visible()
    expect(page.locator("#complaint-complainant_name")).to_have_value("林女士")
    expect(page.locator("#complaint-subject-errors")).to_be_visible()

    before = complaint_count(live)
    fill(page)
    submit(page)
    reference = page.locator("#complaint-reference").get_attribute("data-reference")
    assert re.fullmatch(r"TS-\d{4}-\d{4}", reference)
    # POST/redirect/GET (issue 10): the receipt is a page of its own; reloading it sends nothing.
    assert "/complaints/received?reference=" in page.url
    page.reload()
    expect(page.locator("#complaint-reference")).to_have_attribute("data-reference", reference)
    assert complaint_count(live) == before + 1

    page.goto(f"/complaints/status?reference={reference}")
    status = page.locator("#complaint-status")
    expect(status).to_be_visible()
    assert "林女士" not in page.locator("body").inner_text()  # status only

    for n in range(4):  # five complaints from this address within the hour …
        page.goto("/complaints/new")
        fill(page, subject=f"第 {n + 2} 件 complaint {n + 2}")
        submit(page)
        expect(page.locator("#complaint-reference")).to_be_visible()
    page.goto("/complaints/new")
    fill(page, subject="第 6 件 complaint 6")
    with page.expect_response(lambda r: r.url.endswith("/complaints/new")) as answer:
        submit(page)
    assert answer.value.status == 429  # … and the sixth is refused
