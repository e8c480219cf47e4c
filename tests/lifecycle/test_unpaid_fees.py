"""Unpaid certification fees suspend the certificate (R-9.5.1e 未按规定缴纳认证费用): the market
department invoices the contract's fees and records payments; an invoice with a balance when the
grace period after its due date is over starts unpaid_fees.bpmn's suspension with reason (e) once,
and paying it is the correction the restoration needs — through the engine and the simulated
clock (the sweeper fires the timer), on both databases."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from certflow.dates import china_date
from certflow.db import db
from domain import contract_fees
from domain.models import Announcement, Application, CertificateEvent, Contract
from engine.errors import ForbiddenError, FormValidationError
from tests.certification_case import deploy_everything, make_people
from tests.lifecycle_case import Lifecycle, nine_am

GRACE_DAYS = 30  # the default of CERTFLOW_FEE_GRACE_DAYS (docs/decisions.md)


@pytest.fixture
def case(ctx, engine, clock, tmp_path):
    deploy_everything(engine)
    lifecycle = Lifecycle(engine, clock, make_people(clock.now()), tmp_path / "uploads")
    lifecycle.engine_app = ctx
    return lifecycle


def contract_of(certificate) -> Contract:
    return db.session.scalars(
        select(Contract).where(Contract.application_id == certificate.application_id)
    ).one()


def invoice_annual_fee(case, certificate, amount="12000.00", due_in_days=14):
    """The market department invoices the annual fee and its process starts (as the case page
    does: webapp/fees.py)."""
    contract = contract_of(certificate)
    today = china_date(case.clock.now())
    invoice = contract_fees.record_invoice(
        db.session,
        contract_id=contract.id,
        kind="annual",
        amount=amount,
        issued_on=today.isoformat(),
        due_on=(today + timedelta(days=due_in_days)).isoformat(),
        note=None,
        actor=case.people.market.username,
        now=case.clock.now(),
    )
    number = db.session.get(Application, contract.application_id).number
    db.session.commit()
    case.engine.start(
        "unpaid_fees",
        actor=case.people.market,
        data={"invoice_id": invoice.id},
        business_key=number,
    )
    return invoice.id


def pay(case, invoice_id: int, amount: str, reference: str) -> None:
    contract_fees.record_payment(
        db.session,
        invoice_id=invoice_id,
        amount=amount,
        paid_on=china_date(case.clock.now()).isoformat(),
        reference=reference,
        actor=case.people.market.username,
        now=case.clock.now(),
    )
    db.session.commit()


def state(case, invoice_id: int):
    db.session.rollback()
    invoice = db.session.get(contract_fees.ContractInvoice, invoice_id)
    return contract_fees.invoice_state(invoice, china_date(case.clock.now()))


def test_an_invoice_unpaid_after_the_grace_period_suspends_once_and_payment_restores(case) -> None:
    certificate = case.certify()
    case.at(60)
    invoice_id = invoice_annual_fee(case, certificate)
    pay(case, invoice_id, "5000", "银行转账 BANK-001")
    assert state(case, invoice_id).status == "partly_paid"
    due_on = db.session.get(contract_fees.ContractInvoice, invoice_id).due_on

    # Overdue from the day after the due date, but the grace period runs: nothing suspended on
    # its last day (R-9.5.1e with CERTFLOW_FEE_GRACE_DAYS).
    case.travel_to(nine_am(due_on + timedelta(days=GRACE_DAYS)))
    assert state(case, invoice_id).status == "overdue"
    assert state(case, invoice_id).balance == Decimal("7000.00")
    assert case.instances("suspension") == []

    # The day after the grace period, 09:00: the timer fires, the suspension starts with (e).
    case.travel_to(nine_am(due_on + timedelta(days=GRACE_DAYS + 1)))
    (suspension,) = case.instances("suspension")
    suspended = case.certificate(certificate.number)
    assert suspended.status == "suspended" and suspended.mark_use_allowed is False
    event = db.session.scalars(
        select(CertificateEvent)
        .where(CertificateEvent.certificate_id == certificate.id)
        .order_by(CertificateEvent.id.desc())
    ).first()
    assert (event.event, event.rule) == ("suspended", "R-9.5.1e")
    invoice = db.session.get(contract_fees.ContractInvoice, invoice_id)
    assert invoice.number in event.reason + str(event.data)
    assert invoice.suspension_requested_at is not None
    assert (
        len(
            db.session.scalars(
                select(Announcement).where(
                    Announcement.certificate_number == certificate.number,
                    Announcement.kind == "suspended",
                )
            ).all()
        )
        == 1
    )
    (fees_instance,) = case.instances("unpaid_fees")
    assert fees_instance.status == "completed"

    # Once: later sweeps start nothing more.
    case.travel_to(nine_am(due_on + timedelta(days=GRACE_DAYS + 5)))
    assert len(case.instances("suspension")) == 1

    # The client corrects; the verification cannot accept while the invoice has a balance.
    case.complete_in(
        "suspension",
        "Task_SubmitSuspensionCorrection",
        case.people.client,
        {"corrective_actions": "安排付款 payment arranged", "evidence_files": []},
    )
    task = case.open_in("suspension", "Task_VerifySuspensionCorrection")
    accepted = {"accepted": True, "method": "documentary", "note": "已核实 verified"}
    with pytest.raises(FormValidationError) as err:
        case.engine.complete_task(task.id, actor=case.people.audit_dept, data=accepted)
    assert invoice.number in err.value.errors["accepted"][0]
    assert case.certificate(certificate.number).status == "suspended"

    # Paying the balance is the correction: the suspension is lifted.
    pay(case, invoice_id, "7000.00", "银行转账 BANK-002")
    assert state(case, invoice_id).status == "paid"
    case.complete_in(
        "suspension", "Task_VerifySuspensionCorrection", case.people.audit_dept, accepted
    )
    restored = case.certificate(certificate.number)
    assert restored.status == "valid" and restored.mark_use_allowed
    assert case.events(restored)[-2:] == ["suspended", "restored"]


def test_an_invoice_paid_within_the_grace_period_suspends_nothing(case) -> None:
    certificate = case.certify()
    case.at(60)
    invoice_id = invoice_annual_fee(case, certificate, amount="8000")
    due_on = db.session.get(contract_fees.ContractInvoice, invoice_id).due_on
    case.travel_to(nine_am(due_on + timedelta(days=3)))
    assert state(case, invoice_id).status == "overdue"
    pay(case, invoice_id, "8000", "收据 R-123")
    case.travel_to(nine_am(due_on + timedelta(days=GRACE_DAYS + 2)))
    (fees_instance,) = case.instances("unpaid_fees")
    assert fees_instance.status == "completed"
    assert case.instances("suspension") == []
    assert case.certificate(certificate.number).status == "valid"
    assert db.session.get(contract_fees.ContractInvoice, invoice_id).suspension_requested_at is None


def test_only_the_market_department_starts_the_invoice_process(case) -> None:
    certificate = case.certify()
    contract = contract_of(certificate)
    with pytest.raises(ForbiddenError):
        case.engine.start(
            "unpaid_fees",
            actor=case.people.client,
            data={"invoice_id": 1},
            business_key=db.session.get(Application, contract.application_id).number,
        )
