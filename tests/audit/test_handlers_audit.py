"""Audit handlers (R-7.3, R-8.1 … R-8.6, R-3) and the indicator set versions, on both DBs."""

import json
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from certflow.dates import china_date
from certflow.db import db
from domain.audit.onsite import CLOSING_MEETING_ITEMS, OPENING_MEETING_ITEMS
from domain.errors import RuleViolation
from domain.indicators import (
    active_indicator_set,
    indicator_set_by_label,
    indicator_set_label,
    load_default_indicator_sets,
    load_indicator_sets,
)
from domain.models import (
    Application,
    Audit,
    Auditor,
    Document,
    Finding,
    IndicatorSetVersion,
    Nonconformity,
    Organisation,
)
from domain.scoring import DEFAULT_INDICATOR_SET_PATH, load_indicator_set
from handlers import get_handler
from tests.factories import make_application, make_audit, make_auditor, make_organisation
from tests.helpers import discussed_with_client, handler_context

INDICATORS = load_indicator_set(DEFAULT_INDICATOR_SET_PATH)
LEADER = "zhang_leader"
AUDITOR = "li_auditor"
EXPERT = "wang_expert"


@dataclass
class Case:
    organisation: Organisation
    application: Application
    audit: Audit
    leader: Auditor
    auditor: Auditor
    expert: Auditor


def make_case(session, now, *, requested_level=4, sites=1, start=None) -> Case:
    """An audit whose on-site days start today (China date), with leader, auditor and expert,
    and the repository's indicator set loaded."""
    organisation = make_organisation(session, now, sites=sites)
    application = make_application(session, now, organisation, requested_level=requested_level)
    leader = make_auditor(
        session,
        now,
        name="张组长",
        username=LEADER,
        roles=("team_leader", "auditor"),
        registration="CCAA-SC-0101",
        leader=True,
    )
    auditor = make_auditor(
        session, now, name="李审查", username=AUDITOR, registration="CCAA-SC-0102"
    )
    expert = make_auditor(
        session, now, name="王专家", username=EXPERT, roles=("tech_expert",), expert=True
    )
    audit = make_audit(
        session,
        now,
        organisation,
        application,
        team=[(leader, "leader"), (auditor, "auditor"), (expert, "tech_expert")],
        start=start or china_date(now),
    )
    load_default_indicator_sets(session, now)
    return Case(organisation, application, audit, leader, auditor, expert)


def call(operator: str, params: dict, now, actor: str = LEADER):
    return get_handler(operator)(params, handler_context(db.session, now, actor=actor))


def plan_params(case: Case) -> dict:
    day = case.audit.start_date.isoformat()
    return {
        "audit_id": case.audit.id,
        "activities": [
            {
                "date": day,
                "site": site.id,
                "activity": "售后服务现场审查 On-site audit",
                "auditor_id": case.auditor.id,
                "start": "09:00",
                "duration_hours": 4,
            }
            for site in case.organisation.sites
        ],
    }


def opening_params(case: Case, **changes) -> dict:
    return {
        "audit_id": case.audit.id,
        "meeting_date": case.audit.start_date.isoformat(),
        "attendees": ["张组长", "李审查", "王芳 (客户总经理)"],
        "checklist": {key: True for key in OPENING_MEETING_ITEMS},
        "notes": "",
        **changes,
    }


def start_onsite(case: Case, now) -> None:
    call("audit.record_plan", plan_params(case), now)
    call("audit.record_opening_meeting", opening_params(case), now)


def conform(code: str, **changes) -> dict:
    return {"item_code": code, "method": "records", "result": "conform", "evidence": "", **changes}


def evidence_params(case: Case, findings: list[dict], **changes) -> dict:
    return {
        "audit_id": case.audit.id,
        "audit_day": case.audit.start_date.isoformat(),
        "findings": findings,
        "special_deductions": [],
        "special_bonus": [],
        "random_survey": None,
        "daily_communication": "与客户管理层沟通了当天发现 Findings discussed with management",
        "escalation": "none",
        "escalation_details": "",
        "terminate_reason": None,
        "more_days": False,
        **changes,
    }


def all_conform() -> list[dict]:
    return [conform(item.code) for item in INDICATORS.items]


def scored_case(session, now, *, requested_level=4, findings=None, **evidence) -> Case:
    """A case on site with one day of evidence (default: every item conforms) and a score."""
    case = make_case(session, now, requested_level=requested_level)
    start_onsite(case, now)
    call(
        "audit.record_evidence",
        evidence_params(case, findings or all_conform(), **evidence),
        now,
        actor=AUDITOR,
    )
    call("audit.compute_score", {"audit_id": case.audit.id}, now)
    return case


def conclusion_params(case: Case, **changes) -> dict:
    """R-8.5.3/R-8.5.4: the findings communicated to top management and the deductions
    discussed with the client (agreed) unless `changes` say otherwise."""
    return discussed_with_client(
        {
            "audit_id": case.audit.id,
            "star_level": 5,
            "conclusion": "recommend",
            "downgrade_requested": False,
            "nonconformities": [],
            "follow_up": "",
            "programme_adjustments": "",
            "disagreements": "",
            **changes,
        },
        "2026-01-01",
    )


