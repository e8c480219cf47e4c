"""Handlers: programme (see docs/initial-certification.md).

`programme.create` (R-7.1.1, R-7.1.2, R-7.1.4): the audit programme of the certification cycle
with its first activities and the initial `Audit` — the rules in `domain/programme.py`.
"""

from typing import Any

from pydantic import Field

from domain.programme import create_programme as create
from handlers.application import ApplicationParams
from handlers.params import OptionalList, OptionalText, RuleDate, RuleFlag, RuleNumber
from handlers.registry import HandlerContext, handler


class ProgrammeParams(ApplicationParams):
    mystery_shopping: RuleFlag = Field(description="R-8.2 暗访 Mystery shopping in the programme")
    random_survey: RuleFlag = Field(description="R-8.3 随机调查 Random survey in the programme")
    document_review_date: RuleDate = Field(
        description="R-8.1 文件评审日期 ISO date, before the on-site audit"
    )
    initial_audit_start: RuleDate = Field(description="R-7.1.2 初始审查开始 ISO date")
    initial_audit_end: RuleDate = Field(description="R-7.1.2 初始审查结束 ISO date, ≥ start")
    man_days: RuleNumber = Field(description="R-7.1.2 审查人日 Man-days, ≥ 0.5")
    sizing_notes: OptionalText = Field(description="R-7.1.2 人日确定说明 How the size was set")
    shift_work_notes: OptionalText = Field(
        description="R-7.1.4 轮班说明 How shift work is covered (needed for shift work)"
    )
    shifts: OptionalList = Field(
        None, description="R-7.1.4 班次 The client's shifts [{name, hours}] (needed for shift work)"
    )


@handler("programme.create", params=ProgrammeParams)
def create_programme(params: ProgrammeParams, ctx: HandlerContext) -> dict[str, Any]:
    """Create the programme, its document review and initial audit, and the initial Audit."""
    return create(ctx, **params.model_dump())
