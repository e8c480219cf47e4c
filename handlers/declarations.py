"""Handlers: the applicant's declarations (see docs/decisions.md, issue 15).

`application.record_declarations` (R-13, R-11): the signed attestation of truth and legality
and the acknowledgement of what will be public, kept with the application;
`application.resubmit` (R-6.2.2b): a not-accepted application supplemented and submitted again
for a new acceptance review. Thin adapters over `domain/declarations.py`.
"""

from typing import Any

from pydantic import Field

from domain import declarations
from handlers.application import ApplicationParams
from handlers.params import RuleDate, RuleFlag, RuleList, RuleText
from handlers.registry import HandlerContext, handler


class DeclarationParams(ApplicationParams):
    truth_attestation: RuleFlag = Field(description="R-13 申请真实合法声明 Attestation (true)")
    attestation_signatory: RuleText = Field(description="R-13 声明人 Signatory's name")
    attestation_position: RuleText = Field(description="R-13 声明人职务 Signatory's position")
    attestation_signed_on: RuleDate = Field(description="R-13 声明日期 ISO date, last 30 days")
    public_information_acknowledged: RuleFlag = Field(
        description="R-11 已知悉公开信息 Registry contents acknowledged (true)"
    )


@handler("application.record_declarations", params=DeclarationParams)
def record_declarations(params: DeclarationParams, ctx: HandlerContext) -> dict[str, Any]:
    """Keep the attestation (R-13) and the public-information acknowledgement (R-11)."""
    rows = declarations.record_declarations(
        ctx,
        params.application_id,
        truth_attestation=params.truth_attestation,
        signatory_name=params.attestation_signatory,
        signatory_position=params.attestation_position,
        signed_on=params.attestation_signed_on,
        public_information_acknowledged=params.public_information_acknowledged,
    )
    return {"ids": [row.id for row in rows]}


class ResubmitParams(ApplicationParams):
    changes: RuleText = Field(description="R-6.2.2b 补充说明 What was supplemented or changed")
    supplementary_files: RuleList = Field(description="R-6.2.2b 补充材料 File ids (may be empty)")


@handler("application.resubmit", params=ResubmitParams)
def resubmit(params: ResubmitParams, ctx: HandlerContext) -> dict[str, Any]:
    """R-6.2.2b: the supplemented application goes back to the acceptance review."""
    row = declarations.resubmit(
        ctx, params.application_id, changes=params.changes, files=params.supplementary_files
    )
    return {"id": row.id}
