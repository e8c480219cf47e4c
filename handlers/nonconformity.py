"""Handlers: the nonconformity cycle (R-8.7) — report, client confirmation, answers within a
deadline with a reminder, verification until every NC is accepted. Thin adapters over
`domain/nonconformity.py`; the deadlines come from the settings (`ctx.settings`).
"""

from pydantic import Field

from domain import nc_task_data
from domain import nonconformity as nc
from domain.nonconformity import (
    Deadlines,
)
from handlers.audit import AuditParams
from handlers.params import OptionalList, OptionalText, RuleFlag
from handlers.registry import HandlerContext, handler


def deadlines(ctx: HandlerContext) -> Deadlines:
    return Deadlines(
        response_days=ctx.settings.nc_response_days,
        reminder_days_before=ctx.settings.nc_reminder_days_before,
        serious_response_days=ctx.settings.nc_serious_response_days,
    )


@handler("nc.issue_report", params=AuditParams)
def issue_report(params: AuditParams, ctx: HandlerContext) -> dict:
    """R-8.7: the NC report with the deadline and the reminder before it."""
    return nc.issue_report(ctx, params.audit_id, deadlines(ctx))


class ConfirmationParams(AuditParams):
    confirmed: RuleFlag = Field(None, description="R-8.7 客户确认不符合报告 The client confirms")
    comments: OptionalText = Field(None, description="R-8.7 保留意见 The client's reservations")


@handler("nc.record_confirmation", params=ConfirmationParams)
def record_confirmation(params: ConfirmationParams, ctx: HandlerContext) -> list[dict]:
    """Result: the NCs the client answers next (`nc_to_answer`, issue 11)."""
    nc.record_confirmation(
        ctx, params.audit_id, confirmed=params.confirmed, comments=params.comments
    )
    return nc_task_data.to_answer(ctx.session, params.audit_id)


class AnswersParams(AuditParams):
    answers: OptionalList = Field(
        None,
        description="R-8.7 原因分析、纠正、纠正措施 One per open NC: {nc_id, root_cause, "
        "correction, corrective_action}",
    )


@handler("nc.record_answers", params=AnswersParams)
def record_answers(params: AnswersParams, ctx: HandlerContext) -> list[dict]:
    """Result: the NCs the team leader verifies next (`nc_to_verify`, issue 11)."""
    nc.record_answers(ctx, params.audit_id, params.answers)
    return nc_task_data.to_verify(ctx.session, params.audit_id)


@handler("nc.send_reminder", params=AuditParams)
def send_reminder(params: AuditParams, ctx: HandlerContext) -> dict:
    """R-8.7: remind the client of the NCs still unanswered before the deadline."""
    return {"document_id": nc.send_reminder(ctx, params.audit_id).id}


class VerificationParams(AuditParams):
    verdicts: OptionalList = Field(
        None,
        description="R-8.7 验证 One per answered NC: {nc_id, method: documentary / on_site, "
        "accepted, note, onsite_record}",
    )


@handler("nc.record_verification", params=VerificationParams)
def record_verification(params: VerificationParams, ctx: HandlerContext) -> dict:
    """Result `nc_verification`, with `to_answer`: the NCs sent back to the client."""
    result = nc.record_verification(ctx, params.audit_id, params.verdicts, deadlines(ctx))
    return {**result, "to_answer": nc_task_data.to_answer(ctx.session, params.audit_id)}


class EscalationParams(AuditParams):
    action: OptionalText = Field(
        None, description="R-8.7 逾期措施 extend_deadline / propose_suspension_or_refusal"
    )
    new_deadline: OptionalText = Field(None, description="R-8.7 新的整改期限 (ISO date)")
    note: OptionalText = Field(None, description="R-8.7 说明 The audit department's reasons")


@handler("nc.record_escalation", params=EscalationParams)
def record_escalation(params: EscalationParams, ctx: HandlerContext) -> dict:
    """R-8.7: the audit department extends an overdue deadline or proposes suspension/refusal."""
    return nc.record_escalation(
        ctx,
        params.audit_id,
        action=params.action,
        new_deadline=params.new_deadline,
        note=params.note,
        deadlines=deadlines(ctx),
    )
