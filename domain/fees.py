"""Unpaid certification fees (R-9.5.1e 未按时交纳认证费用): the rules of unpaid_fees.bpmn, without
Flask or the engine.

Fees are tracked per contract (R-6.2.2: the contract of the certificate's application states the
fee). When a payment is overdue the market department records it — the contract, the amount, the
due date — and the record (an internal document `fee_overdue_record`, never shown to the client)
starts the suspension with reason (e) through the `suspend_certificate` message. Payment later is
verified as the suspension's correction (the suspension process restores or withdraws)."""

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from certflow.dates import china_date
from domain.certificates import current_certificate, get_certificate
from domain.checks import optional_text, require_date
from domain.documents import create_document
from domain.errors import RuleViolation
from domain.misuse import cycle_certificate
from domain.models import Contract

RULE = "R-9.5.1e"
RECORD_KIND = "fee_overdue_record"


def contract_of(session: Session, certificate: Any) -> Contract:
    contract = session.scalars(
        select(Contract).where(Contract.application_id == certificate.application_id)
    ).first()
    if contract is None:
        raise RuleViolation(
            RULE, f"certificate {certificate.number} has no contract: no fee can be overdue"
        )
    return contract


def describe(session: Session, *, certificate_id: Any) -> dict:
    """The certificate held now and its contract's fee (shown to the market department)."""
    certificate = current_certificate(session, get_certificate(session, certificate_id))
    contract = contract_of(session, certificate)
    return {
        "certificate_id": certificate.id,
        "number": certificate.number,
        # The business key of the cycle's lifecycle processes (suspend_certificate).
        "cycle_number": cycle_certificate(session, certificate).number,
        "status": certificate.status,
        "organisation_name": certificate.organisation_name,
        "contract_number": contract.number,
        "contract_fee": str(contract.fee) if contract.fee is not None else None,
    }


def overdue_payment(amount: Any, due_on: Any, today: date) -> tuple[Decimal, date]:
    """R-9.5.1e: a positive amount whose due date has passed (the form check and the service
    task both call this)."""
    try:
        value = Decimal(str(amount)) if not isinstance(amount, bool) else None
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value <= 0:
        raise RuleViolation(
            RULE, f"the overdue amount is a positive number, got {amount!r}", field="amount"
        )
    due = require_date(due_on, "due_on", RULE)
    if due >= today:
        raise RuleViolation(
            RULE, f"the payment due {due} is not overdue yet (today is {today})", field="due_on"
        )
    return value.quantize(Decimal("0.01")), due


def record_overdue(
    session: Session,
    *,
    certificate_id: Any,
    amount: Any,
    due_on: Any,
    note: Any,
    actor: str,
    now: datetime,
) -> dict:
    """R-9.5.1e: record a payment of the certificate's contract that is overdue (its due date
    has passed) → the detail of the suspension with reason (e). Only a valid certificate."""
    certificate = current_certificate(session, get_certificate(session, certificate_id))
    if certificate.status != "valid":
        raise RuleViolation(
            RULE, f"certificate {certificate.number} is {certificate.status}: only a valid one"
        )
    contract = contract_of(session, certificate)
    amount, due_on = overdue_payment(amount, due_on, china_date(now))
    note = optional_text(note)
    detail = (
        f"R-9.5.1e 合同 {contract.number} 的认证费用 {amount} 元应于 {due_on} 前交纳，逾期未交 "
        f"the fee of {amount} under contract {contract.number} was due by {due_on} and is unpaid"
    )
    record = create_document(
        session,
        kind=RECORD_KIND,
        title_facts={"reference": contract.number},
        lines=[detail] + ([note] if note else []),
        organisation_id=certificate.organisation_id,
        application_id=certificate.application_id,
        created_by=actor,
        now=now,
        data={
            "certificate_number": certificate.number,
            "contract_number": contract.number,
            "amount": str(amount),
            "due_on": due_on.isoformat(),
            "note": note,
        },
    )
    return {"record_id": record.id, "contract_number": contract.number, "detail": detail}
