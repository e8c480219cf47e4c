"""The studio's test set-up (issue 12): the real processes deployed, a user holding both the
process-owner and quality-manager roles (pat), drafts created through the web pages."""

import re

import pytest

from certflow.accounts import create_user
from certflow.db import db
from domain.models_studio import ProcessDraft
from engine.service import Actor
from engine.sources import version_sources
from tests.paths import PROCESSES
from tests.web_support import PASSWORD, Web, text

CERTIFICATION = (PROCESSES / "certification.bpmn").read_text("utf-8")
DUE_P5D = '<spiffworkflow:property name="dueIn" value="P5D" />'
ACCEPTANCE_DUE = re.compile(
    r'(<bpmn:userTask id="Task_AcceptanceReview".*?)' + re.escape(DUE_P5D), re.S
)
REVIEW_PARAM = '<spiffworkflow:parameter id="man_days" type="any" value="man_days" />'


@pytest.fixture(name="studio")
def studio_fixture(web: Web) -> Web:
    with web.app.app_context():
        web.engine.deploy([PROCESSES], actor=Actor("setup", frozenset()), comment="rules")
        create_user(
            db.session,
            "pat",
            password=PASSWORD,
            roles={"process_owner", "quality_manager"},
            display_name="Pat 测试",
            now=web.clock.now(),
        )
        db.session.commit()
    return web


def post_json(browser, url: str, body: dict):
    if browser.token is None:
        browser.get("/studio")
    return browser.client.post(url, json=body, headers={"X-CSRFToken": browser.token})


def new_draft(browser, process_id: str = "certification") -> int:
    response = browser.post(f"/studio/processes/{process_id}/drafts")
    assert response.status_code == 302, text(response)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def draft(web: Web, draft_id: int) -> ProcessDraft:
    with web.app.app_context():
        row = db.session.get(ProcessDraft, draft_id)
        db.session.expunge(row)
        return row


def latest(web: Web, process_id: str = "certification"):
    with web.app.app_context():
        return version_sources(db.session, process_id)


def submit_changed_draft(web: Web, author: str) -> int:
    browser = web.browser(author)
    draft_id = new_draft(browser)
    changed = ACCEPTANCE_DUE.sub(
        r'\1<spiffworkflow:property name="dueIn" value="P7D" />', CERTIFICATION
    )
    response = post_json(browser, f"/studio/drafts/{draft_id}/save", {"xml": changed})
    assert response.get_json() == {"saved": True, "problems": []}
    assert browser.post(f"/studio/drafts/{draft_id}/submit", {"reason": ""}).status_code == 422
    response = browser.post(f"/studio/drafts/{draft_id}/submit", {"reason": "受理评审改为 7 天"})
    assert response.status_code == 303, text(response)
    assert draft(web, draft_id).status == "in_review"
    return draft_id
