"""The rules of certification fees per contract (R-9.5.1e, domain/contract_fees.py) without the
engine or the web: the derived status of an invoice, and what the market department may record
(no negative amount, no payment beyond the balance, no date before the contract)."""

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from certflow.dates import china_date
from certflow.db import db, is_conflict
from domain import contract_fees
from domain.errors import RuleViolation
from domain.models import Application, Contract
from domain.models_fees import ContractInvoice, ContractPayment
from tests.factories import make_application, make_organisation
from tests.helpers import run_in_threads


def test_the_status_follows_the_payments_and_the_due_date() -> None:
    invoice = ContractInvoice(amount=Decimal("1000.00"), due_on=date(2027, 3, 31))
    day, after = date(2027, 3, 31), date(2027, 4, 1)
    assert contract_fees.invoice_state(invoice, day).status == "open"
    invoice.payments.append(ContractPayment(amount=Decimal("400.00")))
    state = contract_fees.invoice_state(invoice, day)
    assert (state.status, state.paid, state.balance) == ("partly_paid", Decimal("400"), 600)
    # Overdue from the day after the due date, its last day (docs/calendar.md).
    assert contract_fees.invoice_state(invoice, after).status == "overdue"
    invoice.payments.append(ContractPayment(amount=Decimal("600.00")))
    assert contract_fees.invoice_state(invoice, after).status == "paid"
    assert contract_fees.invoice_state(invoice, after).balance == Decimal("0.00")


@pytest.fixture
def contract(ctx, clock):
    now = clock.now()
    organisation = make_organisation(db.session, now)
    application = make_application(db.session, now, organisation)
    signed = china_date(now) - timedelta(days=10)
    contract = Contract(
        application_id=application.id,
        number="HT-2026-0001",
        client_signatory="王经理",
        client_signed_on=signed - timedelta(days=1),
        cb_signatory="马市场",
        cb_signed_on=signed,
        fee=Decimal("30000"),
        recorded_by="ma_market",
        recorded_at=now,
    )
    db.session.add(contract)
    db.session.commit()
    return contract


def invoice(contract, clock, **changes):
    today = china_date(clock.now())
    values = {
        "contract_id": contract.id,
        "kind": "audit",
        "amount": "20000",
        "issued_on": today.isoformat(),
        "due_on": (today + timedelta(days=15)).isoformat(),
        "note": None,
        **changes,
    }
    return contract_fees.record_invoice(db.session, **values, actor="ma_market", now=clock.now())


def refused_field(call) -> str:
    with pytest.raises(RuleViolation) as err:
        call()
    assert err.value.rule == "R-9.5.1e"
    return err.value.field


def test_the_market_department_records_invoices_and_payments(contract, clock) -> None:
    first = invoice(contract, clock)
    second = invoice(contract, clock, kind="annual", amount="1200.5")
    assert (first.number, second.number) == ("HT-2026-0001-F01", "HT-2026-0001-F02")
    assert second.amount == Decimal("1200.50")
    payment = contract_fees.record_payment(
        db.session,
        invoice_id=first.id,
        amount="15000",
        paid_on=china_date(clock.now()).isoformat(),
        reference="BANK-1",
        actor="ma_market",
        now=clock.now(),
    )
    assert payment.amount == Decimal("15000.00")
    assert contract_fees.invoice_state(first, china_date(clock.now())).balance == 5000
    organisation_id = db.session.get(Application, contract.application_id).organisation_id
    listed = contract_fees.invoices_of_organisation(db.session, organisation_id)
    assert [i.id for i in listed] == [first.id, second.id]


def test_bad_invoices_are_refused_on_their_field(contract, clock) -> None:
    today = china_date(clock.now())
    assert refused_field(lambda: invoice(contract, clock, amount="-5")) == "amount"
    assert refused_field(lambda: invoice(contract, clock, amount="0")) == "amount"
    assert refused_field(lambda: invoice(contract, clock, amount="1.001")) == "amount"
    assert refused_field(lambda: invoice(contract, clock, kind="tip")) == "kind"
    before = (contract.cb_signed_on - timedelta(days=1)).isoformat()
    assert refused_field(lambda: invoice(contract, clock, issued_on=before)) == "issued_on"
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert refused_field(lambda: invoice(contract, clock, issued_on=tomorrow)) == "issued_on"
    yesterday = (today - timedelta(days=1)).isoformat()
    assert refused_field(lambda: invoice(contract, clock, due_on=yesterday)) == "due_on"
    assert contract.invoices == []


def test_bad_payments_are_refused_on_their_field(contract, clock) -> None:
    first = invoice(contract, clock, amount="1000")
    today = china_date(clock.now())

    def pay(**changes):
        values = {"amount": "100", "paid_on": today.isoformat(), "reference": "BANK-9", **changes}
        return lambda: contract_fees.record_payment(
            db.session, invoice_id=first.id, **values, actor="ma_market", now=clock.now()
        )

    assert refused_field(pay(amount="-1")) == "amount"
    assert refused_field(pay(amount="1000.01")) == "amount"  # beyond the balance
    before = (contract.cb_signed_on - timedelta(days=1)).isoformat()
    assert refused_field(pay(paid_on=before)) == "paid_on"
    assert refused_field(pay(paid_on=(today + timedelta(days=1)).isoformat())) == "paid_on"
    assert refused_field(pay(reference=" ")) == "reference"
    pay(amount="1000")()
    assert refused_field(pay(amount="0.01")) == "amount"  # nothing left to pay


def test_two_payments_at_once_never_exceed_the_balance(app, contract, clock) -> None:
    """Races → one winner: two payments of 700 against a balance of 1000 at the same moment;
    one is recorded, the other refused (beyond the balance) or, on SQLite's single writer, a
    conflict — never both."""
    first = invoice(contract, clock, amount="1000")
    db.session.commit()
    invoice_id, now = first.id, clock.now()
    start = threading.Barrier(2, timeout=30)

    def pay():
        start.wait()
        contract_fees.record_payment(
            db.session,
            invoice_id=invoice_id,
            amount="700",
            paid_on=china_date(now).isoformat(),
            reference="BANK-RACE",
            actor="ma_market",
            now=now,
        )
        db.session.commit()

    results = run_in_threads(app, pay, pay)
    assert sorted(kind for kind, _ in results) == ["error", "ok"], results
    [(_, error)] = [r for r in results if r[0] == "error"]
    assert isinstance(error, RuleViolation) or is_conflict(error), error
    if db.engine.dialect.name == "postgresql":
        assert isinstance(error, RuleViolation) and error.field == "amount"
    db.session.rollback()
    paid = db.session.scalars(
        select(ContractPayment.amount).where(ContractPayment.invoice_id == invoice_id)
    ).all()
    assert paid == [Decimal("700.00")]
