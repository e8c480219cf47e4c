"""Handlers: unpaid certification fees (R-9.5.1e) — thin adapters of unpaid_fees.bpmn's service
tasks over `domain/fees.py`, which holds the rules."""

from pydantic import Field

from domain import fees
from handlers.params import Id, OptionalText, Params, RuleDate, RuleNumber
from handlers.registry import HandlerContext, handler


class CertificateParams(Params):
    certificate_id: Id = Field(description="the certificate whose fees are overdue")


@handler("fees.describe", params=CertificateParams)
def describe(params: CertificateParams, ctx: HandlerContext) -> dict:
    """R-9.5.1e: the certificate held now and its contract's fee."""
    return fees.describe(ctx.session, **params.model_dump())


class OverdueParams(Params):
    certificate_id: Id = Field(description="the certificate whose fees are overdue")
    amount: RuleNumber = Field(description="the overdue amount (yuan)")
    due_on: RuleDate = Field(description="the date the payment was due (passed)")
    note: OptionalText = Field(None, description="reminders sent, the client's answer")


@handler("fees.record_overdue", params=OverdueParams)
def record_overdue(params: OverdueParams, ctx: HandlerContext) -> dict:
    """R-9.5.1e: record the overdue payment of the contract; the suspension follows."""
    return fees.record_overdue(ctx.session, **params.model_dump(), actor=ctx.actor, now=ctx.now)
