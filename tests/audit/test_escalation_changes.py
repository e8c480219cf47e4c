"""R-8.5.3 3) through the engine: the audit department's decision on an escalation acts — a
modified plan changes the audit's plan (the change kept as a revision, the last on-site day
moved), a scope change is decided by the market department together with the audit department
in its own task (会同市场部) and, once agreed, becomes the audit's scope."""

from datetime import date

import pytest
from sqlalchemy import select

from certflow.db import db
from domain.models import Audit
from engine.errors import ForbiddenError
from tests.certification_case import Case, findings_losing
from tests.forms.test_form_checks import no_incident, refused

NEW_SCOPE = "家用电器售后服务（不含上门安装）"


def escalated(case: Case, kind: str) -> None:
    case.apply()
    case.review()
    case.contract()
    case.programme()
    case.appoint()
    case.plan_and_prepare()
    case.opening_meeting()
    case.evidence(findings_losing(0), escalation=kind)
    assert "Task_AuditDeptDecision" in case.active()


def decision(kind: str, **changes) -> dict:
    return {
        "decision": kind,
        "termination_reason": None,
        "notes": "审核部意见",
        "plan_changes": None,
        "new_end_date": None,
        "new_scope": None,
        **changes,
    }


def the_audit() -> Audit:
    db.session.rollback()
    return db.session.scalars(select(Audit)).one()


def test_a_modified_plan_changes_the_audit_plan(case):
    """R-8.5.3 3)a) 修改审查计划: the change applies to the audit, not only to a record."""
    escalated(case, "objectives_unachievable")
    before = the_audit()
    end_before = before.end_date
    new_end = date.fromordinal(end_before.toordinal() + 1).isoformat()
    case.complete(
        "Task_AuditDeptDecision",
        case.people.audit_dept,
        decision("modify_plan", plan_changes="增加一天抽查维修记录", new_end_date=new_end),
    )
    audit = the_audit()
    assert audit.end_date.isoformat() == new_end
    revision = audit.plan["revisions"][-1]
    assert revision["changes"] == "增加一天抽查维修记录"
    assert (revision["end_date_before"], revision["end_date_after"]) == (
        end_before.isoformat(),
        new_end,
    )
    assert revision["revised_by"] == case.people.audit_dept.username
    assert audit.plan["activities"]  # the plan itself is kept, revised
    assert "Task_AuditConclusion" in case.active()


def test_a_modified_plan_must_say_what_changes(case):
    """R-8.5.3: modify_plan without the change → 422 on plan_changes, the task stays open."""
    escalated(case, "objectives_unachievable")
    errors = refused(
        case, "Task_AuditDeptDecision", case.people.audit_dept, decision("modify_plan")
    )
    assert "plan_changes" in errors
    no_incident(case)


def test_a_scope_change_is_decided_with_the_market_department(case):
    """R-8.5.3 3)b) 审核部会同市场部: the proposed scope waits for the market department's task;
    agreed, it becomes the audit's scope."""
    escalated(case, "scope_change")
    scope_before = the_audit().scope
    case.complete(
        "Task_AuditDeptDecision",
        case.people.audit_dept,
        decision("change_scope", new_scope=NEW_SCOPE),
    )
    assert case.active() == ["Task_MarketScopeDecision"]
    assert the_audit().scope == scope_before  # not before the market department agrees
    with pytest.raises(ForbiddenError):  # the market department's task, in its lane
        case.complete(
            "Task_MarketScopeDecision",
            case.people.audit_dept,
            {"scope_agreed": True, "scope_opinion": "同意", "scope_follow_up": None},
        )
    case.complete(
        "Task_MarketScopeDecision",
        case.people.market,
        {"scope_agreed": True, "scope_opinion": "与合同一致，同意", "scope_follow_up": "补充合同"},
    )
    audit = the_audit()
    assert audit.scope == NEW_SCOPE
    entry = audit.escalations[-1]
    assert entry["scope_before"] == scope_before and entry["scope_after"] == NEW_SCOPE
    assert entry["market_decision"]["decided_by"] == case.people.market.username
    assert entry["market_decision"]["follow_up"] == "补充合同"
    assert "Task_AuditConclusion" in case.active()


def test_a_scope_change_the_market_department_refuses_leaves_the_scope(case):
    """R-8.5.3 3)b): not agreed → the audit goes on under its scope; the refusal is recorded."""
    escalated(case, "scope_change")
    scope_before = the_audit().scope
    case.complete(
        "Task_AuditDeptDecision",
        case.people.audit_dept,
        decision("change_scope", new_scope=NEW_SCOPE),
    )
    case.complete(
        "Task_MarketScopeDecision",
        case.people.market,
        {"scope_agreed": False, "scope_opinion": "超出合同范围", "scope_follow_up": None},
    )
    audit = the_audit()
    assert audit.scope == scope_before
    assert audit.escalations[-1]["market_decision"]["agreed"] is False
    assert "Task_AuditConclusion" in case.active()


def test_a_scope_change_needs_the_proposed_scope(case):
    """R-8.5.3: change_scope without the proposed scope → 422 on new_scope."""
    escalated(case, "scope_change")
    errors = refused(
        case, "Task_AuditDeptDecision", case.people.audit_dept, decision("change_scope")
    )
    assert "new_scope" in errors
    no_incident(case)
