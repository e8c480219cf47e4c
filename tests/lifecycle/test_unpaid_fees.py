"""Unpaid certification fees suspend the certificate (R-9.5.1e): the market department records
the overdue payment of the certificate's contract in unpaid_fees.bpmn and the suspension process
suspends with reason (e) — through the engine API and the simulated clock, on both databases."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from certflow.dates import china_date
from certflow.db import db
from domain.models import Announcement, CertificateEvent, Contract, Document
from engine.errors import ForbiddenError, FormValidationError
from tests.certification_case import deploy_everything, make_people
from tests.lifecycle_case import Lifecycle


@pytest.fixture
def case(ctx, engine, clock, tmp_path):
    deploy_everything(engine)
    lifecycle = Lifecycle(engine, clock, make_people(clock.now()), tmp_path / "uploads")
    lifecycle.engine_app = ctx
    return lifecycle


def test_an_overdue_fee_suspends_the_certificate_with_reason_e(case) -> None:
    certificate = case.certify()
    case.at(90)
    contract = db.session.scalars(
        select(Contract).where(Contract.application_id == certificate.application_id)
    ).one()
    instance = case.engine.start(
        "unpaid_fees",
        actor=case.people.market,
        data={"certificate_id": certificate.id},
        business_key=certificate.number,
    )
    task = case.open_in("unpaid_fees", "Task_RecordOverdueFee")
    assert task.candidate_role == "market"
    assert case.engine.task_data(task)["fees"]["contract_number"] == contract.number
    today = china_date(case.clock.now())

    def refused(data) -> dict:
        with pytest.raises(FormValidationError) as err:
            case.engine.complete_task(task.id, actor=case.people.market, data=data)
        return err.value.errors

    # A due date not yet passed is not overdue: 422 on the field, nothing suspended.
    errors = refused({"amount": 12000, "due_on": today.isoformat(), "note": None})
    assert "not overdue yet" in errors["due_on"][0]
    assert "amount" in refused({"amount": 0, "due_on": "2020-01-01", "note": None})
    assert case.instances("suspension") == []

    due = today - timedelta(days=15)
    case.complete_in(
        "unpaid_fees",
        "Task_RecordOverdueFee",
        case.people.market,
        {"amount": 12000.5, "due_on": due.isoformat(), "note": "已两次书面催缴 reminded twice"},
    )
    db.session.rollback()
    assert case.engine.get_instance(instance.id).status == "completed"
    [record] = db.session.scalars(
        select(Document).where(Document.kind == "fee_overdue_record")
    ).all()
    assert record.data["contract_number"] == contract.number
    assert (record.data["amount"], record.data["due_on"]) == ("12000.50", due.isoformat())
    # The suspension process: reason (e), published, the client corrects (pays).
    (suspension,) = case.instances("suspension")
    assert suspension.business_key == certificate.number and suspension.status == "running"
    suspended = case.certificate(certificate.number)
    assert suspended.status == "suspended" and suspended.mark_use_allowed is False
    event = db.session.scalars(
        select(CertificateEvent)
        .where(CertificateEvent.certificate_id == certificate.id)
        .order_by(CertificateEvent.id.desc())
    ).first()
    assert (event.event, event.rule) == ("suspended", "R-9.5.1e")
    assert contract.number in (event.reason + str(event.data))
    published = db.session.scalars(
        select(Announcement).where(
            Announcement.certificate_number == certificate.number,
            Announcement.kind == "suspended",
        )
    ).all()
    assert len(published) == 1
    assert case.open_in("suspension", "Task_SubmitSuspensionCorrection").candidate_role == "client"


def test_only_the_market_department_records_unpaid_fees(case) -> None:
    certificate = case.certify()
    with pytest.raises(ForbiddenError):
        case.engine.start(
            "unpaid_fees",
            actor=case.people.client,
            data={"certificate_id": certificate.id},
            business_key=certificate.number,
        )