def closing_params(case: Case, **changes) -> dict:
    return {
        "audit_id": case.audit.id,
        "meeting_date": case.audit.start_date.isoformat(),
        "attendees": ["张组长", "王芳"],
        "items_covered": {key: True for key in CLOSING_MEETING_ITEMS},
        "client_questions": "",
        "disagreements": "",
        **changes,
    }


def rule_of(excinfo) -> str:
    return excinfo.value.rule


# --- indicator set versions ----------------------------------------------------------------------


def test_indicator_sets_load_once_per_content(ctx, clock) -> None:
    now = clock.now()
    created = load_default_indicator_sets(db.session, now, actor="olga_owner")
    assert [(row.code, row.version, row.loaded_by) for row in created] == [
        ("GB/T 27922-2011", "2011.1", "olga_owner")
    ]
    assert load_default_indicator_sets(db.session, now) == []
    row, indicator_set = active_indicator_set(db.session)
    assert row.id == created[0].id
    assert len(indicator_set.items) == len(INDICATORS.items)
    # A stored version never changes: it is parsed once, whichever way it is asked for.
    assert indicator_set_by_label(db.session, indicator_set_label(row))[1] is indicator_set


def test_indicator_set_new_version_becomes_active(ctx, clock, tmp_path) -> None:
    now = clock.now()
    load_default_indicator_sets(db.session, now)
    raw = json.loads(DEFAULT_INDICATOR_SET_PATH.read_text(encoding="utf-8"))
    raw["title"] += " (edited)"
    (tmp_path / "gbt27922-2011.json").write_text(json.dumps(raw, ensure_ascii=False))
    with pytest.raises(ValueError, match="raise 'version'"):
        load_indicator_sets(db.session, tmp_path, "olga_owner", now)
    raw["version"] = "2011.2"
    (tmp_path / "gbt27922-2011.json").write_text(json.dumps(raw, ensure_ascii=False))
    created = load_indicator_sets(db.session, tmp_path, "olga_owner", now + timedelta(hours=1))
    assert [row.version for row in created] == ["2011.2"]
    assert active_indicator_set(db.session)[0].version == "2011.2"


def test_invalid_indicator_set_stores_nothing(ctx, clock, tmp_path) -> None:
    (tmp_path / "bad.json").write_text(json.dumps({"code": "GB/T 27922-2011"}))
    with pytest.raises(ValueError, match="invalid"):
        load_indicator_sets(db.session, tmp_path, "olga_owner", clock.now())
    assert db.session.scalars(select(IndicatorSetVersion)).all() == []
    with pytest.raises(LookupError):
        active_indicator_set(db.session)


# --- plan, R-8.1 document review, R-8.2/8.3 mystery shopping, R-8.4 training ---------------


def test_record_plan(ctx, clock) -> None:
    now = clock.now()
    case = make_case(db.session, now, sites=2)
    assert call("audit.record_plan", plan_params(case), now) == {}
    plan = case.audit.plan
    assert [a["site"] for a in plan["activities"]] == [s.id for s in case.organisation.sites]
    assert plan["recorded_by"] == LEADER and plan["revision"] == 1


def test_record_plan_refusals(ctx, clock) -> None:
    now = clock.now()
    case = make_case(db.session, now, sites=2)
    params = plan_params(case)
    uncovered = {**params, "activities": params["activities"][:1]}
    with pytest.raises(RuleViolation, match="active sites") as excinfo:
        call("audit.record_plan", uncovered, now)
    assert rule_of(excinfo) == "R-7.3"
    by_expert = json.loads(json.dumps(params))
    by_expert["activities"][0]["auditor_id"] = case.expert.id
    with pytest.raises(RuleViolation, match="R-7.2.4"):
        call("audit.record_plan", by_expert, now)
    late = json.loads(json.dumps(params))
    late["activities"][0]["date"] = (case.audit.end_date + timedelta(days=1)).isoformat()
    with pytest.raises(RuleViolation, match="outside the on-site dates"):
        call("audit.record_plan", late, now)


def test_record_document_review(ctx, clock) -> None:
    now = clock.now()
    case = make_case(db.session, now)
    params = {
        "audit_id": case.audit.id,
        "documents_reviewed": ["售后服务手册", "服务流程图"],
        "adequate": False,
        "findings": "投诉处理程序缺失",
    }
    assert call("audit.record_document_review", params, now) == {"adequate": False}
    with pytest.raises(RuleViolation, match="findings") as excinfo:
        call("audit.record_document_review", {**params, "findings": ""}, now)
    assert rule_of(excinfo) == "R-8.1"
    result = call("audit.record_document_review", {**params, "adequate": True}, now)
    assert result == {"adequate": True}
    assert case.audit.document_review["round"] == 2
    assert case.audit.document_review["reviewed_by"] == LEADER


