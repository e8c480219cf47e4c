"""The star-level decision table edited in a draft (issue 12, "DMN"; R-5: the thresholds are data
a process owner changes through a reviewed draft, ISO/IEC 17065 §8.3): saved into the draft only
when the engine's DMN parser accepts it (422 naming the problem otherwise, nothing saved), the
deployed version unchanged until approval, the review and the comparison listing the changed
rules cell by cell, the approval deploying it — real definitions, real engine, real pages."""

from tests.studio_support import draft, latest, new_draft, post_json, studio_fixture  # noqa: F401
from tests.web_support import text, web_fixture  # noqa: F401

DMN = "star_level.dmn"
URL = "/studio/drafts/{id}/decisions/star_level.dmn"
FOUR_STARS = '<inputEntry id="InputEntry_FourStars_Score"><text>&gt;= 90</text></inputEntry>'


def four_stars_at(source: str, threshold: str) -> str:
    assert FOUR_STARS in source
    return source.replace(FOUR_STARS, FOUR_STARS.replace("&gt;= 90", f"&gt;= {threshold}"))


def test_an_edited_cell_is_saved_reviewed_and_deployed_on_approval(studio):
    olga = studio.browser("olga")
    draft_id = new_draft(olga)
    page = text(olga.get(URL.format(id=draft_id)))
    assert "data-decision-editor" in page and "dmn-modeler.production.min.js" in page
    source = olga.get(URL.format(id=draft_id) + "/source")
    assert source.status_code == 200 and source.data.decode() == latest(studio).files[DMN]

    save = URL.format(id=draft_id) + "/save"
    response = post_json(olga, save, {"xml": four_stars_at(source.data.decode(), "93")})
    assert response.status_code == 200 and response.get_json()["saved"] is True
    assert FOUR_STARS.replace("90", "93") in draft(studio, draft_id).files[DMN]
    # The deployed version is unchanged until the review approves the draft.
    assert FOUR_STARS in latest(studio).files[DMN] and latest(studio).version == 1

    response = olga.post(f"/studio/drafts/{draft_id}/submit", {"reason": "四星级门槛提高到 93 分"})
    assert response.status_code == 303, text(response)
    quinn = studio.browser("quinn")
    review = text(quinn.get(f"/studio/drafts/{draft_id}/review"))
    assert 'data-decision-change="Decision_StarLevel"' in review
    assert 'data-rule-change="changed" data-rule="Rule_FourStars"' in review
    assert "<del>&gt;= 90</del> → <ins data-changed-cell>&gt;= 93</ins>" in review
    assert review.count("data-rule-change=") == 1 and "已修改的决策表" in review
    english = text(quinn.get(f"/studio/drafts/{draft_id}/review?lang=en"))
    assert "Decision tables changed" in english and "Score (0–100)" in english

    approve = quinn.post(f"/studio/drafts/{draft_id}/decide", {"decision": "approve"})
    assert approve.status_code == 303
    deployed = latest(studio)
    assert deployed.version == 2 and FOUR_STARS.replace("90", "93") in deployed.files[DMN]
    compare = text(quinn.get("/studio/processes/certification/compare?a=1&b=2"))
    assert 'data-rule-change="changed" data-rule="Rule_FourStars"' in compare
    shown = text(quinn.get("/studio/processes/certification/versions/2/decisions/star_level.dmn"))
    assert "<code>&gt;= 93</code>" in shown and "data-decision-editor" not in shown


def test_a_table_the_engine_cannot_read_is_refused_naming_the_problem(studio):
    olga = studio.browser("olga")
    draft_id = new_draft(olga)
    before = draft(studio, draft_id).files
    source = before[DMN]
    save = URL.format(id=draft_id) + "/save"
    # Not XML at all.
    response = post_json(olga, save, {"xml": source[:-40]})
    assert response.status_code == 422
    assert response.get_json()["problems"][0]["file"] == DMN
    # An input entry the restricted expression check refuses.
    broken = source.replace("<text>&gt;= 95</text>", "<text>__import__('os')</text>")
    response = post_json(olga, save, {"xml": broken})
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert body["problems"] and all(p["file"] == DMN for p in body["problems"])
    assert body["message"] == "决策表有问题，未保存。"
    # An element the DMN schema does not know.
    response = post_json(olga, save, {"xml": source.replace("<rule ", "<nosuch />\n<rule ", 1)})
    assert response.status_code == 422
    assert post_json(olga, save, {"xml": "  "}).status_code == 422
    # A table that parses but breaks the diagrams: the business rule tasks lose their decision.
    renamed = source.replace('id="Decision_StarLevel"', 'id="Decision_Stars"')
    response = post_json(olga, save, {"xml": renamed})
    assert response.status_code == 422, response.get_json()
    assert {p["element_id"] for p in response.get_json()["problems"]} >= {"Task_DetermineStarLevel"}
    assert draft(studio, draft_id).files == before  # nothing saved

    # Only the author edits; unknown files are 404.
    pat = studio.browser("pat")
    assert post_json(pat, save, {"xml": source}).status_code == 403
    assert "data-decision-editor" not in text(pat.get(URL.format(id=draft_id)))
    bad = f"/studio/drafts/{draft_id}/decisions/nosuch.dmn/save"
    assert post_json(olga, bad, {"xml": source}).status_code == 404
    # Under review, the author can no longer change it.
    assert olga.post(f"/studio/drafts/{draft_id}/submit", {"reason": "无改动"}).status_code == 303
    changed = four_stars_at(source, "91")
    assert post_json(olga, save, {"xml": changed}).status_code == 403
    assert draft(studio, draft_id).files == before
