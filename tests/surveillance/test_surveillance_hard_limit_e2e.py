"""The latest date of a routine surveillance times the audit, not the corrections (R-8.10.1:
第一次监督审查应在获证后12个月内进行; R-8.7; docs/decisions.md), through the real diagrams:
an audit conducted in time whose corrections run past the 12-month date is not suspended as an
overdue surveillance; an audit not conducted by then still is (R-9.5.1a)."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from certflow.dates import add_months
from certflow.db import db
from domain.models import Nonconformity
from tests.lifecycle_case import nine_am

NC = {
    "item_code": "5.1.1.1",
    "nature": "general",
    "description": "服务网点未公示服务承诺 service commitments not displayed",
    "evidence": "现场查看仓山服务网点 seen at the Cangshan outlet",
}


def test_corrections_running_past_the_due_date_do_not_suspend_an_audit_done_in_time(life):
    certificate = life.certify()  # four stars
    due = add_months(certificate.issued_on, 12)  # the first: due date = latest date
    life.travel_to(nine_am(due - timedelta(days=60)) + timedelta(minutes=1))
    # Conducted 20 days before the due date; the NC's 30-day correction ends after it.
    life.surveil(due - timedelta(days=20), points_lost=40, nonconformities=[NC])
    db.session.rollback()
    nc = db.session.scalars(select(Nonconformity).order_by(Nonconformity.id.desc())).first()
    assert nc.deadline > due
    life.travel_to(nine_am(due + timedelta(days=1)) + timedelta(minutes=1))  # limit passed
    assert life.certificate(certificate.number).status == "valid"
    assert life.instances("suspension") == []
    # The NC cycle goes on: the client corrects, the team verifies, the certificate is kept.
    life.correct_in_surveillance(
        nc.id,
        root_cause="公示制度缺失 no display rule",
        correction="已公示 displayed",
        corrective_action="月度检查 monthly checks",
        evidence="公示照片.pdf",
        note="照片日期与记录一致 photo dates match the records",
    )
    assert life.events(certificate)[-1] == "maintained"


def test_an_audit_not_conducted_by_the_latest_date_still_suspends(life):
    certificate = life.certify()
    due = add_months(certificate.issued_on, 12)
    life.travel_to(nine_am(due - timedelta(days=60)) + timedelta(minutes=1))
    life.travel_to(nine_am(due + timedelta(days=1)) + timedelta(minutes=1))  # never planned
    (suspension,) = life.instances("suspension")
    assert suspension.status != "error"
    # The routine surveillance was stopped: its planning task is gone.
    with pytest.raises(AssertionError):
        life.open_in("surveillance", "Task_PlanSurveillance")
