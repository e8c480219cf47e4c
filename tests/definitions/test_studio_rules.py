"""The studio and the rules (issue 12): the review page shows the draft's validation result and
what the change does to the rules (gained and lost steps, unknown rules cited); the modeler's
properties panel offers the rules catalogue (规则第x.y条 with the rule's text) and the rules the
traceability data maps to each element — through the web pages, the real engine and the real
`processes/` definitions and traceability data."""

import json
import re
from html import unescape

from tests.studio_support import (
    CERTIFICATION,
    REVIEW_PARAM,
    new_draft,
    post_json,
    studio_fixture,  # noqa: F401
)
from tests.web_support import text, web_fixture  # noqa: F401

ACCEPTANCE_DOC = (
    '<bpmn:userTask id="Task_AcceptanceReview" name="受理评审">\n'
    "      <bpmn:documentation>R-6.2.1: "
)
# The acceptance review cites one more rule and one the catalogue lacks (there is no
# clause 6.3); it keeps citing.
CITING = CERTIFICATION.replace(
    ACCEPTANCE_DOC, ACCEPTANCE_DOC.replace("R-6.2.1: ", "R-6.2.1, R-7.1.1, R-6.3: "), 1
)


def effect_row(page: str, rule_id: str) -> str:
    row = re.search(rf'<tr data-rule="{re.escape(rule_id)}">(.*?)</tr>', page, re.S)
    return row.group(1) if row else ""


def test_the_review_shows_validation_ok_and_the_rules_gained_and_cited_unknown(studio):
    assert ACCEPTANCE_DOC in CERTIFICATION and CITING != CERTIFICATION
    olga = studio.browser("olga")
    draft_id = new_draft(olga)
    saved = post_json(olga, f"/studio/drafts/{draft_id}/save", {"xml": CITING})
    assert saved.get_json() == {"saved": True, "problems": []}
    response = olga.post(f"/studio/drafts/{draft_id}/submit", {"reason": "受理评审也涉及审查方案"})
    assert response.status_code == 303, text(response)
    quinn = studio.browser("quinn")
    page = text(quinn.get(f"/studio/drafts/{draft_id}/review"))
    assert 'data-review-validation="ok"' in page and "未发现草稿中的问题" in page
    gained = effect_row(page, "R-7.1.1")
    assert "规则第7.1.1条" in gained and 'data-gained="Task_AcceptanceReview"' in gained
    assert "受理评审" in gained and "data-lost" not in gained
    assert page.count("<tr data-rule=") == 1  # no other rule gains or loses a step
    assert "data-rules-left" not in page
    unknown = re.search(
        r'<li data-unknown="R-6.3" data-element="Task_AcceptanceReview">(.*?)</li>', page, re.S
    )
    assert unknown and "规则第6.3条" in unknown.group(1) and "本草稿新增" in unknown.group(1)
    english = text(quinn.get(f"/studio/drafts/{draft_id}/review?lang=en"))
    assert "Rule 7.1.1" in effect_row(english, "R-7.1.1") and "Acceptance review" in english
    assert "Validation finds no problems" in english and "(new in this draft)" in english


def test_the_review_page_lists_the_problems_and_a_removed_mapped_step(studio):
    """A draft still being edited: its problems named by element; a step the traceability data
    maps is gone, so its rules lose it (and it must be remapped)."""
    olga = studio.browser("olga")
    draft_id = new_draft(olga)
    block = re.search(
        r'\s*<bpmn:serviceTask id="Task_RecordAcceptanceReview".*?</bpmn:serviceTask>',
        CERTIFICATION,
        re.S,
    )
    assert block and REVIEW_PARAM in block.group(0)
    broken = CERTIFICATION.replace(block.group(0), "", 1)
    assert post_json(olga, f"/studio/drafts/{draft_id}/save", {"xml": broken}).status_code == 200
    page = text(studio.browser("quinn").get(f"/studio/drafts/{draft_id}/review"))
    assert 'data-review-validation="problems"' in page
    assert 'data-problem-element="' in page
    lost = effect_row(page, "R-6.2.1")
    assert 'data-lost="Task_RecordAcceptanceReview"' in lost and "追溯数据" in lost


def test_the_properties_panel_offers_the_catalogue_and_the_mapped_rules(studio):
    olga = studio.browser("olga")
    draft_id = new_draft(olga)
    for lang, label in (("", "规则第6.2.2条（a）"), ("?lang=en", "Rule 6.2.2 (a)")):
        page = text(olga.get(f"/studio/drafts/{draft_id}{lang}"))
        data = re.search(
            r"<script type=\"application/json\" data-studio-catalogue>(.*?)</script>", page, re.S
        )
        catalogue = json.loads(unescape(data.group(1)) if "&#" in data.group(1) else data.group(1))
        rules = {rule["id"]: rule for rule in catalogue["rules"]["catalogue"]}
        assert rules["R-6.2.2a"]["label"] == label and rules["R-6.2.2a"]["text"]
        assert "R-6.2.1" in catalogue["rules"]["mapped"]["Task_AcceptanceReview"]
    assert rules["R-6.2.1"]["text"] != rules["R-6.2.2a"]["text"]


def test_any_two_deployed_versions_are_compared_with_their_effect_on_the_rules(studio):
    """Issue 12: "any two versions can be compared the same way at any time"."""
    olga = studio.browser("olga")
    draft_id = new_draft(olga)
    assert post_json(olga, f"/studio/drafts/{draft_id}/save", {"xml": CITING}).status_code == 200
    assert olga.post(f"/studio/drafts/{draft_id}/submit", {"reason": "r"}).status_code == 303
    quinn = studio.browser("quinn")
    assert (
        quinn.post(f"/studio/drafts/{draft_id}/decide", {"decision": "approve"}).status_code == 303
    )
    assert 'href="/studio/processes/certification/compare" data-compare' in text(
        olga.get("/studio")
    )
    page = text(olga.get("/studio/processes/certification/compare"))  # v1 → v2 by default
    assert "版本 1 → 版本 2" in page
    row = re.search(
        r'<tr data-diff-kind="(\w+)" data-element="Task_AcceptanceReview">(.*?)</tr>', page, re.S
    )
    assert row and row.group(1) == "changed" and "R-7.1.1" in row.group(2)
    assert page.count("data-diff-kind=") == 1
    assert 'data-draft-url="/studio/processes/certification/versions/2.bpmn"' in page
    assert "规则第7.1.1条" in effect_row(page, "R-7.1.1") and "data-review-validation" not in page
    # Backwards, v2 → v1: the rule loses the step again.
    backwards = text(olga.get("/studio/processes/certification/compare?a=2&b=1"))
    assert 'data-lost="Task_AcceptanceReview"' in effect_row(backwards, "R-7.1.1")
    same = text(quinn.get("/studio/processes/certification/compare?a=2&b=2&lang=en"))
    assert "The diagrams of the two versions do not differ." in same
    assert "No rule gains or loses a step." in same
    wrong = olga.get("/studio/processes/certification/compare?a=7&b=x")
    assert wrong.status_code == 422 and text(wrong).count("请从列表中选择版本。") == 2
    assert olga.get("/studio/processes/nothing/compare").status_code == 404
