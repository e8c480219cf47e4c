"""Handlers: the certification decision (R-8.8, R-13) and the written refusal notice (R-8.8).

Thin adapters over `domain/decision.py`: the decision is taken by the technical department's
decision makers who did not take part in any audit of the application (guard
`not_on_audit_team`, checked again in the domain).
"""

from typing import Any

from pydantic import Field

from domain.decision import (
    OUTCOMES,
    decision_problems,
    issue_refusal_notice,
    record_decision,
)
from handlers.params import Id, OptionalText, Params, RuleInt
from handlers.registry import GuardContext, HandlerContext, handler, validator


class DecisionParams(Params):
    application_id: Id = Field(description="申请 The application (id)")
    audit_id: Id = Field(description="审查 The audit decided on (id)")
    outcome: OptionalText = Field(None, description=f"R-8.8 认证决定 One of {OUTCOMES}")
    star_level: RuleInt = Field(
        None, description="R-8.8 批准的星级 Star level granted (≤ what the audit supports)"
    )
    reasons: OptionalText = Field(None, description="R-8.8 理由 Reasons (needed for a refusal)")


@handler("decision.record", params=DecisionParams)
def record(params: DecisionParams, ctx: HandlerContext) -> dict[str, Any]:
    """R-8.8: grant or refuse; R-13: who decided and when."""
    return record_decision(ctx, **params.model_dump())


class RefusalParams(Params):
    application_id: Id = Field(description="申请 The application (id)")
    decision_id: Id = Field(description="R-8.8 不予注册的决定 The refusal decision (id)")


@handler("notices.refusal", params=RefusalParams)
def refusal(params: RefusalParams, ctx: HandlerContext) -> dict:
    """R-8.8: the written notice that registration is refused, with the decision's reasons."""
    document = issue_refusal_notice(ctx, params.application_id, params.decision_id)
    return {"document_id": document.id}


@validator("decision_fits_audit")
def decision_fits_audit(ctx: GuardContext) -> dict[str, list[str]]:
    """The decision form's data against R-8.8 before the task completes (422, nothing lost)."""
    return decision_problems(ctx.session, ctx.data)
