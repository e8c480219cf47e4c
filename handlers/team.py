"""Handlers: team (see docs/initial-certification.md).

`team.appoint` (R-7.2.1–R-7.2.5): check the audit team the scheduler proposes and, when it is
valid, record it with the appointment letter (审查委任) — the rules in `domain/team.py`. A team
that breaks a rule is refused with one reason per problem; the process goes back to the
scheduler.
"""

from typing import Any

from pydantic import Field

from domain.team import appoint_audit_team as appoint
from handlers.params import Id, Params, RuleDate, RuleList, RuleText
from handlers.registry import HandlerContext, handler


class AppointParams(Params):
    audit_id: Id = Field(description="审查 The audit (id)")
    members: RuleList = Field(
        description="R-7.2.1 审查组 [{auditor_id, role: leader / auditor / tech_expert}]"
    )
    objectives: RuleText = Field(description="R-7.2.5 审查目的 Objectives")
    criteria: RuleText = Field(description="R-7.2.5 审查依据 Criteria")
    scope_and_boundaries: RuleText = Field(description="R-7.2.5 审查范围和边界 Scope, boundaries")
    onsite_start: RuleDate = Field(description="R-7.2.5 现场审查开始 ISO date")
    onsite_end: RuleDate = Field(description="R-7.2.5 现场审查结束 ISO date, ≥ start")
    audit_languages: RuleList = Field(
        default=None, description="R-7.2.1(4) 审查语言 language codes (none: Chinese)"
    )
    considerations: RuleText = Field(
        default=None, description="R-7.2.1 委派考虑说明 how factors 1–4 were considered"
    )


@handler("team.appoint", params=AppointParams)
def appoint_audit_team(params: AppointParams, ctx: HandlerContext) -> dict[str, Any]:
    """Check the proposed team; record it with the appointment letter when it is valid."""
    return appoint(ctx, **params.model_dump())
