"""GET /organisations/{organisation_id}/invoices: the certification fees of an organisation's
contracts (R-9.5.1e) — each invoice with its payments, balance and status today, as the case page
shows them (domain/contract_fees.py). Staff who may see the case and the client of the
organisation (webapp/access.py, R-11); anyone else 404. Who recorded a payment is internal:
staff only."""

from flask import Response, jsonify
from pydantic import BaseModel, Field

from certflow.dates import china_date
from certflow.db import db
from domain import contract_fees
from domain.models import Organisation
from engine.errors import NotFoundError
from webapp import access
from webapp.api.blueprint import bp
from webapp.api.models import MAX_INT32
from webapp.api.openapi import answers, api_spec
from webapp.api.serialize import viewer
from webapp.runtime import get_clock

ID = f"int(min=1, max={MAX_INT32})"


class FeePayment(BaseModel):
    amount: str = Field(description="Yuan, two decimals (a string: exact).")
    paid_on: str = Field(description="ISO date.")
    reference: str = Field(description="Bank transfer or receipt reference.")
    recorded_by: str | None = Field(description="Username; null for a client.")


class FeeInvoice(BaseModel):
    id: int
    number: str = Field(description="Contract number + sequence, e.g. HT-2026-0001-F01.")
    contract_number: str
    kind: str = Field(description="One of application, audit, surveillance, annual, certificate.")
    amount: str = Field(description="Yuan, two decimals.")
    issued_on: str
    due_on: str = Field(description="The last day to pay (ISO date).")
    paid: str
    balance: str
    status: str = Field(description="open, partly_paid, paid or overdue (derived today).")
    suspension_requested: bool = Field(
        description="The invoice, unpaid after the grace period, suspended the certificate."
    )
    payments: list[FeePayment]


class FeeInvoiceList(BaseModel):
    organisation_id: int
    balance: str = Field(description="What is still due over every invoice.")
    items: list[FeeInvoice]


@bp.get(f"/organisations/<{ID}:organisation_id>/invoices")
@api_spec.validate(
    resp=answers(200, FeeInvoiceList, "The invoices, oldest first.", (401, 404)),
    tags=["fees"],
    operation_id="listOrganisationInvoices",
    path_parameter_descriptions={"organisation_id": "The client organisation's id."},
)
def list_invoices(organisation_id: int) -> Response:
    """The certification fees of the organisation's contracts (R-9.5.1e)."""
    who = viewer()
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None or not access.may_see_case(who, organisation.id):
        raise NotFoundError(f"organisation {organisation_id} not found")
    today = china_date(get_clock().now())
    items = []
    for invoice in contract_fees.invoices_of_organisation(db.session, organisation.id):
        state = contract_fees.invoice_state(invoice, today)
        items.append(
            {
                "id": invoice.id,
                "number": invoice.number,
                "contract_number": invoice.contract.number,
                "kind": invoice.kind,
                "amount": str(invoice.amount),
                "issued_on": invoice.issued_on.isoformat(),
                "due_on": invoice.due_on.isoformat(),
                "paid": str(state.paid),
                "balance": str(state.balance),
                "status": state.status,
                "suspension_requested": invoice.suspension_requested_at is not None,
                "payments": [
                    {
                        "amount": str(p.amount),
                        "paid_on": p.paid_on.isoformat(),
                        "reference": p.reference,
                        "recorded_by": p.recorded_by if who.is_staff else None,
                    }
                    for p in invoice.payments
                ],
            }
        )
    total = sum((contract_fees.Decimal(i["balance"]) for i in items), contract_fees.Decimal("0"))
    return jsonify({"organisation_id": organisation.id, "balance": f"{total:.2f}", "items": items})