def test_record_mystery_shopping(ctx, clock) -> None:
    now = clock.now()
    case = make_case(db.session, now)
    params = {
        "audit_id": case.audit.id,
        "visit_date": china_date(now).isoformat(),
        "shopper": "赵暗访",
        "service_experienced": "空调报修",
        "observations": "响应及时",
        "random_survey_done": True,
        "survey_sample_size": 30,
        "satisfied_count": 27,
    }
    assert call("audit.record_mystery_shopping", params, now, actor="zhao_shopper") == {}
    record = db.session.scalars(
        select(Document).where(Document.kind == "mystery_shopping_record")
    ).one()
    assert record.data["random_survey"] == {"done": True, "sample_size": 30, "satisfied_count": 27}
    with pytest.raises(RuleViolation, match="exceeds") as excinfo:
        call("audit.record_mystery_shopping", {**params, "satisfied_count": 31}, now)
    assert rule_of(excinfo) == "R-8.3"
    future = (china_date(now) + timedelta(days=1)).isoformat()
    with pytest.raises(RuleViolation, match="future"):
        call("audit.record_mystery_shopping", {**params, "visit_date": future}, now)


def training_params(case: Case, **changes) -> dict:
    return {
        "audit_id": case.audit.id,
        "training_date": case.audit.start_date.isoformat(),
        "trainer": "张组长",
        "attendees": [case.leader.id, case.auditor.id, case.expert.id],
        "laws_standards_confirmed": True,
        "culture_and_requirements_trained": True,
        "content": "GB/T 27922-2011、实施规则、公正性要求",
        **changes,
    }


def test_record_training(ctx, clock) -> None:
    now = clock.now()
    case = make_case(db.session, now)
    assert call("audit.record_training", training_params(case), now) == {}
    assert case.audit.training["attendees"] == sorted(
        [case.leader.id, case.auditor.id, case.expert.id]
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"attendees": "leader_only"}, "did not attend"),
        ({"laws_standards_confirmed": False}, "laws and standards"),
        ({"culture_and_requirements_trained": "yes"}, "culture"),
        ({"content": ""}, "content"),
    ],
)
def test_record_training_refusals(ctx, clock, changes, message) -> None:
    now = clock.now()
    case = make_case(db.session, now)
    if changes.get("attendees") == "leader_only":
        changes = {"attendees": [case.leader.id]}
    with pytest.raises(RuleViolation, match=message) as excinfo:
        call("audit.record_training", training_params(case, **changes), now)
    assert rule_of(excinfo) == "R-8.4"


# --- opening meeting ---------------------------------------------------------------------


def test_opening_meeting_starts_the_audit(ctx, clock) -> None:
    now = clock.now()
    case = make_case(db.session, now)
    call("audit.record_plan", plan_params(case), now)
    assert call("audit.record_opening_meeting", opening_params(case), now) == {}
    assert case.audit.status == "in_progress"
    assert len(case.audit.opening_meeting["checklist"]) == 16
    assert case.audit.opening_meeting["chaired_by"] == LEADER


def test_opening_meeting_items_are_the_sixteen_of_r_8_5_1() -> None:
    assert len(OPENING_MEETING_ITEMS) == 16
    assert all(zh and en for zh, en in OPENING_MEETING_ITEMS.values())
    assert list(CLOSING_MEETING_ITEMS) == [
        "sampling_uncertainty",
        "reporting_method_timetable",
        "deduction_items",
        "post_audit_activities",
        "complaints_appeals",
    ]


@pytest.mark.parametrize("unchecked", ["safety", "questions"])
def test_opening_meeting_with_an_unchecked_item_is_refused(ctx, clock, unchecked) -> None:
    now = clock.now()
    case = make_case(db.session, now)
    call("audit.record_plan", plan_params(case), now)
    checklist = {key: key != unchecked for key in OPENING_MEETING_ITEMS}
    with pytest.raises(RuleViolation, match=unchecked) as excinfo:
        call("audit.record_opening_meeting", opening_params(case, checklist=checklist), now)
    assert rule_of(excinfo) == "R-8.5.1"
    missing = [key for key in OPENING_MEETING_ITEMS if key != unchecked]
    with pytest.raises(RuleViolation, match=unchecked):
        call("audit.record_opening_meeting", opening_params(case, checklist=missing), now)
    with pytest.raises(RuleViolation, match="unknown"):
        call(
            "audit.record_opening_meeting",
            opening_params(case, checklist={**checklist, unchecked: True, "coffee": True}),
            now,
        )
    assert case.audit.status == "planned"


def test_opening_meeting_needs_a_plan(ctx, clock) -> None:
    now = clock.now()
    case = make_case(db.session, now)
    with pytest.raises(RuleViolation, match="no audit plan"):
        call("audit.record_opening_meeting", opening_params(case), now)


# --- … evidence ------------------------------------------------------------------


