"""Handlers: the audit — plan, document review, mystery shopping, training, on-site audit,
conclusion, closing meeting and the audit report (R-7.3, R-8.1 … R-8.6, R-8.9, R-3, R-13).

Thin adapters: each operator declares its parameters (the names the BPMN service tasks pass, see
docs/initial-certification.md) and calls the rules in `domain/audit/`, which refuse a broken rule
with `RuleViolation("R-x", ...)`; the engine turns it into an incident and the savepoint it runs
in undoes anything half-written. Values a rule checks (present, a date, one of a list) are
declared with the rule-judged types of handlers/params.py so that the refusal names the rule.
"""

from pydantic import Field

from domain.audit import (
    conclusion,
    escalation_changes,
    evidence,
    materials,
    onsite,
    preparation,
    report,
    rescoring,
)
from domain.audit.conclusion import (
    CONCLUSIONS,
)
from domain.audit.evidence import ESCALATIONS
from domain.audit.onsite import (
    ESCALATION_DECISIONS,
    TERMINATION_REASONS,
)
from domain.checks import (
    is_true,
)
from handlers.params import (
    Checklist,
    Id,
    OptionalList,
    OptionalObject,
    OptionalText,
    Params,
    RuleDate,
    RuleFlag,
    RuleInt,
    RuleNumber,
    RuleObject,
    RuleText,
)
from handlers.registry import GuardContext, HandlerContext, handler, validator


class AuditParams(Params):
    audit_id: Id = Field(description="审查 The audit (id)")


class PlanParams(AuditParams):
    activities: OptionalList = Field(
        None,
        description="R-7.3 审查计划 Plan rows: {date, site (id), activity, auditor_id, start "
        "HH:MM, duration_hours}; every active site covered, within the on-site dates",
    )
    shift_coverage: OptionalList = Field(
        None, description="R-7.1.4 班次覆盖 [{shift (a programme shift's name), how}]"
    )
    shifts_not_covered_reason: OptionalText = Field(
        None, description="R-7.1.4 未覆盖班次的理由 Why a programme shift is not audited"
    )


@handler("audit.record_plan", params=PlanParams)
def record_plan(params: PlanParams, ctx: HandlerContext) -> dict:
    preparation.record_plan(
        ctx,
        params.audit_id,
        params.activities,
        params.shift_coverage,
        params.shifts_not_covered_reason,
    )
    return {}


class DocumentReviewParams(AuditParams):
    documents_reviewed: OptionalList = Field(
        None,
        description="R-8.1 审查的文件 Documents reviewed (a recertification: at least service "
        "scope, policy and objectives, organisation, documented procedures)",
    )
    adequate: RuleFlag = Field(None, description="R-8.1 文件充分 Documents adequate")
    findings: OptionalText = Field(
        None, description="R-8.1 需修改之处 What the client has to revise"
    )


@handler("audit.record_document_review", params=DocumentReviewParams)
def record_document_review(params: DocumentReviewParams, ctx: HandlerContext) -> dict:
    adequate = preparation.record_document_review(
        ctx, params.audit_id, params.documents_reviewed, params.adequate, params.findings
    )
    return {"adequate": adequate}


class MysteryShoppingParams(AuditParams):
    visit_date: RuleDate = Field(None, description="R-8.2 暗访日期 Visit date (not in the future)")
    shopper: OptionalText = Field(None, description="R-8.2 暗访人员 Who visited")
    service_experienced: OptionalText = Field(
        None, description="R-8.2 体验的服务 Service experienced"
    )
    observations: OptionalText = Field(None, description="R-8.2 观察 Observations")
    random_survey_done: RuleFlag = Field(None, description="R-8.3 是否进行随机调查 Survey done")
    survey_sample_size: RuleInt = Field(None, description="R-8.3 样本量 Sample size (≥ 1)")
    satisfied_count: RuleInt = Field(None, description="R-8.3 满意数 Satisfied (≤ sample)")


@handler("audit.record_mystery_shopping", params=MysteryShoppingParams)
def record_mystery_shopping(params: MysteryShoppingParams, ctx: HandlerContext) -> dict:
    preparation.record_mystery_shopping(ctx, **params.model_dump())
    return {}


class TrainingParams(AuditParams):
    training_date: RuleDate = Field(None, description="R-8.4 培训日期 Before the on-site start")
    trainer: OptionalText = Field(None, description="R-8.4 培训人 Trainer (the team leader)")
    attendees: OptionalList = Field(None, description="R-8.4 参加人 Auditor ids: whole team")
    laws_standards_confirmed: RuleFlag = Field(
        None, description="R-8.4 法律法规和标准的适用性已确认 Laws and standards confirmed"
    )
    culture_and_requirements_trained: RuleFlag = Field(
        None, description="R-8.4 机构文化和审查要求已培训 CB culture and requirements trained"
    )
    content: OptionalText = Field(None, description="R-8.4 培训内容 Content")


