"""Who may use the studio (issue 12): a role × endpoint matrix over every studio endpoint.

The allowlist (certflow/permissions.py): EDIT_DEFINITIONS (process owners) edit, import, validate,
save and submit — a draft only by its author; REVIEW_DEFINITIONS (quality managers) see the list,
the drafts, the versions and review; MIGRATE_INSTANCES (process owners and admin) see the running
cases of a version and move them; everyone else gets 403, logged."""

import io

from sqlalchemy import select

from certflow.db import db
from tests.paths import PROCESSES
from tests.studio_support import CERTIFICATION, new_draft, post_json, studio_fixture  # noqa: F401
from tests.web_support import Web, text, web_fixture  # noqa: F401
from webapp.models import AccessLog

ENDPOINTS = [
    "index",
    "new_draft",
    "import_file",
    "export_version",
    "edit",
    "draft_source",
    "validate",
    "save",
    "submit",
    "review",
    "decide",
    "compare",
    "form_edit",
    "form_save",
    "form_preview",
    "decision_version",
    "decision_draft",
    "running_cases",
    "migrate_cases",
    "move_back",
    "decision_source",
    "decision_save",
    "form_source",
    "form_source_preview",
    "form_source_save",
    "instructions_preview",
]
DENIED = dict.fromkeys(ENDPOINTS, 403)
# olga owns the draft; the submit is refused (no reason: 422) and nothing is under review (404).
OWNER = {
    "index": 200,
    "new_draft": 302,
    "import_file": 303,  # no file chosen: back to the list with the message
    "export_version": 200,
    "edit": 200,
    "draft_source": 200,
    "validate": 200,
    "save": 200,
    "submit": 422,
    "review": 200,
    "decide": 403,
    "compare": 200,
    "form_edit": 200,
    "form_save": 303,  # nothing changed: back to the editor
    "form_preview": 200,
    "decision_version": 200,
    "decision_draft": 200,
    **{"running_cases": 200, "migrate_cases": 422, "move_back": 404},
    "decision_source": 200,
    "decision_save": 200,  # the same table: nothing to save
    "form_source": 200,
    "form_source_preview": 200,
    "form_source_save": 303,  # the same form: nothing to save
    "instructions_preview": 200,
}
REVIEWER = {
    **DENIED,
    "index": 200,
    "export_version": 200,
    "edit": 200,
    "draft_source": 200,
    "review": 200,
    "decide": 404,  # allowed to decide, but this draft is not under review
    "compare": 200,
    "form_edit": 200,  # reads the form, cannot save it
    "form_preview": 200,
    "decision_version": 200,
    "decision_draft": 200,
    "decision_source": 200,  # reads the table, cannot save it
    "form_source": 200,  # reads the form's structure, cannot save it
    "form_source_preview": 200,
    "instructions_preview": 200,  # reads a step's instructions as the task page shows them
}
MATRIX = {
    "olga": OWNER,
    "quinn": REVIEWER,
    # admin: the list of processes and the running cases of a version (MIGRATE_INSTANCES);
    # nothing chosen → 422.
    "ada": {**DENIED, "index": 200, "running_cases": 200, "migrate_cases": 422, "move_back": 404},
    "mia": DENIED,
    "hank": DENIED,
    "carl": DENIED,
}


def call(browser, endpoint: str, draft_id: int):
    base = f"/studio/drafts/{draft_id}"
    process = "/studio/processes/certification"
    if endpoint == "index":
        return browser.get("/studio")
    if endpoint == "new_draft":
        return browser.post(f"{process}/drafts")
    if endpoint == "import_file":
        return browser.post(f"{process}/import", {"file": (io.BytesIO(b""), "empty.bpmn")})
    if endpoint == "export_version":
        return browser.get(f"{process}/versions/1.bpmn")
    if endpoint == "edit":
        return browser.get(base)
    if endpoint == "draft_source":
        return browser.get(f"{base}/draft.bpmn")
    if endpoint in ("validate", "save"):
        return post_json(browser, f"{base}/{endpoint}", {"xml": CERTIFICATION})
    if endpoint == "instructions_preview":
        return post_json(browser, f"{base}/instructions-preview", {"text": "**{{ case }}**"})
    if endpoint == "submit":
        return browser.post(f"{base}/submit", {"reason": ""})
    if endpoint == "review":
        return browser.get(f"{base}/review")
    if endpoint == "decision_version":
        return browser.get(f"{process}/versions/1/decisions/star_level.dmn")
    if endpoint == "decision_draft":
        return browser.get(f"{base}/decisions/star_level.dmn")
    if endpoint == "decision_source":
        return browser.get(f"{base}/decisions/star_level.dmn/source")
    if endpoint == "decision_save":
        table = (PROCESSES / "star_level.dmn").read_text("utf-8")
        return post_json(browser, f"{base}/decisions/star_level.dmn/save", {"xml": table})
    if endpoint.startswith("form_source"):
        form = f"{base}/forms/acceptance_review.json/source"
        same = (PROCESSES / "forms" / "acceptance_review.json").read_text("utf-8")
        if endpoint == "form_source":
            return browser.get(form)
        return browser.post(
            form + ("/preview" if endpoint.endswith("preview") else ""), {"text": same}
        )
    if endpoint.startswith("form_"):
        form = f"{base}/forms/acceptance_review.json"
        if endpoint == "form_save":
            return browser.post(form, {"title": "受理评审"})
        return browser.get(form + ("/preview" if endpoint == "form_preview" else ""))
    if endpoint == "compare":
        return browser.get(f"{process}/compare")
    if endpoint == "running_cases":
        return browser.get(f"{process}/versions/1/running")
    if endpoint == "migrate_cases":
        return browser.post(f"{process}/versions/1/migrate", {"confirm": "yes"})
    if endpoint == "move_back":
        return browser.post("/studio/instances/999999/move-back")
    return browser.post(f"{base}/decide", {"decision": "approve"})


def denials(web: Web) -> int:
    with web.app.app_context():
        return len(db.session.scalars(select(AccessLog).where(AccessLog.event == "denied")).all())


def test_every_studio_endpoint_follows_the_matrix(studio):
    draft_id = new_draft(studio.browser("olga"))
    endpoints = {
        r.endpoint for r in studio.app.url_map.iter_rules() if r.endpoint.startswith("studio.")
    }
    assert endpoints == {f"studio.{name}" for name in ENDPOINTS}
    for username, expected in MATRIX.items():
        browser = studio.browser(username)
        for endpoint in ENDPOINTS:
            before = denials(studio)
            response = call(browser, endpoint, draft_id)
            status = expected[endpoint]
            assert response.status_code == status, (username, endpoint, text(response)[-300:])
            logged = denials(studio) - before
            assert logged == (status in (403, 404)), (username, endpoint)


def test_a_draft_is_edited_only_by_its_author(studio):
    draft_id = new_draft(studio.browser("olga"))
    pat = studio.browser("pat")  # a process owner too, not the author
    assert (
        post_json(pat, f"/studio/drafts/{draft_id}/save", {"xml": CERTIFICATION}).status_code == 403
    )
    assert pat.post(f"/studio/drafts/{draft_id}/submit", {"reason": "x"}).status_code == 403
    assert 'data-editable="false"' in text(pat.get(f"/studio/drafts/{draft_id}"))
    # Unknown drafts: 404, logged like every refused id.
    before = denials(studio)
    assert pat.get("/studio/drafts/999999").status_code == 404
    assert pat.get("/studio/drafts/99999999999").status_code == 404
    assert denials(studio) == before + 2