def test_record_evidence_writes_findings_and_latest_wins(ctx, clock) -> None:
    now = clock.now()
    case = make_case(db.session, now)
    start_onsite(case, now)
    first = [conform("5.1.1.1"), conform("5.1.1.3", result="sampled", sample_size=10, failures=0)]
    result = call("audit.record_evidence", evidence_params(case, first), now, actor=AUDITOR)
    assert result == {"escalation": "none", "more_days": False}
    later = [conform("5.1.1.1", result="nonconform", evidence="无售后服务部门职责文件")]
    result = call(
        "audit.record_evidence",
        evidence_params(case, later, more_days=True),
        now + timedelta(hours=2),
        actor=AUDITOR,
    )
    assert result["more_days"] is True
    rows = db.session.scalars(
        select(Finding).where(Finding.audit_id == case.audit.id).order_by(Finding.item_code)
    ).all()
    assert [(f.item_code, f.result, f.recorded_by) for f in rows] == [
        ("5.1.1.1", "nonconform", AUDITOR),
        ("5.1.1.3", "sampled", AUDITOR),
    ]
    assert case.audit.indicator_set == "GB/T 27922-2011 2011.1"
    assert len(case.audit.communications) == 2
    survey = {"sample_size": 20, "satisfied_count": 18}
    call("audit.record_evidence", evidence_params(case, [], random_survey=survey), now)
    assert case.audit.communications[-1]["random_survey"] == {"done": True, **survey}


def test_a_later_row_of_the_same_day_on_the_same_item_wins(ctx, clock) -> None:
    now = clock.now()
    case = make_case(db.session, now)
    start_onsite(case, now)
    day = [
        conform("5.1.1.1"),
        conform("5.1.1.3", result="sampled", sample_size=10, failures=0),
        conform("5.1.1.1", result="nonconform", evidence="无售后服务部门职责文件"),
    ]
    call("audit.record_evidence", evidence_params(case, day), now, actor=AUDITOR)
    rows = db.session.scalars(
        select(Finding).where(Finding.audit_id == case.audit.id).order_by(Finding.id)
    ).all()
    assert [(f.item_code, f.result) for f in rows] == [
        ("5.1.1.3", "sampled"),
        ("5.1.1.1", "nonconform"),
    ]


@pytest.mark.parametrize(
    "finding",
    [
        conform("5.1.1.1", result="nonconform", evidence="缺失", improvement_opportunity="建议"),
        conform(
            "5.1.1.3",
            result="sampled",
            sample_size=10,
            failures=2,
            evidence="2 份协议过期",
            improvement_opportunity="建议续签",
        ),
    ],
)
def test_improvement_opportunity_on_a_deduction_item_is_refused(ctx, clock, finding) -> None:
    now = clock.now()
    case = make_case(db.session, now)
    start_onsite(case, now)
    with pytest.raises(RuleViolation, match="improvement opportunity") as excinfo:
        call("audit.record_evidence", evidence_params(case, [finding]), now, actor=AUDITOR)
    assert rule_of(excinfo) == "R-8.5.4"
    assert db.session.scalars(select(Finding)).all() == []


def test_improvement_opportunity_on_a_conforming_item_is_kept(ctx, clock) -> None:
    now = clock.now()
    case = make_case(db.session, now)
    start_onsite(case, now)
    findings = [
        conform("5.1.1.1", improvement_opportunity="职责描述可更具体"),
        conform(
            "5.1.1.3", result="sampled", sample_size=5, failures=0, improvement_opportunity="x"
        ),
    ]
    call("audit.record_evidence", evidence_params(case, findings), now, actor=AUDITOR)
    assert len(db.session.scalars(select(Finding)).all()) == 2


@pytest.mark.parametrize(
    ("changes", "rule", "message"),
    [
        ({"findings": [conform("9.9.9.9")]}, "R-8.5.4", "not in indicator set"),
        ({"findings": [conform("5.1.1.1", method="guess")]}, "R-8.5.2", "method"),
        ({"findings": [conform("5.1.1.1", result="nonconform")]}, "R-8.5.4", "objective evidence"),
        ({"findings": [conform("5.1.1.1", result="sampled")]}, "R-3", "qualitative"),
        ({"daily_communication": ""}, "R-8.5.3", "daily_communication"),
        ({"escalation": "scope_change"}, "R-8.5.3", "escalation_details"),
        (
            {"escalation": "terminate_request", "escalation_details": "客户拒绝配合"},
            "R-8.5.6",
            "terminate_reason",
        ),
        ({"escalation": "panic"}, "R-8.5.3", "escalation must be"),
        ({"terminate_reason": "client_not_cooperating"}, "R-8.5.6", "escalated"),
        ({"special_deductions": ["SD-99"]}, "R-3", "SD-99"),
        ({"random_survey": {"sample_size": 10, "satisfied_count": 11}}, "R-8.3", "exceeds"),
    ],
)
def test_record_evidence_refusals(ctx, clock, changes, rule, message) -> None:
    now = clock.now()
    case = make_case(db.session, now)
    start_onsite(case, now)
    with pytest.raises(RuleViolation, match=message) as excinfo:
        params = {**evidence_params(case, []), **changes}
        call("audit.record_evidence", params, now, actor=AUDITOR)
    assert rule_of(excinfo) == rule


