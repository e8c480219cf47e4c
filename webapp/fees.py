"""Certification fees on the case page (R-9.5.1e 未按规定缴纳认证费用): the invoices of every
contract of the organisation with their payments and balance — staff and the client of the case
see them — and the market department's forms to invoice a fee
(`/cases/<organisation>/fees/invoice`) and record a payment (`/cases/<organisation>/fees/<invoice>
/payment`).

* Only MANAGE_FEES (market, admin — the permission table's allowlist) may record; others 403,
  logged. The case must be visible to the user and the contract/invoice part of it (else 404).
* The rules are domain/contract_fees.py's; a refusal is shown on its field (422), nothing written.
* Recording an invoice starts its unpaid_fees.bpmn instance in the same transaction: the timer at
  the end of the grace period suspends the certificate when the invoice is still unpaid.
"""

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy import select

from certflow.dates import china_date
from certflow.db import db
from certflow.permissions import Permission, may, roles_with
from domain import contract_fees
from domain.errors import RuleViolation
from domain.models import Application, Contract
from domain.models_fees import ContractInvoice
from engine.errors import ConflictError, EngineError
from webapp.auth import current_viewer, deny, roles_required
from webapp.cases import display_names, visible_case
from webapp.runtime import get_clock, get_engine

bp = Blueprint("fees", __name__)
MANAGE_ROLES = tuple(sorted(roles_with(Permission.MANAGE_FEES)))
FEE_PROCESS = "unpaid_fees"

KIND_LABELS = {
    "application": lazy_gettext("Application fee"),
    "audit": lazy_gettext("Audit fee"),
    "surveillance": lazy_gettext("Surveillance fee"),
    "annual": lazy_gettext("Annual fee"),
    "certificate": lazy_gettext("Certificate fee"),
}
STATUS_LABELS = {
    "open": lazy_gettext("Not yet paid"),
    "partly_paid": lazy_gettext("Partly paid"),
    "paid": lazy_gettext("Paid"),
    "overdue": lazy_gettext("Overdue"),
}
STATUS_BADGES = {
    "open": "badge badge-info",
    "partly_paid": "badge badge-warning",
    "paid": "badge badge-success",
    "overdue": "badge badge-danger",
}


def fee_rows(organisation_id: int) -> list[dict[str, Any]]:
    """Every invoice of the organisation's contracts with its state today, oldest first."""
    today = china_date(get_clock().now())
    invoices = contract_fees.invoices_of_organisation(db.session, organisation_id)
    names = display_names({p.recorded_by for i in invoices for p in i.payments})
    return [
        {
            "invoice": invoice,
            "kind": str(KIND_LABELS[invoice.kind]),
            "state": (state := contract_fees.invoice_state(invoice, today)),
            "status": str(STATUS_LABELS[state.status]),
            "badge": STATUS_BADGES[state.status],
            "payments": [
                {"payment": p, "who": names.get(p.recorded_by, p.recorded_by)}
                for p in invoice.payments
            ],
        }
        for invoice in invoices
    ]


def amount_due(rows: list[dict[str, Any]]) -> Any:
    return sum((r["state"].balance for r in rows), contract_fees.Decimal("0.00"))


@bp.app_context_processor
def _fee_helpers() -> dict[str, Any]:
    def may_manage_fees() -> bool:
        return may(current_viewer().roles, Permission.MANAGE_FEES)

    def fees_for_staff() -> bool:  # who recorded a payment is internal
        return current_viewer().is_staff

    return {
        "fee_rows": fee_rows,
        "fees_amount_due": amount_due,
        "may_manage_fees": may_manage_fees,
        "fees_for_staff": fees_for_staff,
    }


def _message(violation: RuleViolation) -> str:
    """The refusal in the reader's language, with the rule it keeps (R-9.5.1e)."""
    detail = violation.detail
    messages = {
        "contract_id": _("Choose a contract of this case."),
        "kind": _("Choose the kind of fee."),
        "reference": _("Enter the bank or receipt reference."),
    }
    if violation.field == "amount":
        if "balance" in detail:
            return _("The payment is more than the open balance of the invoice (rule 9.5.1).")
        return _("Enter a positive amount in yuan with at most two decimals.")
    if violation.field in ("issued_on", "paid_on", "due_on"):
        if "before the contract" in detail:
            return _("The date is before the contract was signed.")
        if "future" in detail:
            return _("The date is in the future.")
        if "before its issue" in detail:
            return _("The due date is before the invoice was issued.")
        return _("Enter a date.")
    return messages.get(
        violation.field or "", _("This value breaks rule %(rule)s.", rule=violation.rule)
    )


