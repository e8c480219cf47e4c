"""A certificate's life with the simulated clock, through the real diagrams: surveillances on
time or extended, overdue → suspension → restoration or withdrawal, downgrade, expiry without
recertification, and recertification into a new cycle (R-7.1.3, R-8.10.x, R-8.11, R-9.3,
R-9.5, R-14)."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from certflow.dates import add_months
from certflow.db import db
from domain.models import Announcement, Audit, Certificate, Document
from domain.programme_dates import surveillance_1_due
from engine.errors import FormValidationError
from engine.models import HumanTask
from tests.certificate_factory import events_of
from tests.certification_case import deploy_everything, make_people
from tests.lifecycle_case import Lifecycle, nine_am


@pytest.fixture
def life(app, engine, clock, tmp_path):
    deploy_everything(engine)
    case = Lifecycle(engine, clock, make_people(clock.now()), tmp_path / "uploads")
    case.engine_app = app
    return case


def decision_date(certificate: Certificate):
    return certificate.issued_on


def recertification_prompt(certificate: Certificate):
    """R-8.11: 3 months before the validity ends — the day after the last valid day, 3 months
    back (issue 11) — at 09:00 China time, plus a minute."""
    opens = add_months(certificate.expires_on + timedelta(days=1), -3)
    return nine_am(opens) + timedelta(minutes=1)


def plan_time(due):
    """The surveillance planning timer fires 60 days before the due date (09:00 China)."""
    return nine_am(due - timedelta(days=60)) + timedelta(minutes=1)


def surveillance_audits() -> list[Audit]:
    db.session.rollback()
    return list(db.session.scalars(select(Audit).where(Audit.kind == "surveillance")))


def test_both_surveillances_on_time_then_recertification_starts_a_new_cycle(life):
    certificate = life.certify()
    assert [i.business_key for i in life.instances("surveillance")] == [certificate.number]
    s1_due = add_months(decision_date(certificate), 12)
    life.travel_to(plan_time(s1_due))
    life.surveil(s1_due - timedelta(days=20))
    assert life.events(certificate)[-1] == "maintained"
    s2_due = add_months(s1_due - timedelta(days=19), 12)  # 12 months after S1 ended
    life.travel_to(plan_time(s2_due))
    life.surveil(s2_due - timedelta(days=20))
    assert len(surveillance_audits()) == 2
    # Every surveillance included a mystery shopping (R-8.10.1(2)).
    shopping = db.session.scalars(
        select(Document).where(Document.kind == "mystery_shopping_record")
    ).all()
    assert {d.audit_id for d in shopping} >= {a.id for a in surveillance_audits()}

    # Three months before expiry the client is asked whether to continue.
    life.travel_to(recertification_prompt(certificate))
    [recert] = life.instances("recertification")
    assert recert.business_key == certificate.number
    life.complete_in(
        "recertification",
        "Task_AskToContinue",
        life.people.client,
        {"continue_certification": True, "note": None},
    )
    life.instance_id = recert.id
    life.day0 = life.clock.now()
    # every NC of the cycle (one per deduction finding, R-8.7) verified effective; the
    # certificate and mark were used properly.
    from domain.recertification_review import cycle_nonconformities

    db.session.rollback()
    checks = [
        {"nc_id": nc.id, "result": "effective", "note": "复查记录 records checked"}
        for nc in cycle_nonconformities(db.session, life.certificate(certificate.number))
    ]
    assert checks
    life.complete(
        "Task_ReviewPreviousCycle",
        life.people.audit_dept,
        {
            "nc_checks": checks,
            "certificate_use": "proper",
            "mark_use": "proper",
            "use_findings": None,
        },
    )
    life.submit_application()
    life.through_grant()

    new = life.certificate()
    old = life.certificate(certificate.number)
    assert new.id != old.id and new.replaces_id == old.id
    assert old.status == "superseded" and new.status == "valid"
    assert new.issued_on == life.clock.now().date()
    assert new.expires_on == add_months(new.issued_on, 36) - timedelta(days=1)  # issue 11
    # The new certificate starts its own surveillance cycle.
    assert [i.business_key for i in life.instances("surveillance")][-1] == new.number


def test_first_surveillance_is_never_extended_and_the_second_is_with_approval(life):
    """R-7.1.3, R-8.10.1: the first surveillance within 12 months of certification, no
    extension whatever the reason; the second extendable with approval, never beyond 15 months
    after the end of the first."""
    certificate = life.certify()
    s1_due = add_months(decision_date(certificate), 12)
    life.travel_to(plan_time(s1_due))
    month_13 = add_months(decision_date(certificate), 13)
    with pytest.raises(FormValidationError) as err:
        life.complete_in(
            "surveillance",
            "Task_PlanSurveillance",
            life.people.scheduler,
            {
                "planned_start": month_13.isoformat(),
                "planned_end": (month_13 + timedelta(days=1)).isoformat(),
                "extension_reason": "客户停业装修 renovation",
            },
        )
    assert "never extended" in err.value.errors["planned_end"][0]
    s1_start = s1_due - timedelta(days=20)
    life.surveil(s1_start)
    s1_end = s1_start + timedelta(days=1)
    s2_due = add_months(s1_end, 12)
    life.travel_to(plan_time(s2_due))
    month_16 = add_months(s1_end, 16)
    with pytest.raises(FormValidationError) as err:
        life.complete_in(
            "surveillance",
            "Task_PlanSurveillance",
            life.people.scheduler,
            {
                "planned_start": month_16.isoformat(),
                "planned_end": (month_16 + timedelta(days=1)).isoformat(),
                "extension_reason": "客户停业装修 renovation",
            },
        )
    assert "never more than 15 months" in err.value.errors["planned_end"][0]
    month_14 = add_months(s1_end, 14)
    life.surveil(month_14, extension_reason="客户停业装修 the client is closed for renovation")
    audits = surveillance_audits()
    assert [a.start_date for a in audits] == [s1_start, month_14]
    assert life.events(certificate)[-2:] == ["surveillance_extended", "maintained"]


def overdue_until_suspended(life) -> Certificate:
    certificate = life.certify()
    # R-9.5.1a: the first surveillance is due within 12 months — through the day
    # before the decision's date a year later (issue 11) — without extension.
    due = surveillance_1_due(decision_date(certificate))
    assert due == add_months(decision_date(certificate), 12) - timedelta(days=1)
    life.travel_to(nine_am(due) + timedelta(hours=14, minutes=59))  # 23:59 on the last day
    assert life.certificate(certificate.number).status == "valid"  # the last day is in time
    life.travel_to(nine_am(due) + timedelta(days=1, minutes=1))
    certificate = life.certificate(certificate.number)
    assert certificate.status == "suspended"
    db.session.rollback()
    kinds = [a.kind for a in db.session.scalars(select(Announcement))]
    assert "suspended" in kinds  # published, the same day
    # The 12-month due date is the hard limit of surveillance 1: no overdue follow-up is left
    # open for an extension that cannot be granted.
    open_tasks = db.session.scalars(
        select(HumanTask).where(HumanTask.process_id == "surveillance", HumanTask.state == "open")
    ).all()
    assert [t.element_id for t in open_tasks] == []
    return certificate


def test_overdue_surveillance_suspends_and_a_correction_restores(life):
    certificate = overdue_until_suspended(life)
    life.complete_in(
        "suspension",
        "Task_SubmitSuspensionCorrection",
        life.people.client,
        {"corrective_actions": "已安排监督审查 surveillance booked", "evidence_files": []},
    )
    life.complete_in(
        "suspension",
        "Task_VerifySuspensionCorrection",
        life.people.audit_dept,
        {"accepted": True, "method": "documentary", "note": "已核实 verified"},
    )
    certificate = life.certificate(certificate.number)
    assert certificate.status == "valid" and certificate.mark_use_allowed
    assert life.events(certificate)[-2:] == ["suspended", "restored"]


def test_a_suspension_that_reaches_six_months_is_withdrawn(life):
    certificate = overdue_until_suspended(life)
    suspended_on = certificate.status_changed_on
    life.travel_to(nine_am(add_months(suspended_on, 6)) + timedelta(days=1, minutes=1))
    certificate = life.certificate(certificate.number)
    assert certificate.status == "withdrawn" and not certificate.mark_use_allowed
    assert "withdrawn" in life.events(certificate)


def test_a_surveillance_score_below_the_held_level_downgrades_the_certificate(life):
    certificate = life.certify()  # four stars
    s1_due = add_months(decision_date(certificate), 12)
    life.travel_to(plan_time(s1_due))
    nc = [
        {
            "item_code": "5.1.1.1",
            "nature": "general",
            "description": "组织架构图缺失",
            "evidence": "查阅文件",
        }
    ]
    life.surveil(s1_due - timedelta(days=20), points_lost=150, nonconformities=nc)  # 85: 3 stars
    from domain.models import Nonconformity

    db.session.rollback()
    nc_ids = [n.id for n in db.session.scalars(select(Nonconformity).order_by(Nonconformity.id))]
    life.correct_in_surveillance(
        nc_ids[-1],
        root_cause="培训不足",
        correction="补图",
        corrective_action="季度检查",
        evidence="组织架构图.pdf",
        note="已核实",
    )
    life.complete_in(  # R-8.10.3(2): the team rescores the corrected result: still 85
        "surveillance",
        "Task_RescoreAfterCorrections",
        life.people.leader,
        {"score": 85, "special_deductions": 0, "basis": "整改后仍 85 分 still 85 after correction"},
    )
    with pytest.raises(FormValidationError):  # below the held level, no "maintain"
        life.complete_in(
            "surveillance",
            "Task_SurveillanceOutcome",
            life.people.decider,
            {"reassessed_star_level": 3, "outcome": "maintain", "reasons": "x"},
        )
    life.complete_in(
        "surveillance",
        "Task_SurveillanceOutcome",
        life.people.decider,
        {"reassessed_star_level": 3, "outcome": "downgrade", "reasons": "得分 85，三星级"},
    )
    new = life.certificate()
    old = life.certificate(certificate.number)
    assert new.star_level == 3 and new.replaces_id == old.id
    assert old.status == "superseded"
    assert new.original_issued_on == old.issued_on
    assert new.changed_on == life.clock.now().date()  # both dates on the new one
    # R-10.1(f): the downgrade starts the plaque of the new level (surveillance_audit.bpmn
    # Event_PlaqueAfterDowngrade → mark_plaque), beside the first plaque still to be recorded.
    plaques = db.session.scalars(
        select(HumanTask.business_key).where(
            HumanTask.element_id == "Task_IssuePlaque", HumanTask.state == "open"
        )
    ).all()
    assert sorted(plaques) == sorted([old.number, new.number])


def test_expiry_without_a_recertification_request_cancels_the_certificate(life):
    certificate = life.certify()
    s1_due = add_months(decision_date(certificate), 12)
    life.travel_to(plan_time(s1_due))
    life.surveil(s1_due - timedelta(days=20))
    s2_due = add_months(s1_due - timedelta(days=19), 12)
    life.travel_to(plan_time(s2_due))
    life.surveil(s2_due - timedelta(days=20))
    life.travel_to(recertification_prompt(certificate) - timedelta(minutes=2))
    assert not life.instances("recertification")  # not yet, the day before the prompt
    life.travel_to(recertification_prompt(certificate))
    assert life.open_in("recertification", "Task_AskToContinue")  # the client is asked …
    # … and never answers: valid through its last day (issue 11: issued D → valid through
    # D + 3 years − 1 day) (R-9.5.3b) …
    assert certificate.expires_on == add_months(certificate.issued_on, 36) - timedelta(days=1)
    life.travel_to(nine_am(certificate.expires_on) + timedelta(hours=14, minutes=59))  # 23:59
    assert life.certificate(certificate.number).status == "valid"
    # … and the day after it is cancelled and published.
    life.travel_to(nine_am(certificate.expires_on + timedelta(days=1)) + timedelta(minutes=1))
    certificate = life.certificate(certificate.number)
    assert certificate.status == "cancelled" and not certificate.mark_use_allowed
    db.session.rollback()
    assert "cancelled" in [a.kind for a in db.session.scalars(select(Announcement))]


def test_declining_recertification_keeps_the_certificate_valid_to_its_last_day(life):
    """R-8.11, R-9.5.3 (decision): declining recertification is not giving the certificate up:
    it stays valid to its last day and is cancelled under (b) the day after."""
    certificate = life.certify()
    s1_due = add_months(decision_date(certificate), 12)
    life.travel_to(plan_time(s1_due))
    life.surveil(s1_due - timedelta(days=20))
    s2_due = add_months(s1_due - timedelta(days=19), 12)
    life.travel_to(plan_time(s2_due))
    life.surveil(s2_due - timedelta(days=20))
    life.travel_to(recertification_prompt(certificate))
    life.complete_in(
        "recertification",
        "Task_AskToContinue",
        life.people.client,
        {"continue_certification": False, "note": "业务调整 business change"},
    )
    certificate = life.certificate(certificate.number)
    assert certificate.status == "valid" and certificate.mark_use_allowed
    assert life.instances("cancellation") == []
    # Still valid late on its last day (23:59 China time).
    life.travel_to(nine_am(certificate.expires_on) + timedelta(hours=14, minutes=59))
    assert life.certificate(certificate.number).status == "valid"
    assert life.instances("cancellation") == []
    life.travel_to(nine_am(certificate.expires_on) + timedelta(days=1, minutes=1))
    certificate = life.certificate(certificate.number)
    assert certificate.status == "cancelled" and not certificate.mark_use_allowed
    assert certificate.status_changed_on == certificate.expires_on + timedelta(days=1)
    db.session.rollback()
    [announcement] = [a for a in db.session.scalars(select(Announcement)) if a.kind == "cancelled"]
    assert "R-9.5.3b" in announcement.body


@pytest.mark.parametrize(
    ("termination", "suspension", "text"),
    [
        ("client_not_cooperating", "a", "不予配合"),
        ("material_difference", "b", "重大不一致"),
    ],
)
def test_a_terminated_surveillance_suspends_for_the_reason_it_was_terminated(
    life, termination, suspension, text
):
    """R-8.5.6, R-9.5.1: the suspension names the case that fits the termination reason —
    not always (a)."""
    certificate = life.certify()
    s1_due = add_months(decision_date(certificate), 12)
    life.travel_to(plan_time(s1_due))
    life.surveil(s1_due - timedelta(days=20), terminate_reason=termination)
    [audit] = surveillance_audits()
    assert (audit.status, audit.termination_reason) == ("terminated", termination)
    certificate = life.certificate(certificate.number)
    assert certificate.status == "suspended"
    db.session.rollback()
    [event] = [e for e in events_of(certificate) if e.event == "suspended"]
    assert event.rule == f"R-9.5.1{suspension}"
    assert text in event.reason
    [announcement] = [a for a in db.session.scalars(select(Announcement)) if a.kind == "suspended"]
    assert f"R-9.5.1{suspension}" in announcement.body
