"""Issue 12 ("Forms") in Debian's chromium: a process owner adds a field to a form in the
studio's schema-aware editor (CodeMirror, JSON syntax errors marked inline), the live preview
shows it as the task page will, gives its English, saves the form in the draft and submits the
draft for review (ISO/IEC 17065 8.3: the deployed version changes only when it is approved)."""

import json

import pytest
from playwright.sync_api import Page, expect

from certflow.db import db
from domain.models_studio import ProcessDraft
from engine.sources import version_sources
from tests.browser.conftest import Live
from tests.browser.studio_steps import (
    deploy_processes,
    modeler_ready,
    open_new_draft,
    submit_for_review,
)

pytestmark = pytest.mark.browser
FORM = "forms/acceptance_review.json"


def test_a_field_added_in_the_form_editor_is_previewed_saved_and_submitted(
    page: Page, live: Live, login
):
    deploy_processes(live, "forms")
    with live.app.app_context():
        before = version_sources(db.session, "certification")
    open_new_draft(page, login)
    draft_url = page.url
    page.locator('[data-form-link="acceptance_review.json"]').click()
    page.locator("[data-form-structure-link]").click()
    editor = page.locator("[data-form-source]")
    expect(editor).to_have_attribute("data-source-ready", "true", timeout=20_000)
    expect(page.locator(".cm-editor")).to_be_visible()
    # CodeMirror's own styles apply under the app's CSP (constructed style sheets).
    expect(page.locator(".cm-scroller")).to_have_css("display", "flex")

    # A syntax error is marked inline, then undone.
    page.locator(".cm-line", has_text='"properties": {').click()
    page.keyboard.press("End")
    page.keyboard.type(" oops")
    marks = page.locator(".cm-lint-marker-error, .cm-lintRange-error, .cm-lintPoint-error")
    expect(marks.first).to_be_attached(timeout=10_000)
    expect(page.locator(".cm-lint-marker-error")).to_be_visible()  # in the gutter, on the line
    expect(editor).to_have_attribute("data-preview-state", "refused", timeout=10_000)
    expect(page.locator("[data-preview-error]")).to_contain_text("JSON")
    for _ in " oops":
        page.keyboard.press("Backspace")
    expect(marks).to_have_count(0, timeout=10_000)

    # A new field, typed as JSON (the editor closes brackets and quotes as they are typed).
    page.keyboard.press("Enter")
    page.keyboard.type('"site_count": {"type": "integer", "title": "场所数量", "minimum": 1},')
    preview = page.locator("[data-source-preview]")
    expect(preview.locator('[name="f/site_count"]')).to_be_visible(timeout=10_000)
    expect(preview).to_contain_text("场所数量")
    row = page.locator("[data-english-row]", has=page.locator('input[name=zh][value="场所数量"]'))
    row.locator("input[name=en]").fill("Number of sites")
    page.locator("[data-source-save]").click()
    expect(page.locator(".flash-success")).to_contain_text("表单已保存", timeout=20_000)
    expect(page.locator("[data-source-preview] [name='f/site_count']")).to_be_visible()

    # Schema-aware: a check is chosen from the registered ones (left unsaved).
    page.locator(".cm-line", has_text='"properties": {').click()
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    page.keyboard.type('"x-checks": ["audit.clo')
    completion = page.locator(".cm-tooltip-autocomplete")
    expect(completion).to_contain_text("audit.closing_meeting_not_future", timeout=10_000)
    page.keyboard.press("Escape")

    page.goto(draft_url)
    modeler_ready(page)
    submit_for_review(page, "受理评审增加场所数量")

    with live.app.app_context():
        draft = db.session.query(ProcessDraft).order_by(ProcessDraft.id.desc()).first()
        schema = json.loads(draft.files[FORM])
        assert schema["properties"]["site_count"]["title"] == "场所数量"
        assert draft.status != "editing"
        # Not deployed until approved.
        assert version_sources(db.session, "certification").version == before.version