def _page(template: str, status: int = 200, **context: Any):
    return render_template(template, **context), status


# -- invoice --------------------------------------------------------------------------------------
@bp.route("/cases/<int:organisation_id>/fees/invoice", methods=["GET", "POST"])
@roles_required(*MANAGE_ROLES)
def invoice(organisation_id: int):
    organisation, refused = visible_case(organisation_id)
    if organisation is None:
        return refused
    contracts = contract_fees.contracts_of_organisation(db.session, organisation.id)

    def page(form, errors, status=200):
        return _page(
            "cases/fee_invoice.html",
            status,
            organisation=organisation,
            contracts=contracts,
            kinds=list(KIND_LABELS.items()),
            form=form,
            errors=errors,
        )

    if request.method == "GET":
        return page({}, {})
    form = request.form
    chosen = form.get("contract_id", "")
    contract = next((c for c in contracts if str(c.id) == chosen), None)
    clock = get_clock()
    try:
        if contract is None:
            raise RuleViolation(contract_fees.RULE, "no contract of this case", field="contract_id")
        recorded = contract_fees.record_invoice(
            db.session,
            contract_id=contract.id,
            kind=form.get("kind", ""),
            amount=form.get("amount", ""),
            issued_on=form.get("issued_on", ""),
            due_on=form.get("due_on", ""),
            note=form.get("note"),
            actor=current_viewer().username,
            now=clock.now(),
        )
        number = db.session.get(Application, contract.application_id).number
        # One transaction: the invoice and its process (the grace-period timer) or neither.
        get_engine().start(
            FEE_PROCESS,
            actor=current_viewer().actor,
            data={"invoice_id": recorded.id},
            business_key=number,
        )
    except RuleViolation as violation:
        db.session.rollback()
        return page(form, {violation.field or "kind": [_message(violation)]}, 422)
    except ConflictError:
        db.session.rollback()
        return page(form, {"kind": [_("Someone else recorded at the same time: try again.")]}, 409)
    except EngineError:  # e.g. unpaid_fees not deployed: nothing is kept, never a 500
        db.session.rollback()
        return page(form, {"kind": [_("Invoicing is not possible at the moment.")]}, 503)
    flash(_("Invoice %(number)s was recorded.", number=recorded.number))
    return redirect(url_for("cases.show", organisation_id=organisation.id) + "#fees")


# -- payment --------------------------------------------------------------------------------------
def _invoice_of_case(organisation_id: int, invoice_id: int):
    organisation, refused = visible_case(organisation_id)
    if organisation is None:
        return None, None, refused
    found = db.session.get(ContractInvoice, invoice_id) if 0 < invoice_id < 2**31 else None
    in_case = (
        found is not None
        and db.session.scalar(
            select(Application.organisation_id)
            .join(Contract, Contract.application_id == Application.id)
            .where(Contract.id == found.contract_id)
        )
        == organisation.id
    )
    if not in_case:
        return None, None, deny(404, f"invoice {invoice_id} is not part of this case")
    return organisation, found, None


@bp.route("/cases/<int:organisation_id>/fees/<int:invoice_id>/payment", methods=["GET", "POST"])
@roles_required(*MANAGE_ROLES)
def payment(organisation_id: int, invoice_id: int):
    organisation, found, refused = _invoice_of_case(organisation_id, invoice_id)
    if found is None:
        return refused
    today = china_date(get_clock().now())

    def page(form, errors, status=200):
        return _page(
            "cases/fee_payment.html",
            status,
            organisation=organisation,
            invoice=found,
            kind=KIND_LABELS[found.kind],
            state=contract_fees.invoice_state(found, today),
            form=form,
            errors=errors,
        )

    if request.method == "GET":
        return page({}, {})
    form = request.form
    try:
        contract_fees.record_payment(
            db.session,
            invoice_id=found.id,
            amount=form.get("amount", ""),
            paid_on=form.get("paid_on", ""),
            reference=form.get("reference", ""),
            actor=current_viewer().username,
            now=get_clock().now(),
        )
        db.session.commit()
    except RuleViolation as violation:
        db.session.rollback()
        organisation, found, _refused = _invoice_of_case(organisation_id, invoice_id)
        return page(form, {violation.field or "amount": [_message(violation)]}, 422)
    flash(_("The payment of invoice %(number)s was recorded.", number=found.number))
    return redirect(url_for("cases.show", organisation_id=organisation.id) + "#fees")
