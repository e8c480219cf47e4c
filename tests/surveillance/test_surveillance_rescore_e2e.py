"""A surveillance below the held level, through the real diagrams (R-8.10.3(2)): the client
corrects, the team verifies, then the team rescores the corrected result and gives its final
recommendation (audit.record_rescore, as in certification) before the technical department
decides — on the rescored level."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from certflow.dates import add_months
from certflow.db import db
from domain.models import Audit, Nonconformity
from engine.errors import FormValidationError
from engine.models import HumanTask
from tests.lifecycle_case import nine_am

NC = {
    "item_code": "5.1.1.1",
    "nature": "general",
    "description": "组织架构图缺失 organisation chart missing",
    "evidence": "查阅文件 documents reviewed",
}


def surveil_below_the_held_level_and_correct(life):
    """Four stars held; the first surveillance scores 85 (three stars) with one NC, which the
    client corrects and the team leader accepts."""
    certificate = life.certify()
    due = add_months(certificate.issued_on, 12)
    life.travel_to(nine_am(due - timedelta(days=60)) + timedelta(minutes=1))
    life.surveil(due - timedelta(days=55), points_lost=150, nonconformities=[NC])
    db.session.rollback()
    nc = db.session.scalars(select(Nonconformity).order_by(Nonconformity.id.desc())).first()
    life.correct_in_surveillance(
        nc.id,
        root_cause="培训不足 not trained",
        correction="补图 chart drawn",
        corrective_action="季度检查 quarterly checks",
        evidence="组织架构图.pdf",
        note="已核实 verified",
    )
    return certificate


def open_tasks(element_id: str) -> list[HumanTask]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(HumanTask).where(HumanTask.element_id == element_id, HumanTask.state == "open")
        )
    )


def rescore(life, score):
    life.complete_in(
        "surveillance",
        "Task_RescoreAfterCorrections",
        life.people.leader,
        {"score": score, "special_deductions": 0, "basis": "组织架构图已补 chart now in place"},
    )


def test_below_the_held_level_the_team_rescores_the_corrected_result_before_the_outcome(life):
    certificate = surveil_below_the_held_level_and_correct(life)
    # R-8.10.3(2): not straight to the technical department's outcome …
    assert life.open_in("surveillance", "Task_RescoreAfterCorrections")
    assert not open_tasks("Task_SurveillanceOutcome")
    rescore(life, 92)  # … the corrected result scores 92: four stars, the held level again
    db.session.rollback()
    audit = db.session.scalars(select(Audit).where(Audit.kind == "surveillance")).one()
    assert audit.conclusion_notes["rescored"]["star_level"] == 4
    assert audit.conclusion_notes["rescored"]["before"]["star_level"] == 3
    # The outcome is decided on the rescored level: 3 is refused, 4 maintains (R-8.10.3a).
    with pytest.raises(FormValidationError) as refused:
        life.complete_in(
            "surveillance",
            "Task_SurveillanceOutcome",
            life.people.decider,
            {"reassessed_star_level": 3, "outcome": "downgrade", "reasons": "x"},
        )
    assert "reassessed_star_level" in refused.value.errors
    life.complete_in(
        "surveillance",
        "Task_SurveillanceOutcome",
        life.people.decider,
        {"reassessed_star_level": 4, "outcome": "maintain", "reasons": "整改后 92 分"},
    )
    assert life.events(certificate)[-1] == "maintained"
    assert life.certificate(certificate.number).star_level == 4


def test_a_corrected_result_still_below_the_lowest_level_is_withdrawn(life):
    certificate = surveil_below_the_held_level_and_correct(life)
    rescore(life, 60)  # R-8.10.3(2)c: 整改后不能满足最低级别要求
    with pytest.raises(FormValidationError):
        life.complete_in(
            "surveillance",
            "Task_SurveillanceOutcome",
            life.people.decider,
            {"reassessed_star_level": 3, "outcome": "suspend", "reasons": "x"},
        )
    life.complete_in(
        "surveillance",
        "Task_SurveillanceOutcome",
        life.people.decider,
        {"reassessed_star_level": 0, "outcome": "withdraw", "reasons": "整改后 60 分 60 points"},
    )
    # The withdrawal process starts (reason below_lowest_level); it confirms and publishes.
    (withdrawal,) = life.instances("withdrawal")
    assert life.open_in("withdrawal", "Task_ConfirmWithdrawal")
    assert life.certificate(certificate.number).status == "valid"  # until it is confirmed
