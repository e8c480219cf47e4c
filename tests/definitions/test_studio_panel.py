"""The studio's properties panel (issue 12, "Editing"): the page hands the panel the role
catalogue, the registered guards and validators and the instructions preview; lanes, guards,
validators and follow-up times chosen there are checked by `certflow validate` on the server,
which marks what it refuses on the element — through the web pages, the real engine and the
real `processes/` definitions."""

import json
import re
from html import unescape

from certflow.roles import ROLES
from tests.studio_support import CERTIFICATION, new_draft, post_json, studio_fixture  # noqa: F401
from tests.web_support import text, web_fixture  # noqa: F401

ACCEPTANCE_DUE = '<spiffworkflow:property name="dueIn" value="P5D" />'


def catalogue_of(page: str) -> dict:
    data = re.search(
        r"<script type=\"application/json\" data-studio-catalogue>(.*?)</script>", page, re.S
    )
    assert data, page[-300:]
    return json.loads(unescape(data.group(1)) if "&#" in data.group(1) else data.group(1))


def test_the_panel_catalogue_holds_roles_guards_validators_and_labels(studio):
    olga = studio.browser("olga")
    draft_id = new_draft(olga)
    catalogue = catalogue_of(text(olga.get(f"/studio/drafts/{draft_id}")))
    assert [role["id"] for role in catalogue["roles"]] == [role.id for role in ROLES]
    market = next(role for role in catalogue["roles"] if role["id"] == "market")
    assert market["label"] == "市场部 (market)" and market["aliases"] == ["市场部"]
    with studio.app.app_context():
        registry = studio.engine.registry
        assert catalogue["guards"] == sorted(registry.guards())
        assert catalogue["validators"] == sorted(registry.validators())
    # What certification.bpmn uses is on offer (R-8.8: not_on_audit_team).
    assert {"appointed_team_leader", "not_on_audit_team"} <= set(catalogue["guards"])
    assert "decision_fits_audit" in catalogue["validators"]
    assert catalogue["instructionsPreviewUrl"] == f"/studio/drafts/{draft_id}/instructions-preview"
    assert catalogue["labels"]["followUpIn"] == "跟进期限"
    # What certification's call activities and rule tasks may call: the other processes of the
    # draft's files (validation resolves calls only there) and the decisions of its DMN files.
    assert catalogue["called"] == {
        "processes": [
            {"id": "nonconformity", "label": "不符合整改 (nonconformity)"},
            {"id": "onsite_audit", "label": "现场审查 (onsite_audit)"},
        ],
        "decisions": [
            {"id": "Decision_StarLevel", "label": "星级判定 Star level (Decision_StarLevel)"}
        ],
    }
    english = catalogue_of(text(olga.get(f"/studio/drafts/{draft_id}?lang=en")))
    assert english["called"]["processes"][1]["label"] == "On-site audit (onsite_audit)"
    assert english["labels"]["guard"] == "Who may do the task (guard)"


def test_follow_up_guard_and_lane_role_from_the_panel_validate_and_bad_ones_are_marked(studio):
    olga = studio.browser("olga")
    draft_id = new_draft(olga)
    assert ACCEPTANCE_DUE in CERTIFICATION
    chosen = CERTIFICATION.replace(
        ACCEPTANCE_DUE,
        ACCEPTANCE_DUE
        + '<spiffworkflow:property name="followUpIn" value="P3D" />'
        + '<spiffworkflow:property name="guard" value="not_on_audit_team" />',
        1,
    ).replace('id="Lane_Market" name="market"', 'id="Lane_Market" name="scheduler"', 1)
    saved = post_json(olga, f"/studio/drafts/{draft_id}/save", {"xml": chosen})
    assert saved.get_json() == {"saved": True, "problems": []}
    wrong = chosen.replace('name="followUpIn" value="P3D"', 'name="followUpIn" value="3 days"', 1)
    wrong = wrong.replace(
        'property name="guard" value="not_on_audit_team"', 'property name="guard" value="anyone"', 1
    )
    problems = post_json(olga, f"/studio/drafts/{draft_id}/validate", {"xml": wrong}).get_json()
    assert sorted((p["element_id"], p["message"]) for p in problems["problems"]) == [
        (
            "Task_AcceptanceReview",
            "followUpIn '3 days' is not an ISO 8601 duration (e.g. P5D, PT4H)",
        ),
        ("Task_AcceptanceReview", "task guard 'anyone' is not registered"),
    ]


def test_the_instructions_preview_renders_as_the_task_page_against_a_sample_case(studio):
    olga = studio.browser("olga")
    draft_id = new_draft(olga)
    url = f"/studio/drafts/{draft_id}/instructions-preview"
    source = "请核对 **{{ case }}** 的申请。\n\n<b>{{ missing }}</b>"
    response = post_json(olga, url, {"text": source})
    assert response.status_code == 200
    html = response.get_json()["html"]
    assert "<strong>CF-2026-0001 · 示例服务有限公司</strong>" in html
    assert "&lt;b&gt;" in html and "<b>" not in html  # raw HTML is shown as text
    refused = post_json(olga, url, {"text": ["not", "text"]})
    assert refused.status_code == 422 and refused.get_json()["field"] == "text"
    assert post_json(olga, url, {"text": "x" * 20_001}).status_code == 422