@handler("audit.record_training", params=TrainingParams)
def record_training(params: TrainingParams, ctx: HandlerContext) -> dict:
    preparation.record_training(ctx, **params.model_dump())
    return {}


class OpeningMeetingParams(AuditParams):
    meeting_date: RuleDate = Field(None, description="R-8.5.1 首次会议日期 Within on-site dates")
    attendees: OptionalList = Field(None, description="R-8.5.1 参加人 Attendees")
    checklist: Checklist = Field(
        None, description="R-8.5.1 首次会议 16 项 The 16 items, each confirmed"
    )
    notes: OptionalText = Field(None, description="备注 Notes")


@handler("audit.record_opening_meeting", params=OpeningMeetingParams)
def record_opening_meeting(params: OpeningMeetingParams, ctx: HandlerContext) -> dict:
    onsite.record_opening_meeting(ctx, **params.model_dump())
    return {}


class EvidenceParams(AuditParams):
    audit_day: RuleDate = Field(None, description="R-8.5.2 审查日 Audit day")
    findings: OptionalList = Field(
        None,
        description="R-8.5.2/R-8.5.4 审查发现 Findings: {item_code, method, result, "
        "sample_size, failures, evidence, improvement_opportunity}",
    )
    special_deductions: OptionalList = Field(
        None, description="R-3 特别扣分项 Codes (or {code, evidence}), one per occurrence"
    )
    special_bonus: OptionalList = Field(
        None, description="R-3 特别加分项 Codes (or {code, evidence}), one per occurrence"
    )
    random_survey: OptionalObject = Field(
        None, description="R-8.3 现场随机调查 {sample_size, satisfied_count} or none"
    )
    daily_communication: OptionalText = Field(
        None, description="R-8.5.3 每日沟通 Daily communication"
    )
    escalation: OptionalText = Field(None, description=f"R-8.5.3 上报 One of {ESCALATIONS}")
    escalation_details: OptionalText = Field(
        None, description="R-8.5.3 上报详情 Escalation details"
    )
    terminate_reason: OptionalText = Field(
        None, description=f"R-8.5.6 终止原因 One of {TERMINATION_REASONS}"
    )
    more_days: RuleFlag = Field(None, description="还有审查日 More audit days follow")


@handler("audit.record_evidence", params=EvidenceParams)
def record_evidence(params: EvidenceParams, ctx: HandlerContext) -> dict:
    escalation = evidence.record_evidence(ctx, **params.model_dump(exclude={"more_days"}))
    return {"escalation": escalation, "more_days": is_true(params.more_days)}


class EscalationDecisionParams(AuditParams):
    decision: OptionalText = Field(None, description=f"R-8.5.3 决定 One of {ESCALATION_DECISIONS}")
    termination_reason: OptionalText = Field(
        None, description=f"R-8.5.6 终止原因 One of {TERMINATION_REASONS}"
    )
    notes: OptionalText = Field(None, description="备注 Notes")
    plan_changes: OptionalText = Field(
        None, description="R-8.5.3 审查计划的修改 How the plan is modified (modify_plan)"
    )
    new_end_date: RuleDate = Field(
        None, description="R-8.5.3 新的现场审查结束日期 New last on-site day (modify_plan)"
    )
    new_scope: OptionalText = Field(
        None, description="R-8.5.3 建议的审查范围 The proposed scope (change_scope)"
    )


@handler("audit.record_escalation_decision", params=EscalationDecisionParams)
def record_escalation_decision(params: EscalationDecisionParams, ctx: HandlerContext) -> dict:
    return {"decision": onsite.record_escalation_decision(ctx, **params.model_dump())}


class ScopeDecisionParams(AuditParams):
    agreed: RuleFlag = Field(None, description="R-8.5.3 同意改变审查范围 Scope change agreed")
    opinion: RuleText = Field(None, description="R-8.5.3 市场部意见 The market department's view")
    follow_up: OptionalText = Field(None, description="R-8.5.3 后续措施 Follow-up measures")


@handler("audit.record_scope_decision", params=ScopeDecisionParams)
def record_scope_decision(params: ScopeDecisionParams, ctx: HandlerContext) -> dict:
    """R-8.5.3 3)b): the audit and market departments' conclusion on a scope change."""
    return escalation_changes.record_scope_decision(ctx, **params.model_dump())


class TerminateParams(AuditParams):
    reason: OptionalText = Field(None, description=f"R-8.5.6 终止原因 One of {TERMINATION_REASONS}")


@handler("audit.terminate", params=TerminateParams)
def terminate(params: TerminateParams, ctx: HandlerContext) -> dict:
    return onsite.terminate(ctx, params.audit_id, params.reason)


@handler("audit.compute_score", params=AuditParams)
def compute_score(params: AuditParams, ctx: HandlerContext) -> dict:
    return conclusion.compute_score(ctx, params.audit_id)


