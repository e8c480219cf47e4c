"""Nonconformities of a surveillance that meets the held level (R-8.7, R-8.10.3(1)), through the
real diagrams: they are still corrected and verified before the certificate is maintained, and
an overdue correction the audit department does not extend leads to the technical department's
outcome — suspension (R-9.5.1b), not maintenance."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from certflow.dates import add_months
from certflow.db import db
from domain.models import Nonconformity
from engine.errors import FormValidationError
from tests.lifecycle_case import nine_am

NC = {
    "item_code": "5.1.1.1",
    "nature": "general",
    "description": "服务网点未公示服务承诺 service commitments not displayed",
    "evidence": "现场查看仓山服务网点 seen at the Cangshan outlet",
}


def surveil_with_one_nc(life):
    """A four-star certificate whose first surveillance meets the level but records one NC."""
    certificate = life.certify()
    due = add_months(certificate.issued_on, 12)
    life.travel_to(nine_am(due - timedelta(days=60)) + timedelta(minutes=1))
    # Early enough that the 30-day correction ends before the 12-month due date.
    life.surveil(due - timedelta(days=55), points_lost=40, nonconformities=[NC])
    db.session.rollback()
    nc = db.session.scalars(select(Nonconformity).order_by(Nonconformity.id.desc())).first()
    return certificate, nc


def test_a_surveillance_that_meets_the_level_still_closes_its_nonconformities(life):
    certificate, nc = surveil_with_one_nc(life)
    assert "maintained" not in life.events(certificate)  # not before the NC is closed
    life.correct_in_surveillance(
        nc.id,
        root_cause="公示制度缺失 no display rule",
        correction="已公示 displayed",
        corrective_action="月度检查 monthly checks",
        evidence="公示照片.pdf",
        note="照片日期与记录一致 photo dates match the records",
    )
    assert life.events(certificate)[-1] == "maintained"
    db.session.rollback()
    assert db.session.get(Nonconformity, nc.id).status == "accepted"


def test_an_overdue_correction_not_extended_leads_to_suspension_not_maintenance(life):
    certificate, nc = surveil_with_one_nc(life)
    life.travel_to(nine_am(nc.deadline + timedelta(days=1)) + timedelta(minutes=1))
    life.complete_in(
        "surveillance",
        "Task_EscalateOverdueNc",
        life.people.audit_dept,
        {
            "action": "propose_suspension_or_refusal",
            "new_deadline": None,
            "note": "获证组织未在期限内整改 not corrected within the deadline",
        },
    )
    with pytest.raises(FormValidationError):  # the level was met, but the NC is not corrected
        life.complete_in(
            "surveillance",
            "Task_SurveillanceOutcome",
            life.people.decider,
            {"reassessed_star_level": 4, "outcome": "maintain", "reasons": "x"},
        )
    life.complete_in(
        "surveillance",
        "Task_SurveillanceOutcome",
        life.people.decider,
        {
            "reassessed_star_level": 4,
            "outcome": "suspend",
            "reasons": "不符合逾期未整改 nonconformity not corrected in time",
        },
    )
    life.travel_to(life.clock.now() + timedelta(minutes=1))
    assert "maintained" not in life.events(certificate)
    assert life.certificate(certificate.number).status == "suspended"
