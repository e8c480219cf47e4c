"""The steps every studio walk starts with (issue 12): the processes deployed, the process owner
signed in, a new draft of a process opened in the modeler and ready."""

from playwright.sync_api import Locator, Page, expect

from engine.service import Actor
from tests.browser.conftest import Live
from tests.paths import PROCESSES


def deploy_processes(live: Live, comment: str = "rules") -> None:
    with live.app.app_context():
        live.web.engine.deploy([PROCESSES], actor=Actor("setup", frozenset()), comment=comment)


def open_new_draft(
    page: Page, login, process_id: str = "certification", query: str = ""
) -> Locator:
    """Olga, the process owner, starts a new draft of `process_id` from the studio's list; the
    modeler is loaded when this returns (the studio element, for more waiting)."""
    login("olga")
    page.goto(f"/studio{query}")
    page.locator(f'tr[data-process="{process_id}"] form[action$="/drafts"] button').click()
    return modeler_ready(page)


def modeler_ready(page: Page) -> Locator:
    """Wait until the draft page's modeler has loaded the diagram; the studio element."""
    studio = page.locator("[data-studio]")
    expect(studio).to_have_attribute("data-studio-ready", "true", timeout=20_000)
    return studio


def submit_for_review(page: Page, reason: str) -> None:
    """The open draft goes to the quality manager's review, with its reason."""
    page.fill("#reason", reason)
    page.locator("[data-studio-submit] button[type=submit]").click()
    expect(page.locator(".flash-success")).to_contain_text("已提交评审", timeout=20_000)


def open_latest_review(page: Page, login) -> None:
    """Quinn, the quality manager, signs in and opens the review of the latest submitted draft."""
    page.context.clear_cookies()
    login("quinn")
    page.goto("/studio")
    page.locator("tr[data-draft] a", has_text="评审").last.click()