class ConclusionParams(AuditParams):
    star_level: RuleInt = Field(None, description="R-5 达到的星级 Star level reached (0–5)")
    conclusion: OptionalText = Field(None, description=f"R-8.5.5 审查结论 One of {CONCLUSIONS}")
    downgrade_requested: RuleFlag = Field(
        None, description="R-8.5.5 客户申请降级 The client asked for a downgrade"
    )
    nonconformities: OptionalList = Field(
        None, description="R-8.7 不符合项 {item_code, description, evidence}"
    )
    follow_up: OptionalText = Field(None, description="后续活动 Follow-up")
    programme_adjustments: OptionalText = Field(None, description="方案调整 Programme adjustments")
    disagreements: OptionalText = Field(None, description="未解决的分歧 Unresolved disagreements")
    top_management_communication: RuleObject = Field(
        None, description="R-8.5.3 与高层管理人员的沟通 {date, participants, findings_communicated}"
    )
    deduction_discussion: RuleObject = Field(
        None, description="R-8.5.4 与受审查组织讨论扣分项 {date, attendees}"
    )


@handler("audit.record_conclusion", params=ConclusionParams)
def record_conclusion(params: ConclusionParams, ctx: HandlerContext) -> dict:
    return conclusion.record_conclusion(ctx, **params.model_dump())


class RescoreParams(AuditParams):
    score: RuleNumber = Field(description="R-3 整改后得分 The score after correction (0–100)")
    special_deductions: RuleInt = Field(
        description="R-5 整改后仍有的特别扣分项数 Special deductions left after correction"
    )
    star_level: RuleInt = Field(description="R-5 整改后星级 (Decision_StarLevel, 0–5)")
    basis: RuleText = Field(description="R-8.5.5 复评依据 What the rescoring is based on")


@handler("audit.record_rescore", params=RescoreParams)
def record_rescore(params: RescoreParams, ctx: HandlerContext) -> dict:
    """R-8.5.5: after the corrections the team's final recommendation from the rescored level."""
    return rescoring.record_rescore(ctx, **params.model_dump())


class ClosingMeetingParams(AuditParams):
    meeting_date: RuleDate = Field(None, description="R-8.5.7 末次会议日期 Meeting date")
    attendees: OptionalList = Field(None, description="R-8.5.7 参加人 Attendees")
    items_covered: Checklist = Field(
        None, description="R-8.5.7 a–e 末次会议内容 Items covered, each confirmed"
    )
    client_questions: OptionalText = Field(None, description="受审查方提问 The client's questions")
    disagreements: OptionalText = Field(None, description="未解决的分歧 Unresolved disagreements")


@handler("audit.record_closing_meeting", params=ClosingMeetingParams)
def record_closing_meeting(params: ClosingMeetingParams, ctx: HandlerContext) -> dict:
    """R-8.5.7; R-8.6: the result is the time limit of the report and materials."""
    onsite.record_closing_meeting(ctx, **params.model_dump())
    return materials.materials_deadline(ctx, params.audit_id, ctx.settings.audit_materials_days)


class MaterialsParams(AuditParams):
    report_responsibility: RuleFlag = Field(
        None, description="R-8.6 审查组长对审查报告内容负责 The leader answers for the report"
    )
    materials_complete: RuleFlag = Field(None, description="R-8.6 审查材料齐全 Materials complete")
    notes: OptionalText = Field(None, description="R-8.6 说明 Notes")
    due_on: OptionalText = Field(None, description="R-8.6 提交期限 The time limit (ISO date)")


@handler("audit.record_materials_submission", params=MaterialsParams)
def record_materials_submission(params: MaterialsParams, ctx: HandlerContext) -> dict:
    """R-8.6: the team leader submits the report and materials, answering for the report."""
    return materials.record_submission(ctx, **params.model_dump())


class ReportReceiptParams(AuditParams):
    received_by: OptionalText = Field(None, description="R-8.6 接收人 Who received the report")
    received_on: RuleDate = Field(None, description="R-8.6 接收日期 When (not before issue)")


@handler("audit.record_report_receipt", params=ReportReceiptParams)
def record_report_receipt(params: ReportReceiptParams, ctx: HandlerContext) -> dict:
    report.record_report_receipt(ctx, **params.model_dump())
    return {}


@handler("notices.audit_report", params=AuditParams)
def audit_report(params: AuditParams, ctx: HandlerContext) -> dict:
    return {"document_id": report.issue_report(ctx, params.audit_id).id}


@validator("conclusion_fits_score")
def conclusion_fits_score(ctx: GuardContext) -> dict[str, list[str]]:
    """The conclusion form's data against R-8.5.5 before the task completes (422); the handler
    audit.record_conclusion enforces the same rule again when it records it."""
    return conclusion.conclusion_problems(ctx.session, ctx.data, ctx.now)


@validator("evidence_rows_fit_indicator_set")
def evidence_rows_fit_indicator_set(ctx: GuardContext) -> dict[str, list[str]]:
    """The evidence form's rows against R-8.5.2/R-8.5.4/R-3 before the task completes (422 on
    the row's field); audit.record_evidence applies the same checks when it records the day."""
    return evidence.evidence_problems(ctx.session, ctx.data)