def test_evidence_before_the_opening_meeting_is_refused(ctx, clock) -> None:
    now = clock.now()
    case = make_case(db.session, now)
    with pytest.raises(RuleViolation, match="opening meeting"):
        call("audit.record_evidence", evidence_params(case, []), now, actor=AUDITOR)


# --- escalation, R-8.5.6 termination -----------------------------------------------------


def escalate(case: Case, now, **changes) -> None:
    params = {
        **evidence_params(case, []),
        "escalation": "objectives_unachievable",
        "escalation_details": "客户拒绝提供服务记录",
        **changes,
    }
    assert call("audit.record_evidence", params, now)["escalation"] == params["escalation"]
    assert case.audit.escalations[-1]["kind"] == params["escalation"]


def decision_params(case: Case, **changes) -> dict:
    return {
        "audit_id": case.audit.id,
        "decision": "continue",
        "termination_reason": None,
        "notes": "",
        **changes,
    }


def test_escalation_decisions(ctx, clock) -> None:
    now = clock.now()
    case = make_case(db.session, now)
    start_onsite(case, now)
    with pytest.raises(RuleViolation, match="no escalation"):
        call("audit.record_escalation_decision", decision_params(case), now, actor="audit_dept")
    escalate(case, now)
    with pytest.raises(RuleViolation, match="new_scope") as excinfo:
        call(
            "audit.record_escalation_decision",
            decision_params(case, decision="change_scope"),
            now,
            actor="audit_dept",
        )
    assert rule_of(excinfo) == "R-8.5.3"
    result = call(
        "audit.record_escalation_decision",
        decision_params(case, decision="change_scope", new_scope="售后服务（不含安装）"),
        now,
        actor="audit_dept",
    )
    assert result == {"decision": "change_scope"}
    assert case.audit.escalations[-1]["decided_by"] == "audit_dept"
    # 3)b): proposed only; the market department decides (Task_MarketScopeDecision)
    assert case.audit.escalations[-1]["proposed_scope"] == "售后服务（不含安装）"


@pytest.mark.parametrize(
    "reason", ["client_not_cooperating", "material_difference", "other_impossible"]
)
def test_terminate_with_an_approved_reason(ctx, clock, reason) -> None:
    now = clock.now()
    case = make_case(db.session, now)
    start_onsite(case, now)
    escalate(case, now, escalation="terminate_request", terminate_reason=reason)
    call(
        "audit.record_escalation_decision",
        decision_params(case, decision="terminate", termination_reason=reason),
        now,
        actor="audit_dept",
    )
    result = call("audit.terminate", {"audit_id": case.audit.id, "reason": reason}, now)
    assert result["terminated"] is True and result["termination_reason"] == reason
    # a terminated surveillance suspends under the case that fits the reason.
    assert result["suspension_reason"] == {"material_difference": "b"}.get(reason, "a")
    assert case.audit.status == "terminated"
    assert case.audit.termination_reason == reason
    assert case.audit.terminated_at == now


def test_terminate_refusals(ctx, clock) -> None:
    now = clock.now()
    case = make_case(db.session, now)
    start_onsite(case, now)
    params = {"audit_id": case.audit.id, "reason": "client_not_cooperating"}
    with pytest.raises(RuleViolation, match="not approved") as excinfo:
        call("audit.terminate", params, now)
    assert rule_of(excinfo) == "R-8.5.6"
    escalate(case, now)
    with pytest.raises(RuleViolation, match="reasons") as excinfo:
        call(
            "audit.record_escalation_decision",
            decision_params(case, decision="terminate", termination_reason="bored"),
            now,
        )
    assert rule_of(excinfo) == "R-8.5.6"
    call(
        "audit.record_escalation_decision",
        decision_params(case, decision="terminate", termination_reason="other_impossible"),
        now,
    )
    with pytest.raises(RuleViolation, match="terminated only for"):
        call("audit.terminate", {**params, "reason": "weather"}, now)
    assert case.audit.status == "in_progress"


# --- R-3 score -----------------------------------------------------------------------------------


def test_compute_score_all_conform_is_100(ctx, clock) -> None:
    now = clock.now()
    case = scored_case(db.session, clock.now())
    assert case.audit.score == Decimal("100.00")
    assert case.audit.indicator_set == "GB/T 27922-2011 2011.1"
    result = call("audit.compute_score", {"audit_id": case.audit.id}, now)
    assert result == {
        "score": 100.0,
        "final_score": 100.0,
        "special_deductions": 0,
        "bonus_applied": False,
    }


