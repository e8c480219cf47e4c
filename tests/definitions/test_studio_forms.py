"""The studio's form editor (issue 12, "Forms"): a draft's form previewed as the task page
renders it, its texts edited in the draft (English into the draft's processes.po), refused
edits named by field, the deployed version untouched until the review approves (ISO/IEC 17065
§8.3), and the review listing the changed form — real definitions, real engine, real pages."""

import json

from tests.studio_support import draft, latest, new_draft, studio_fixture  # noqa: F401
from tests.web_support import text, web_fixture  # noqa: F401

FORM = "forms/acceptance_review.json"
URL = "/studio/drafts/{id}/forms/acceptance_review.json"


def _edit(browser, draft_id: int, fields: dict[str, str]):
    page = browser.get(URL.format(id=draft_id))
    assert page.status_code == 200, text(page)
    return browser.post(URL.format(id=draft_id), fields)


def test_a_field_title_edited_in_a_draft_shows_in_its_preview_in_both_languages(studio):
    olga = studio.browser("olga")
    draft_id = new_draft(olga)
    preview = text(olga.get(URL.format(id=draft_id) + "/preview"))
    assert "受理评审" in preview and "确定的认证范围" in preview and 'name="f/scope"' in preview
    assert "Acceptance review" in text(olga.get(URL.format(id=draft_id) + "/preview?lang=en"))

    response = _edit(
        olga,
        draft_id,
        {"scope:title": "本次认证范围", "scope:title@en": "Scope of this certification"},
    )
    assert response.status_code == 303, text(response)
    assert "本次认证范围" in text(olga.get(URL.format(id=draft_id) + "/preview?lang=zh_CN"))
    english = text(olga.get(URL.format(id=draft_id) + "/preview?lang=en"))
    assert "Scope of this certification" in english and "本次认证范围" not in english
    saved = draft(studio, draft_id)
    assert json.loads(saved.files[FORM])["properties"]["scope"]["title"] == "本次认证范围"
    # The deployed version is unchanged: only the review's approval deploys the draft.
    deployed = json.loads(latest(studio).files[FORM])
    assert deployed["properties"]["scope"]["title"] == "确定的认证范围"
    assert latest(studio).version == 1


def test_required_flag_and_option_titles_are_edited_without_typing_json(studio):
    olga = studio.browser("olga")
    draft_id = new_draft(olga)
    response = _edit(olga, draft_id, {"scope:required": "0"})
    assert response.status_code == 303, text(response)
    schema = json.loads(draft(studio, draft_id).files[FORM])
    assert "scope" not in schema["required"] and "man_days" in schema["required"]
    response = _edit(olga, draft_id, {"scope:required": ["0", "1"]})
    assert "scope" in json.loads(draft(studio, draft_id).files[FORM])["required"]


def test_an_invalid_edit_is_refused_naming_the_field_and_loses_nothing(studio):
    olga = studio.browser("olga")
    draft_id = new_draft(olga)
    before = draft(studio, draft_id).files
    response = _edit(olga, draft_id, {"scope:title": "  "})
    assert response.status_code == 422
    page = text(response)
    assert 'data-error-for="scope:title"' in page and "办理任务的人员需要" in page
    # A new Chinese text without its English: `certflow validate` refuses the untranslated text.
    response = _edit(olga, draft_id, {"scope:title": "新的范围标题"})
    assert response.status_code == 422 and "no English translation" in text(response)
    # An unknown field is refused, naming it.
    response = _edit(olga, draft_id, {"title": "受理评审", "nosuch:title": "x"})
    assert response.status_code == 422 and "nosuch" in text(response)
    # A text already translated keeps its English (the catalogue entry is not rewritten here).
    response = _edit(olga, draft_id, {"scope:title": "确定的认证范围", "scope:title@en": "Another"})
    assert response.status_code == 422 and 'data-error-for="scope:title@en"' in text(response)
    # Nothing changed: nothing saved (the file keeps its bytes).
    assert _edit(olga, draft_id, {"title": "受理评审"}).status_code == 303
    assert draft(studio, draft_id).files == before


def test_only_the_author_edits_and_the_review_lists_the_changed_form(studio):
    olga = studio.browser("olga")
    draft_id = new_draft(olga)
    assert "将表单保存到草稿" in text(olga.get(URL.format(id=draft_id)))
    assert "Save the form in the draft" in text(olga.get(URL.format(id=draft_id) + "?lang=en"))
    assert 'data-form-link="acceptance_review.json"' in text(olga.get(f"/studio/drafts/{draft_id}"))
    other = studio.browser("pat")
    page = other.get(URL.format(id=draft_id))
    assert page.status_code == 200 and "readonly" in text(page)
    refused = other.post(URL.format(id=draft_id), {"scope:title": "x", "scope:title@en": "x"})
    assert refused.status_code == 403
    outside = f"/studio/drafts/{draft_id}/forms/..%2Fcertification.bpmn"
    assert olga.get(outside).status_code == 404  # only files of the forms folder
    olga.get("/studio?lang=zh_CN")
    _edit(olga, draft_id, {"scope:title": "本次认证范围", "scope:title@en": "Scope"})
    response = olga.post(f"/studio/drafts/{draft_id}/submit", {"reason": "表单标题更清楚"})
    assert response.status_code == 303, text(response)
    quinn = studio.browser("quinn")
    review = text(quinn.get(f"/studio/drafts/{draft_id}/review"))
    assert f'data-form-change="{FORM}"' in review
    assert "确定的认证范围" in review and "本次认证范围" in review
    # Approved: the new version carries the edited form and its English.
    approve = {"decision": "approve"}
    assert quinn.post(f"/studio/drafts/{draft_id}/decide", approve).status_code == 303
    deployed = latest(studio)
    assert deployed.version == 2
    assert json.loads(deployed.files[FORM])["properties"]["scope"]["title"] == "本次认证范围"
    assert 'msgid "本次认证范围"\nmsgstr "Scope"' in "".join(
        text for path, text in deployed.files.items() if path.endswith("processes.po")
    )


def test_the_decision_table_is_shown_with_its_version_in_the_page_language(studio):
    """R-5: the star level's rules, read only, for the deployed version and a draft."""
    olga = studio.browser("olga")
    draft_id = new_draft(olga)
    assert 'data-decision-link="star_level.dmn"' in text(olga.get(f"/studio/drafts/{draft_id}"))
    page = olga.get("/studio/processes/certification/versions/1/decisions/star_level.dmn")
    assert page.status_code == 200, text(page)
    html = text(page)
    assert "审查得分" in html and "Score (0–100)" not in html and "已部署版本 1" in html
    assert html.count("data-rule=") == 7 and "<code>&gt;= 95</code>" in html
    assert "只读" in html
    english = text(olga.get(f"/studio/drafts/{draft_id}/decisions/star_level.dmn?lang=en"))
    assert "Score (0–100)" in english and "审查得分" not in english
    assert f"Draft #{draft_id}" in english and "Based on version 1" in english
    assert "five stars at score ≥ 95" in english  # the rules' notes, written in English
    for bad in ("nosuch.dmn", "..%2Fstar_level.dmn", "certification.bpmn"):
        assert olga.get(f"/studio/drafts/{draft_id}/decisions/{bad}").status_code == 404
