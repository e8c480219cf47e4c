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
    studio = page.locator("[data-studio]")
    expect(studio).to_have_attribute("data-studio-ready", "true", timeout=20_000)
    return studio
