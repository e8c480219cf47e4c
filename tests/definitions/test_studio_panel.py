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


def test_message_timer_and_token_simulation_texts_come_in_the_page_language(studio):
    """Issue 12: the message group's labels, the stock timer/message groups' texts (certflow's
    timers are expressions: the help says so) and the token simulation's texts, which the bundle
    relabels through the same `translate` (certflow-simulation-texts.js)."""
    olga = studio.browser("olga")
    draft_id = new_draft(olga)
    chinese = catalogue_of(text(olga.get(f"/studio/drafts/{draft_id}")))
    assert chinese["labels"]["messagePayload"] == "消息内容"
    assert chinese["labels"]["messageVariable"] == "消息变量"
    assert chinese["texts"]["Token Simulation"] == "令牌模拟"
    assert chinese["texts"]["{scope} started"] == "{scope}已开始"
    assert chinese["texts"]["Reset Simulation"] == "重置模拟"
    assert chinese["texts"]["Timer"] == "定时器" and chinese["texts"]["Duration"] == "时长"
    assert chinese["texts"]["Global message reference"] == "消息（从图中的消息中选择）"
    timer_help = (
        "A specific point in time defined as ISO 8601 combined date and time representation."
    )
    assert 'schedule["due_at"]' in chinese["texts"][timer_help]
    english = catalogue_of(text(olga.get(f"/studio/drafts/{draft_id}?lang=en")))
    assert english["labels"]["messageVariable"] == "Message variable"
    assert english["texts"]["Token Simulation"] == "Token Simulation"
    assert english["texts"]["{scope} started"] == "{scope} started"


PAYLOAD = (
    '<spiffworkflow:messagePayload>{"business_key": certificate["number"], '
    '"certificate_id": certificate["id"]}</spiffworkflow:messagePayload>'
)


def test_a_message_payload_saved_from_the_panel_validates_and_a_bad_one_is_marked(studio):
    olga = studio.browser("olga")
    draft_id = new_draft(olga)
    assert CERTIFICATION.count(PAYLOAD) == 2  # certificate_issued, then plaque_due
    extended = PAYLOAD.replace('certificate["id"]}', 'certificate["id"], "level": level}')
    changed = CERTIFICATION.replace(PAYLOAD, extended, 1)
    saved = post_json(olga, f"/studio/drafts/{draft_id}/save", {"xml": changed})
    assert saved.get_json() == {"saved": True, "problems": []}
    assert extended in olga.get(f"/studio/drafts/{draft_id}/draft.bpmn").get_data(as_text=True)
    broken = CERTIFICATION.replace(PAYLOAD, PAYLOAD.replace('certificate["id"]}', "}}"), 1)
    problems = post_json(olga, f"/studio/drafts/{draft_id}/validate", {"xml": broken}).get_json()
    assert [p["element_id"] for p in problems["problems"]] == ["Event_CertificateIssued"]
    assert problems["problems"][0]["message"].startswith("message payload: syntax error")


PLANNING = (
    '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">schedule["planning_at"]</bpmn:timeDate>'
)


def test_timer_values_are_checked_at_save_as_the_engine_reads_them(studio):
    """A timer's value is an expression (processes/*.bpmn); a literal ISO value must parse as
    SpiffWorkflow parses it when the timer is reached (engine/event_checks.py)."""
    olga = studio.browser("olga")
    draft_id = new_draft(olga, "surveillance")
    source = olga.get(f"/studio/drafts/{draft_id}/draft.bpmn").get_data(as_text=True)
    assert source.count(PLANNING) == 1

    def problems_with(value: str) -> list[tuple[str, str]]:
        xml = source.replace(PLANNING, PLANNING.replace('schedule["planning_at"]', value))
        body = post_json(olga, f"/studio/drafts/{draft_id}/validate", {"xml": xml}).get_json()
        return [(p["element_id"], p["message"]) for p in body["problems"]]

    assert problems_with('"2026-03-01T09:00:00+08:00"') == []
    assert problems_with('"2026-13-01T09:00:00+08:00"') == [
        (
            "Timer_PlanningTime",
            "timer timeDate: '2026-13-01T09:00:00+08:00' is not an ISO 8601 date and time "
            '(e.g. "2026-03-01T09:00:00+08:00")',
        )
    ]
    assert problems_with("P60D") == [
        (
            "Timer_PlanningTime",
            "timer timeDate: 'P60D' is read as a variable name; "
            'write an ISO 8601 value in quotes ("P60D")',
        )
    ]
    saved = post_json(
        olga,
        f"/studio/drafts/{draft_id}/save",
        {
            "xml": source.replace(
                PLANNING, PLANNING.replace('schedule["planning_at"]', '"2026-02-30T09:00:00+08:00"')
            )
        },
    )
    assert saved.status_code == 200
    assert [p["element_id"] for p in saved.get_json()["problems"]] == ["Timer_PlanningTime"]
