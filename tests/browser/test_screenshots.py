"""Screenshots of the main pages at a laptop's and a phone's width, and no page wider than the
window. The PNGs go to the test's temporary directory, and also to $CERTFLOW_SHOTS when set
(e.g. `CERTFLOW_SHOTS=/tmp/shots pytest tests/browser/test_screenshots.py`)."""

import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Live

pytestmark = pytest.mark.browser

WIDTHS = {"1280": (1280, 900), "390": (390, 844)}


def shoot(page: Page, name: str, directory: Path) -> Path:
    """Full-page PNG; and the page must not scroll sideways (nothing wider than the window)."""
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{name}: the page is {overflow}px wider than the window"
    path = directory / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    target = os.environ.get("CERTFLOW_SHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(target) / path.name)
    return path


@pytest.mark.parametrize("width", list(WIDTHS))
def test_screenshots(page: Page, login, start, live: Live, tmp_path, width):
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    _, key = start()
    start()
    claimed, _ = start()
    live.web.claim(live.web.open_task(claimed), "mia")
    login("mia")

    page.goto("/?tab=groups")
    expect(page.locator("table.tasks")).to_be_visible()
    shoot(page, f"inbox-{width}", tmp_path)

    page.goto(f"/?tab=groups&key={key}")
    page.get_by_role("link", name="受理评审 Acceptance review").click()
    page.check('[name="f/accepted"]')
    page.fill('[name="f/man_days"]', "0.1")
    page.fill('[name="f/reason"]', "材料齐全，人日待定 complete, man-days to be decided")
    page.get_by_role("button", name="提交并完成").click()
    expect(page.locator(".field.has-error")).to_be_visible()
    shoot(page, f"task-errors-{width}", tmp_path)

    page.goto(f"/cases/{live.records.organisation_id}")
    expect(page.locator("#timeline-title")).to_be_visible()
    shoot(page, f"case-{width}", tmp_path)

    page.goto(f"/instances/{live.seed_instance}")
    expect(page.locator("[data-diagram]")).to_have_attribute("data-diagram-ready", "true")
    shoot(page, f"instance-{width}", tmp_path)

    page.context.clear_cookies()
    login("ada")
    page.goto("/admin/users")
    expect(page.locator("table.users")).to_be_visible()
    shoot(page, f"users-{width}", tmp_path)
    page.get_by_role("link", name="+ 新建用户").click()
    page.fill("#username", "x")
    page.get_by_role("button", name="创建用户").click()
    expect(page.locator(".field.has-error").first).to_be_visible()
    shoot(page, f"user-form-{width}", tmp_path)
