"""R-8.7 through the real diagrams (issue 15): a case whose audit has N deduction findings gets
exactly N nonconformities in its NC report — derived where the team raised none, never twice for
one finding — and the decision waits until all N are corrected and accepted."""

from sqlalchemy import select

from certflow.db import db
from domain.models import Audit, Document, Nonconformity
from tests.certification_case import (
    findings_losing,
    one_nc,
    through_onsite,
)

POINTS_LOST = 80


def deduction_codes(points_lost: int) -> list[str]:
    return [
        f["item_code"]
        for f in findings_losing(points_lost)
        if f["result"] == "nonconform" or (f["result"] == "sampled" and f["failures"])
    ]


def audit_ncs() -> list[Nonconformity]:
    audit = db.session.scalars(select(Audit).order_by(Audit.id.desc())).first()
    return list(
        db.session.scalars(
            select(Nonconformity)
            .where(Nonconformity.audit_id == audit.id)
            .order_by(Nonconformity.id)
        )
    )


def test_a_case_with_n_deductions_gets_exactly_n_nonconformities_to_correct(case):
    codes = deduction_codes(POINTS_LOST)
    assert len(codes) >= 2  # several items lost points
    through_onsite(case, points_lost=POINTS_LOST, nonconformities=[])  # the team raised none

    ncs = audit_ncs()
    assert sorted(nc.item_code for nc in ncs) == sorted(codes)
    assert all(nc.finding_id is not None and nc.nature == "general" for nc in ncs)
    assert {nc.status for nc in ncs} == {"confirmed"}  # in the report the client confirmed
    report = db.session.scalars(
        select(Document).where(Document.kind == "nc_report").order_by(Document.id.desc())
    ).first()
    assert len(report.data["nonconformities"]) == len(codes)

    case.receive_report()
    nc_ids = case.confirm_ncs()
    case.answer_ncs(nc_ids)
    assert "Task_CertificationDecision" not in case.active()  # not before they are corrected
    case.verify_ncs(nc_ids, accepted=True)
    assert case.open_task("Task_CertificationDecision")
    assert {nc.status for nc in audit_ncs()} == {"accepted"}


def test_the_teams_nc_for_a_deduction_is_not_duplicated(case):
    codes = deduction_codes(POINTS_LOST)
    team = one_nc()
    assert team[0]["item_code"] in codes
    through_onsite(case, points_lost=POINTS_LOST, nonconformities=team)

    ncs = audit_ncs()
    assert len(ncs) == len(codes)
    [raised] = [nc for nc in ncs if nc.item_code == team[0]["item_code"]]
    assert raised.finding_id is None and raised.description == team[0]["description"]


def test_no_deduction_no_nonconformity_and_no_nc_report(case):
    through_onsite(case, points_lost=0, nonconformities=[])
    assert audit_ncs() == []
    case.receive_report()
    assert case.open_task("Task_CertificationDecision")