def test_compute_score_one_nonconform_item(ctx, clock) -> None:
    now = clock.now()
    item = INDICATORS.item("5.3.2.2")  # 60 of 1000 points
    findings = [
        conform(i.code)
        if i.code != item.code
        else conform(i.code, result="nonconform", evidence="e")
        for i in INDICATORS.items
    ]
    case = scored_case(db.session, now, findings=findings)
    result = call("audit.compute_score", {"audit_id": case.audit.id}, now)
    assert result["score"] == 100 - item.points / 10 == 94.0
    assert case.audit.final_score == Decimal("94.00")


def test_compute_score_latest_finding_and_special_items(ctx, clock) -> None:
    now = clock.now()
    findings = [*all_conform()[1:], conform("5.1.1.1", result="nonconform", evidence="e")]
    case = scored_case(
        db.session,
        now,
        findings=findings,
        special_deductions=["SD-3", {"code": "SD-3", "evidence": "第二处虚假宣传"}],
        special_bonus=["SB-1"],
    )
    # a later day: 5.1.1.1 now conforms (latest wins)
    call(
        "audit.record_evidence",
        evidence_params(case, [conform("5.1.1.1")]),
        now + timedelta(hours=1),
        actor=AUDITOR,
    )
    result = call("audit.compute_score", {"audit_id": case.audit.id}, now)
    assert result == {
        "score": 100.0,
        "final_score": 99.0,
        "special_deductions": 2,
        "bonus_applied": True,
    }
    assert case.audit.special_deductions == 2


def test_compute_score_needs_every_item(ctx, clock) -> None:
    now = clock.now()
    case = make_case(db.session, now)
    start_onsite(case, now)
    call("audit.record_evidence", evidence_params(case, all_conform()[:-1]), now, actor=AUDITOR)
    with pytest.raises(RuleViolation, match="not assessed: 5.3.2.4") as excinfo:
        call("audit.compute_score", {"audit_id": case.audit.id}, now)
    assert rule_of(excinfo) == "R-3"


# --- conclusion --------------------------------------------------------------------------


def nc(code: str = "5.1.1.1") -> dict:
    return {
        "item_code": code,
        "nature": "general",
        "description": "未设立售后服务部门",
        "evidence": "组织机构图",
    }


def test_conclusion_recommend(ctx, clock) -> None:
    now = clock.now()
    case = scored_case(db.session, now)
    result = call("audit.record_conclusion", conclusion_params(case), now)
    assert result == {
        "terminated": False,
        "conclusion": "recommend",
        "star_level": 5,
        "nonconformity_count": 0,
        "conditional_on_corrections": False,
    }
    audit = case.audit
    assert (audit.conclusion, audit.star_level_achieved) == ("recommend", 5)
    assert (audit.concluded_by, audit.concluded_at) == (LEADER, now)
    with pytest.raises(RuleViolation, match="already"):
        call("audit.record_conclusion", conclusion_params(case), now)


def test_conclusion_recommend_below_requested_needs_nonconformities(ctx, clock) -> None:
    now = clock.now()
    case = scored_case(db.session, now, requested_level=5)
    with pytest.raises(RuleViolation, match="below the requested level") as excinfo:
        call("audit.record_conclusion", conclusion_params(case, star_level=4), now)
    assert rule_of(excinfo) == "R-8.5.5"
    result = call(
        "audit.record_conclusion",
        conclusion_params(case, star_level=4, nonconformities=[nc(), nc("5.3.2.2")]),
        now,
    )
    assert result["nonconformity_count"] == 2
    rows = db.session.scalars(select(Nonconformity).order_by(Nonconformity.id)).all()
    assert [(row.number, row.item_code, row.status) for row in rows] == [
        ("NC-1", "5.1.1.1", "open"),
        ("NC-2", "5.3.2.2", "open"),
    ]
    assert case.audit.conclusion_notes["conditional_on_corrections"] is True


def test_conclusion_downgrade_needs_the_clients_request(ctx, clock) -> None:
    now = clock.now()
    case = scored_case(db.session, now, requested_level=5)
    with pytest.raises(RuleViolation, match="client's request") as excinfo:
        call(
            "audit.record_conclusion",
            conclusion_params(case, star_level=3, conclusion="downgrade"),
            now,
        )
    assert rule_of(excinfo) == "R-8.5.5"
    with pytest.raises(RuleViolation, match="1 ≤ star level"):
        call(
            "audit.record_conclusion",
            conclusion_params(case, star_level=5, conclusion="downgrade", downgrade_requested=True),
            now,
        )
    result = call(
        "audit.record_conclusion",
        conclusion_params(case, star_level=3, conclusion="downgrade", downgrade_requested=True),
        now,
    )
    assert (result["conclusion"], result["star_level"]) == ("downgrade", 3)


