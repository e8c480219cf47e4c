"""Certification fees per contract (R-9.5.1e 未按规定缴纳认证费用; R-6.2.2 the contract states the
fees): the market department invoices the fees of a contract and records the payments; the status
of an invoice is derived from its payments and the date. An invoice still unpaid when the grace
period after its due date is over starts the suspension with reason (e) once (unpaid_fees.bpmn);
paying it is the correction the suspension's verification requires before a restoration.

Without Flask or the engine; the web and the handlers call these functions."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from certflow.dates import china_date, last_day_of_days, limit_timer
from domain.checks import optional_text, require_date
from domain.errors import RuleViolation
from domain.models import Application, Certificate, Contract
from domain.models_fees import ContractInvoice, ContractPayment

RULE = "R-9.5.1e"
# The fees a contract invoices (CNCA service certification practice): application, audit
# (document review + on-site), surveillance, annual certificate/mark fee, certificate issue.
FEE_KINDS = ("application", "audit", "surveillance", "annual", "certificate")
STATUSES = ("open", "partly_paid", "paid", "overdue")
MAX_AMOUNT = Decimal("100000000")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class InvoiceState:
    """What an invoice stands at on a day: paid so far, the balance, the derived status."""

    paid: Decimal
    balance: Decimal
    status: str  # STATUSES


def contract_date(contract: Contract) -> date:
    """The day the contract was concluded: the later of the two signatures (R-6.2.2a)."""
    return max(contract.client_signed_on, contract.cb_signed_on)


def money(value: Any, field: str) -> Decimal:
    """A positive amount in yuan with at most two decimals (a 422 on `field` otherwise)."""
    try:
        amount = None if isinstance(value, bool) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        amount = None
    if amount is None or not amount.is_finite() or amount <= 0:
        raise RuleViolation(RULE, f"'{field}' is a positive amount, got {value!r}", field=field)
    if amount != amount.quantize(CENT) or amount > MAX_AMOUNT:
        raise RuleViolation(RULE, f"'{field}' has at most two decimals and 8 digits", field=field)
    return amount.quantize(CENT)


def invoice_state(invoice: ContractInvoice, today: date) -> InvoiceState:
    """R-9.5.1e: paid when the payments cover the amount; overdue when a balance remains after
    the due date (its last day, docs/calendar.md); partly paid / open before that."""
    paid = sum((p.amount for p in invoice.payments), Decimal("0")).quantize(CENT)
    balance = (invoice.amount - paid).quantize(CENT)
    if balance <= 0:
        status = "paid"
    elif today > invoice.due_on:
        status = "overdue"
    elif paid > 0:
        status = "partly_paid"
    else:
        status = "open"
    return InvoiceState(paid=paid, balance=max(balance, Decimal("0.00")), status=status)


def _next_number(session: Session, contract: Contract) -> str:
    count = session.scalar(
        select(func.count(ContractInvoice.id)).where(ContractInvoice.contract_id == contract.id)
    )
    return f"{contract.number}-F{(count or 0) + 1:02d}"


def record_invoice(
    session: Session,
    *,
    contract_id: int,
    kind: Any,
    amount: Any,
    issued_on: Any,
    due_on: Any,
    note: Any,
    actor: str,
    now: datetime,
) -> ContractInvoice:
    """R-9.5.1e: an invoice of the contract; issued neither before the contract nor in the
    future, due on or after its issue."""
    contract = session.get(Contract, contract_id)
    if contract is None:
        raise RuleViolation(RULE, f"contract {contract_id} does not exist", field="contract_id")
    if kind not in FEE_KINDS:
        raise RuleViolation(RULE, f"'kind' is one of {FEE_KINDS}, got {kind!r}", field="kind")
    value = money(amount, "amount")
    issued = require_date(issued_on, "issued_on", RULE)
    if issued < contract_date(contract):
        raise RuleViolation(
            RULE,
            f"issued {issued}, before the contract ({contract_date(contract)})",
            field="issued_on",
        )
    if issued > china_date(now):
        raise RuleViolation(RULE, f"issued {issued} is in the future", field="issued_on")
    due = require_date(due_on, "due_on", RULE)
    if due < issued:
        raise RuleViolation(RULE, f"due {due}, before its issue ({issued})", field="due_on")
    invoice = ContractInvoice(
        contract_id=contract.id,
        number=_next_number(session, contract),
        kind=kind,
        amount=value,
        issued_on=issued,
        due_on=due,
        note=optional_text(note) or None,
        recorded_by=actor,
        recorded_at=now,
    )
    session.add(invoice)
    session.flush()
    return invoice


def record_payment(
    session: Session,
    *,
    invoice_id: int,
    amount: Any,
    paid_on: Any,
    reference: Any,
    actor: str,
    now: datetime,
) -> ContractPayment:
    """R-9.5.1e: a payment against an invoice: positive, never beyond the open balance, paid
    neither before the contract nor in the future, with the bank or receipt reference."""
    # The row lock serialises payments of one invoice (PostgreSQL): the balance read below
    # includes every payment committed before, so two payments never exceed it together.
    invoice = session.get(ContractInvoice, invoice_id, with_for_update=True, populate_existing=True)
    if invoice is None:
        raise RuleViolation(RULE, f"invoice {invoice_id} does not exist", field="invoice_id")
    session.expire(invoice, ["payments"])  # read again under the lock
    value = money(amount, "amount")
    today = china_date(now)
    balance = invoice_state(invoice, today).balance
    if value > balance:
        raise RuleViolation(
            RULE, f"{value} is more than the open balance {balance}", field="amount"
        )
    paid = require_date(paid_on, "paid_on", RULE)
    if paid < contract_date(invoice.contract):
        raise RuleViolation(RULE, f"paid {paid}, before the contract", field="paid_on")
    if paid > today:
        raise RuleViolation(RULE, f"paid {paid} is in the future", field="paid_on")
    text = optional_text(reference)
    if not text or len(text) > 100:
        raise RuleViolation(
            RULE, "'reference' is required (at most 100 characters)", field="reference"
        )
    payment = ContractPayment(
        invoice_id=invoice.id,
        amount=value,
        paid_on=paid,
        reference=text,
        recorded_by=actor,
        recorded_at=now,
    )
    session.add(payment)
    session.flush()
    session.refresh(invoice, ["payments"])
    return payment


def invoices_of_organisation(session: Session, organisation_id: int) -> list[ContractInvoice]:
    """Every invoice of every contract of the organisation's applications, oldest first."""
    return list(
        session.scalars(
            select(ContractInvoice)
            .join(Contract, Contract.id == ContractInvoice.contract_id)
            .join(Application, Application.id == Contract.application_id)
            .where(Application.organisation_id == organisation_id)
            .order_by(ContractInvoice.id)
        )
    )


