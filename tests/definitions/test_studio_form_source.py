"""The studio's schema-aware form editor (issue 12, "Forms"): a draft form's whole structure
edited as JSON Schema — a field added with its English, previewed from the unsaved text exactly
as the task page renders it, saved after `certflow validate`; an invalid schema, an unregistered
x-check or a text without English refused (422 naming it, nothing saved); the deployed version
unchanged until the review approves, and the review listing the structural changes (ISO/IEC
17065 §8.3) — real definitions, real engine, real pages."""

import json

from tests.studio_support import draft, latest, new_draft, studio_fixture  # noqa: F401
from tests.web_support import text, web_fixture  # noqa: F401

FORM = "forms/acceptance_review.json"
URL = "/studio/drafts/{id}/forms/acceptance_review.json/source"


def _with_site_count(schema: dict) -> dict:
    """The form with a new required choice field before `scope`, and man_days as an integer."""
    properties = {}
    for name, node in schema["properties"].items():
        if name == "scope":
            properties["site_count"] = {
                "type": "integer",
                "title": "场所数量",
                "enum": [1, 2, 3],
            }
        properties[name] = node
    properties["man_days"] = {**properties["man_days"], "type": ["integer", "null"]}
    return {**schema, "properties": properties, "required": [*schema["required"], "site_count"]}


def _text(schema: dict) -> str:
    return json.dumps(schema, ensure_ascii=False, indent=2)


def test_a_field_added_in_the_editor_is_previewed_unsaved_then_saved_with_its_english(studio):
    olga = studio.browser("olga")
    draft_id = new_draft(olga)
    page = olga.get(URL.format(id=draft_id))
    assert page.status_code == 200, text(page)
    html = text(page)
    assert "form-editor.min.js" in html and "audit.closing_meeting_not_future" in html
    assert "表单 acceptance_review.json 的结构" in html
    assert "Structure of form" in text(olga.get(URL.format(id=draft_id) + "?lang=en"))
    edited = _with_site_count(json.loads(draft(studio, draft_id).files[FORM]))

    preview = olga.post(URL.format(id=draft_id) + "/preview", {"text": _text(edited)})
    assert preview.status_code == 200, text(preview)
    shown = preview.get_json()
    assert 'name="f/site_count"' in shown["html"] and "场所数量" in shown["html"]
    assert shown["untranslated"] == ["场所数量"]
    # Previewing saves nothing.
    assert "site_count" not in draft(studio, draft_id).files[FORM]

    saved = olga.post(
        URL.format(id=draft_id),
        {"text": _text(edited), "zh": ["场所数量"], "en": ["Number of sites"]},
    )
    assert saved.status_code == 303, text(saved)
    files = draft(studio, draft_id).files
    schema = json.loads(files[FORM])
    assert (
        list(schema["properties"]).index("site_count")
        == list(schema["properties"]).index("scope") - 1
    )
    assert "site_count" in schema["required"]
    catalogue = next(t for p, t in files.items() if p.endswith("processes.po"))
    assert 'msgid "场所数量"\nmsgstr "Number of sites"' in catalogue
    english = olga.post(URL.format(id=draft_id) + "/preview?lang=en", {"text": files[FORM]})
    assert "Number of sites" in english.get_json()["html"]
    assert english.get_json()["untranslated"] == []
    # The deployed version is unchanged: a draft never runs (ISO/IEC 17065 8.3).
    assert latest(studio).version == 1
    assert "site_count" not in latest(studio).files[FORM]


def test_an_invalid_form_is_refused_naming_the_problem_and_nothing_is_saved(studio):
    olga = studio.browser("olga")
    draft_id = new_draft(olga)
    before = draft(studio, draft_id).files
    schema = json.loads(before[FORM])
    url = URL.format(id=draft_id)

    broken = _text(schema)[:-3]  # a JSON syntax error
    assert olga.post(url + "/preview", {"text": broken}).status_code == 422
    response = olga.post(url + "?lang=en", {"text": broken})
    assert response.status_code == 422 and "Not valid JSON" in text(response)

    wrong_type = {**schema, "properties": {**schema["properties"], "scope": {"type": "strin"}}}
    response = olga.post(url + "?lang=en", {"text": _text(wrong_type)})
    assert response.status_code == 422
    assert "Not a valid JSON Schema at properties/scope/type" in text(response)
    preview = olga.post(url + "/preview?lang=en", {"text": _text(wrong_type)})
    assert preview.status_code == 422 and "properties/scope/type" in preview.get_json()["error"]

    unknown_check = {**schema, "x-checks": ["nosuch.check"]}
    response = olga.post(url, {"text": _text(unknown_check)})
    assert response.status_code == 422 and "nosuch.check" in text(response)

    untranslated = _with_site_count(schema)
    response = olga.post(url, {"text": _text(untranslated)})
    assert response.status_code == 422 and "no English translation" in text(response)
    assert "场所数量" in text(response)  # the page asks for its English

    assert draft(studio, draft_id).files == before


def test_only_the_author_saves_and_the_review_lists_the_structural_changes(studio):
    olga = studio.browser("olga")
    draft_id = new_draft(olga)
    url = URL.format(id=draft_id)
    schema = json.loads(draft(studio, draft_id).files[FORM])
    edited = _with_site_count(schema)
    edited["x-checks"] = ["audit.closing_meeting_not_future"]
    properties = edited["properties"]
    edited["properties"] = {"accepted": properties["accepted"], **properties}  # moved first
    pat = studio.browser("pat")
    assert "readonly" in text(pat.get(url))
    assert pat.post(url, {"text": _text(edited)}).status_code == 403
    body = {"text": _text(edited), "zh": ["场所数量"], "en": ["Number of sites"]}
    assert olga.post(url, body).status_code == 303
    response = olga.post(f"/studio/drafts/{draft_id}/submit", {"reason": "增加场所数量"})
    assert response.status_code == 303, text(response)
    quinn = studio.browser("quinn")
    review = text(quinn.get(f"/studio/drafts/{draft_id}/review"))
    assert f'data-form-change="{FORM}"' in review
    for what, where in (
        ("added", "site_count"),
        ("type", "man_days"),
        ("checks", ""),
        ("order", ""),
    ):
        assert f'data-change="{what}" data-change-where="{where}"' in review, what
    assert (
        quinn.post(f"/studio/drafts/{draft_id}/decide", {"decision": "approve"}).status_code == 303
    )
    deployed = latest(studio)
    assert deployed.version == 2 and "site_count" in json.loads(deployed.files[FORM])["properties"]