@pytest.mark.parametrize(
    ("star_level", "conclusion", "downgrade_requested", "allowed"),
    [
        # R-8.5.5(3): not recommended only if the corrected result still misses the lowest
        # level — never at the conclusion, before any correction.
        (0, "not_recommend", False, False),
        (0, "recommend", False, False),  # no level reached and no nonconformities to correct
        (0, "downgrade", True, False),
        (2, "not_recommend", False, True),  # requested 4 not met, no downgrade asked for
        (2, "not_recommend", True, False),  # the client asked for a downgrade: conclude it
        (4, "not_recommend", False, False),  # the requested level is met: recommend
    ],
)
def test_conclusion_not_recommend(ctx, clock, star_level, conclusion, downgrade_requested, allowed):
    now = clock.now()
    case = scored_case(db.session, now, requested_level=4)
    params = conclusion_params(
        case,
        star_level=star_level,
        conclusion=conclusion,
        downgrade_requested=downgrade_requested,
    )
    if allowed:
        assert call("audit.record_conclusion", params, now)["conclusion"] == conclusion
        assert case.audit.conclusion_notes["reason"]
    else:
        with pytest.raises(RuleViolation) as excinfo:
            call("audit.record_conclusion", params, now)
        assert rule_of(excinfo) == "R-8.5.5"


def test_below_the_lowest_level_the_conclusion_depends_on_corrections(ctx, clock) -> None:
    """R-8.5.5(3): with no star level the team lists nonconformities to correct; the
    recommendation is conditional and the corrected result is rescored (rescoring.py)."""
    now = clock.now()
    case = scored_case(db.session, now, requested_level=4)
    nc = {
        "item_code": "5.1.1.1",
        "nature": "general",
        "description": "组织架构图缺失",
        "evidence": "查阅文件",
    }
    params = conclusion_params(case, star_level=0, conclusion="recommend", nonconformities=[nc])
    result = call("audit.record_conclusion", params, now)
    assert result["conditional_on_corrections"] is True
    assert case.audit.conclusion_notes["conditional_on_corrections"] is True


def test_conclusion_needs_a_score_and_valid_nonconformities(ctx, clock) -> None:
    now = clock.now()
    case = make_case(db.session, now)
    start_onsite(case, now)
    with pytest.raises(RuleViolation, match="not been scored"):
        call("audit.record_conclusion", conclusion_params(case), now)
    call("audit.record_evidence", evidence_params(case, all_conform()), now, actor=AUDITOR)
    call("audit.compute_score", {"audit_id": case.audit.id}, now)
    bad = {"item_code": "5.1.1.1", "nature": "general", "description": "没有证据", "evidence": ""}
    with pytest.raises(RuleViolation, match="evidence") as excinfo:
        call("audit.record_conclusion", conclusion_params(case, nonconformities=[bad]), now)
    assert rule_of(excinfo) == "R-8.5.4"


# --- closing meeting, R-8.6 report -------------------------------------------------------


def concluded_case(session, now, **conclusion) -> Case:
    case = scored_case(session, now)
    call("audit.record_conclusion", conclusion_params(case, **conclusion), now)
    return case


def test_closing_meeting_completes_the_audit(ctx, clock) -> None:
    now = clock.now()
    case = concluded_case(db.session, now)
    items = {key: key != "complaints_appeals" for key in CLOSING_MEETING_ITEMS}
    with pytest.raises(RuleViolation, match="complaints_appeals") as excinfo:
        call("audit.record_closing_meeting", closing_params(case, items_covered=items), now)
    assert rule_of(excinfo) == "R-8.5.7"
    with pytest.raises(RuleViolation, match="attendees"):
        call("audit.record_closing_meeting", closing_params(case, attendees=[]), now)
    params = closing_params(case, disagreements="客户不同意 5.3.2.2 的抽样结论")
    # the report and materials are due within 5 days, the meeting day (5 January) first
    assert call("audit.record_closing_meeting", params, now) == {
        "materials_due_on": "2026-01-09",
        "materials_due_at": "2026-01-10T01:00:00+00:00",
    }
    assert case.audit.status == "completed"
    assert case.audit.closing_meeting["chaired_by"] == LEADER


def test_closing_meeting_needs_the_conclusion(ctx, clock) -> None:
    now = clock.now()
    case = scored_case(db.session, now)
    with pytest.raises(RuleViolation, match="conclusion") as excinfo:
        call("audit.record_closing_meeting", closing_params(case), now)
    assert rule_of(excinfo) == "R-8.5.5"


