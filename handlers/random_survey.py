"""Handlers: the random survey of an initial certification (R-8.3, see docs/decisions.md).

`audit.random_survey_status`: was the survey the programme planned done in the mystery shopping
or the on-site audit? `audit.record_onsite_survey`: the team leader records the survey made
during the on-site audit. Thin adapters over `domain/random_survey.py`.
"""

from typing import Any

from pydantic import Field

from domain import random_survey
from handlers.params import Id, Params, RuleDate, RuleInt, RuleText
from handlers.registry import HandlerContext, handler


class AuditParams(Params):
    audit_id: Id = Field(description="审查 The audit (id)")


@handler("audit.random_survey_status", params=AuditParams)
def random_survey_status(params: AuditParams, ctx: HandlerContext) -> dict[str, Any]:
    """R-8.3: {planned, done_in, outstanding} for the audit."""
    return random_survey.survey_status(ctx.session, params.audit_id)


class OnsiteSurveyParams(AuditParams):
    survey_date: RuleDate = Field(description="R-8.3 调查日期 ISO date within the on-site days")
    method: RuleText = Field(description="R-8.3 调查方式 How the customers were surveyed")
    survey_sample_size: RuleInt = Field(description="R-8.3 样本量 Sample size, ≥ 1")
    satisfied_count: RuleInt = Field(description="R-8.3 满意数量 Satisfied, ≤ sample size")


@handler("audit.record_onsite_survey", params=OnsiteSurveyParams)
def record_onsite_survey(params: OnsiteSurveyParams, ctx: HandlerContext) -> dict[str, Any]:
    """R-8.3: keep the on-site random survey with the case."""
    document = random_survey.record_onsite_survey(
        ctx,
        params.audit_id,
        survey_date=params.survey_date,
        method=params.method,
        sample_size=params.survey_sample_size,
        satisfied_count=params.satisfied_count,
    )
    return {"document_id": document.id}
