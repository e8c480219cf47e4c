"""R-8.6 for surveillance audits (issue 15): every audit has its written report — the
surveillance audit too — submitted by its team leader and signed for by the client."""

from datetime import timedelta

from sqlalchemy import select

from certflow.dates import add_months
from certflow.db import db
from domain.models import Audit, Document
from tests.lifecycle_case import nine_am


def test_a_surveillance_audit_has_its_report_signed_for_by_the_client(life):
    certificate = life.certify()
    due = add_months(certificate.issued_on, 12)
    life.travel_to(nine_am(due - timedelta(days=60)) + timedelta(minutes=1))
    life.surveil(due - timedelta(days=20))  # completes the receipt task (lifecycle_case)
    db.session.rollback()
    surveillance = db.session.scalars(select(Audit).where(Audit.kind == "surveillance")).one()
    [report] = db.session.scalars(
        select(Document).where(
            Document.kind == "audit_report", Document.audit_id == surveillance.id
        )
    ).all()
    assert report.data["audit_type"] == "surveillance"
    assert report.data["submission"]["submitted_by"] == life.people.leader.username
    assert (surveillance.report_received_by, surveillance.report_received_on) == (
        "王芳",
        life.clock.now().date(),
    )
    assert life.events(certificate)[-1] == "maintained"
