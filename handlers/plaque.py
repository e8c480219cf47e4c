"""Handlers: the bronze plaque showing the level (R-10.1 f 认证铜牌), mark_plaque.bpmn — thin
adapters over domain/mark_plaque.py."""

from typing import Any

from pydantic import Field

from domain import mark_plaque
from handlers.params import Id, OptionalText, Params, RuleDate, RuleText
from handlers.registry import HandlerContext, handler


class CertificateParams(Params):
    certificate_id: Id = Field(description="R-10.1f 证书 The certificate (id)")


@handler("plaque.describe", params=CertificateParams)
def describe(params: CertificateParams, ctx: HandlerContext) -> dict[str, Any]:
    """The certificate the plaque is for: number, level, organisation."""
    return mark_plaque.describe(ctx.session, params.certificate_id)


class RecordParams(CertificateParams):
    plaque_number: RuleText = Field(description="R-10.1f 铜牌编号 Plaque number (unique)")
    issued_on: RuleDate = Field(description="R-10.1f 发放日期 Date issued, ISO")
    recipient: RuleText = Field(description="R-10.1f 接收人 Sent to whom")
    note: OptionalText = Field(None, description="备注 Note")


@handler("plaque.record", params=RecordParams)
def record(params: RecordParams, ctx: HandlerContext) -> dict[str, Any]:
    """R-10.1(f): the plaque issued, showing the certificate's level."""
    row = mark_plaque.record_plaque(
        ctx,
        params.certificate_id,
        plaque_number=params.plaque_number,
        issued_on=params.issued_on,
        recipient=params.recipient,
        note=params.note,
    )
    return {"id": row.id, "plaque_number": row.plaque_number, "star_level": row.star_level}