def test_audit_report_contents_and_receipt(ctx, clock) -> None:
    now = clock.now()
    case = make_case(db.session, now, requested_level=5)
    start_onsite(case, now)
    findings = [
        *all_conform()[1:],
        conform("5.1.1.1", result="nonconform", evidence="组织机构图中无售后部门"),
        conform("5.1.1.2", improvement_opportunity="可纳入年度计划"),
    ]
    call("audit.record_evidence", evidence_params(case, findings), now, actor=AUDITOR)
    call("audit.compute_score", {"audit_id": case.audit.id}, now)
    call(
        "audit.record_conclusion",
        conclusion_params(case, star_level=4, nonconformities=[nc()], disagreements="分歧 A"),
        now,
    )
    receipt = {"audit_id": case.audit.id, "received_by": "王芳", "received_on": "2026-01-05"}
    with pytest.raises(RuleViolation, match="no audit report"):
        call("audit.record_report_receipt", receipt, now, actor="carl_client")
    with pytest.raises(RuleViolation, match="completed"):
        call("notices.audit_report", {"audit_id": case.audit.id}, now, actor="system")
    call("audit.record_closing_meeting", closing_params(case), now)

    result = call("notices.audit_report", {"audit_id": case.audit.id}, now, actor="system")
    report = db.session.get(Document, result["document_id"])
    assert report.kind == "audit_report"
    data = report.data
    assert data["client"] == {"name": case.organisation.name, "address": case.organisation.address}
    assert data["scope"] == case.application.scope
    assert [site["name"] for site in data["sites"]] == ["服务网点 1"]
    assert data["audit_type"] == "initial" and "GB/T 27922-2011" in data["criteria"]
    assert {(m["name"], m["role"], m["registration_number"]) for m in data["team"]} == {
        ("张组长", "leader", "CCAA-SC-0101"),
        ("李审查", "auditor", "CCAA-SC-0102"),
        ("王专家", "tech_expert", None),
    }
    assert data["dates"]["start"] == case.audit.start_date.isoformat()
    assert data["places"] == ["服务网点 1"] and data["deviations"] == []
    assert "uncertainty" in data["uncertainty"]
    requirements = {req["item_code"]: req for req in data["narrative"]["requirements"]}
    assert len(requirements) == len(INDICATORS.items)
    assert requirements["5.1.1.1"]["result"] == "nonconform"
    assert requirements["5.1.1.2"]["improvement_opportunity"] == "可纳入年度计划"
    assert data["narrative"]["nonconformities"][0]["number"] == "NC-1"
    assert data["narrative"]["score"] == 98.0
    assert data["narrative"]["disagreements"] == ["分歧 A"]
    assert data["recommendation"]["conclusion"] == "recommend"
    assert data["recommendation"]["star_level"] == 4
    for heading in ("## 1 ", "## 4 ", "CCAA-SC-0101", "## 7 ", "NC-1"):
        assert heading in report.body

    future = {**receipt, "received_on": (china_date(now) + timedelta(days=1)).isoformat()}
    with pytest.raises(RuleViolation, match="future"):
        call("audit.record_report_receipt", future, now, actor="carl_client")
    assert call("audit.record_report_receipt", receipt, now, actor="carl_client") == {}
    assert case.audit.report_received_by == "王芳"
    assert case.audit.report_received_on.isoformat() == "2026-01-05"


# --- rescoring after corrections ----------------------------------------------------------


def rescore_params(case: Case, **changes) -> dict:
    return {
        "audit_id": case.audit.id,
        "score": 72.5,
        "special_deductions": 0,
        "star_level": 1,
        "basis": "整改已验证 corrections verified",
        **changes,
    }


def test_rescoring_needs_a_conditional_conclusion_and_every_nc_accepted(ctx, clock) -> None:
    now = clock.now()
    case = scored_case(db.session, now, requested_level=4)
    nc = {
        "item_code": "5.1.1.1",
        "nature": "general",
        "description": "组织架构图缺失",
        "evidence": "查阅文件",
    }
    params = conclusion_params(case, star_level=0, conclusion="recommend", nonconformities=[nc])
    call("audit.record_conclusion", params, now)
    call("audit.record_closing_meeting", closing_params(case), now)
    with pytest.raises(RuleViolation, match="every nonconformity is accepted") as excinfo:
        call("audit.record_rescore", rescore_params(case), now, actor=LEADER)
    assert rule_of(excinfo) == "R-8.7"
    for row in case.audit.nonconformities:
        row.status = "accepted"  # as nc.record_verification leaves them (tested end to end)
    with pytest.raises(RuleViolation) as excinfo:
        call("audit.record_rescore", rescore_params(case, score=101), now, actor=LEADER)
    assert rule_of(excinfo) == "R-3"
    # 1 star after correction, 4 requested and no downgrade asked for: not recommended.
    result = call("audit.record_rescore", rescore_params(case), now, actor=LEADER)
    assert result["conclusion"] == "not_recommend" and result["star_level"] == 1
    rescored = case.audit.conclusion_notes["rescored"]
    assert (rescored["score"], rescored["by"], rescored["before"]["star_level"]) == (
        "72.5",
        LEADER,
        0,
    )
    with pytest.raises(RuleViolation, match="already rescored"):
        call("audit.record_rescore", rescore_params(case), now, actor=LEADER)


def test_an_unconditional_conclusion_is_not_rescored(ctx, clock) -> None:
    now = clock.now()
    case = concluded_case(db.session, now)
    call("audit.record_closing_meeting", closing_params(case), now)
    with pytest.raises(RuleViolation, match="does not depend on corrections"):
        call("audit.record_rescore", rescore_params(case, star_level=5), now, actor=LEADER)