def contracts_of_organisation(session: Session, organisation_id: int) -> list[Contract]:
    return list(
        session.scalars(
            select(Contract)
            .join(Application, Application.id == Contract.application_id)
            .where(Application.organisation_id == organisation_id)
            .order_by(Contract.id)
        )
    )


# -- overdue → suspension (unpaid_fees.bpmn) ------------------------------------------------------
def overdue_timer(session: Session, *, invoice_id: int, grace_days: int) -> dict:
    """The invoice and the instant its grace period is over: the last day of `grace_days` days
    after the due date; the limit acts the day after at 09:00 China time (docs/calendar.md)."""
    invoice = _invoice(session, invoice_id)
    last_day = last_day_of_days(invoice.due_on + _ONE_DAY, grace_days)
    return {
        "invoice_id": invoice.id,
        "invoice_number": invoice.number,
        "contract_number": invoice.contract.number,
        "due_on": invoice.due_on.isoformat(),
        "grace_last_day": last_day.isoformat(),
        "overdue_at": limit_timer(last_day),
    }


def suspension_for_overdue(session: Session, *, invoice_id: int, now: datetime) -> dict:
    """R-9.5.1e: at the end of the grace period — the invoice still has a balance and the
    contract's certificate is held (valid or already suspended) → suspend with the invoice named,
    once (`suspension_requested_at`); paid, or no certificate held → nothing to suspend."""
    invoice = _invoice(session, invoice_id)
    state = invoice_state(invoice, china_date(now))
    certificate = held_certificate(session, invoice.contract)
    result = {"suspend": False, "certificate_id": None, "cycle_number": None, "detail": None}
    if state.status != "overdue" or certificate is None or invoice.suspension_requested_at:
        return result
    from domain.misuse import cycle_certificate  # the cycle's business key

    invoice.suspension_requested_at = now
    number, contract_number = invoice.number, invoice.contract.number
    detail = (
        f"R-9.5.1e 合同 {contract_number} 的认证费用发票 {number}（{invoice.amount} 元，"
        f"应于 {invoice.due_on} 前交纳）宽限期满仍欠 {state.balance} 元 / invoice {number} "
        f"under contract {contract_number} ({invoice.amount} yuan, due {invoice.due_on}) still "
        f"owes {state.balance} after the grace period"
    )
    return {
        "suspend": True,
        "certificate_id": certificate.id,
        "cycle_number": cycle_certificate(session, certificate).number,
        "detail": detail,
    }


def held_certificate(session: Session, contract: Contract) -> Certificate | None:
    """The certificate the contract's client holds now (valid or suspended), if any."""
    from domain.certificates import current_certificate

    first = session.scalars(
        select(Certificate)
        .where(Certificate.application_id == contract.application_id)
        .order_by(Certificate.id)
    ).first()
    if first is None:
        return None
    held = current_certificate(session, first)
    return held if held.status in ("valid", "suspended") else None


def unpaid_suspending_invoices(session: Session, certificate: Certificate, today: date) -> list:
    """The invoices that suspended this certificate (R-9.5.1e) and still have a balance: the
    suspension cannot be lifted before they are paid."""
    invoices = session.scalars(
        select(ContractInvoice)
        .join(Contract, Contract.id == ContractInvoice.contract_id)
        .where(
            Contract.application_id == certificate.application_id,
            ContractInvoice.suspension_requested_at.is_not(None),
        )
    ).all()
    return [i for i in invoices if invoice_state(i, today).status != "paid"]


def _invoice(session: Session, invoice_id: Any) -> ContractInvoice:
    invoice = session.get(ContractInvoice, invoice_id) if isinstance(invoice_id, int) else None
    if invoice is None:
        raise RuleViolation(RULE, f"invoice {invoice_id!r} does not exist")
    return invoice


_ONE_DAY = timedelta(days=1)


def require_fees_paid(
    session: Session, certificate: Certificate, today: date, field: str | None = None
) -> None:
    """R-9.5.1e: paying the invoice is the correction — refuse a restoration while an invoice
    that suspended the certificate still has a balance."""
    unpaid = unpaid_suspending_invoices(session, certificate, today)
    if unpaid:
        numbers = ", ".join(i.number for i in unpaid)
        raise RuleViolation(
            RULE, f"invoice {numbers} is not paid: the suspension cannot be lifted", field=field
        )
