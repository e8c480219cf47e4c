"""Handlers: certification fees per contract (R-9.5.1e) — thin adapters of unpaid_fees.bpmn's
service tasks over `domain/contract_fees.py`, which holds the rules."""

from pydantic import Field

from domain import contract_fees
from handlers.params import Id, Params
from handlers.registry import HandlerContext, handler


class InvoiceParams(Params):
    invoice_id: Id = Field(description="the invoice of a contract's fee")


@handler("fees.overdue_timer", params=InvoiceParams)
def overdue_timer(params: InvoiceParams, ctx: HandlerContext) -> dict:
    """R-9.5.1e: when the grace period after the invoice's due date is over (the CB's setting)."""
    return contract_fees.overdue_timer(
        ctx.session, invoice_id=params.invoice_id, grace_days=ctx.settings.fee_grace_days
    )


@handler("fees.suspension_for_overdue", params=InvoiceParams)
def suspension_for_overdue(params: InvoiceParams, ctx: HandlerContext) -> dict:
    """R-9.5.1e: still unpaid after the grace period → the suspension, once per invoice."""
    return contract_fees.suspension_for_overdue(
        ctx.session, invoice_id=params.invoice_id, now=ctx.now
    )
