"""Initial certification end to end, through the real diagrams, forms, handlers, guards and the
star-level DMN (R-4 … R-8.9, R-9.1, R-9.2), with the engine API and the simulated clock."""

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from certflow.db import db
from domain.models import (
    Application,
    Audit,
    AuditTeamMember,
    Certificate,
    Decision,
    Document,
    Nonconformity,
    ProgrammeActivity,
)
from engine.errors import ForbiddenError, FormValidationError
from tests.certification_case import (
    findings_losing,
    one_nc,
    through_onsite,
)


def documents(kind):
    return db.session.scalars(select(Document).where(Document.kind == kind)).all()


def test_application_reaches_a_four_star_certificate_with_the_right_dates(case):
    through_onsite(case, points_lost=80, nonconformities=one_nc())  # score 92 → 4 stars
    case.receive_report()
    [report] = documents("audit_report")
    nc_ids = case.confirm_ncs()
    case.answer_ncs(nc_ids)
    case.verify_ncs(nc_ids, accepted=True)
    case.at(45)
    case.decide("grant", 4)

    assert case.instance().status == "completed"
    application = db.session.scalars(select(Application)).one()
    assert application.status == "certified"
    [certificate] = db.session.scalars(select(Certificate)).all()
    [decision] = db.session.scalars(select(Decision)).all()
    assert re.fullmatch(r"CTC-SHFW-\d{4}-\d{4}", certificate.number)
    assert certificate.star_level == 4 and certificate.status == "valid"
    assert certificate.issued_on == decision.decided_on == case.decision_date()
    # Valid through the day before the corresponding day 3 years later (issue 11).
    assert certificate.expires_on == date(
        certificate.issued_on.year + 3, certificate.issued_on.month, certificate.issued_on.day
    ) - timedelta(days=1)
    assert [s["name"] for s in certificate.sites] == ["总部服务中心", "仓山服务网点"]
    assert decision.decided_by == case.people.decider.username
    audit = db.session.scalars(select(Audit)).one()
    assert float(audit.final_score) == 92.0 and audit.star_level_achieved == 4
    activities = {a.kind: a for a in db.session.scalars(select(ProgrammeActivity)).all()}
    s1 = activities["surveillance_1"]
    assert s1.due_date == date(
        certificate.issued_on.year + 1, certificate.issued_on.month, certificate.issued_on.day
    ) - timedelta(days=1)
    recert = activities["recertification"]
    assert recert.due_date == certificate.expires_on
    assert recert.window_opens_on.month == (certificate.expires_on.month - 3 - 1) % 12 + 1
    assert report.audit_id == audit.id


def test_an_application_not_accepted_gets_a_written_notice(case):
    case.apply()
    case.review(accepted=False)
    assert db.session.scalars(select(Application)).one().status == "not_accepted"
    [notice] = documents("not_accepted_notice")
    assert "暂无该领域审查员" in notice.body
    # R-6.2.2b: the client may supplement and resubmit; giving up ends the case not accepted.
    assert case.active() == ["Task_SupplementApplication"]
    case.supplement(resubmit=False)
    instance = case.instance()
    assert instance.status == "completed"
    assert db.session.scalars(select(Application)).one().status == "not_accepted"


def test_a_rejected_nc_answer_goes_back_until_accepted(case):
    through_onsite(case, points_lost=80, nonconformities=one_nc())
    case.receive_report()
    nc_ids = case.confirm_ncs()
    case.answer_ncs(nc_ids)
    case.verify_ncs(nc_ids, accepted=False)
    assert "Task_SubmitCorrections" in case.active()
    nc = db.session.get(Nonconformity, nc_ids[0])
    assert nc.status == "rejected"
    case.answer_ncs(nc_ids)
    case.verify_ncs(nc_ids, accepted=True)
    assert db.session.get(Nonconformity, nc_ids[0]).status == "accepted"
    assert "Task_CertificationDecision" in case.active()


def test_a_terminated_audit_ends_the_case_as_terminated_not_as_an_error(case):
    case.apply()
    case.review()
    case.contract()
    case.programme()
    case.appoint()
    case.plan_and_prepare()
    case.opening_meeting()
    case.evidence(
        findings_losing(0),
        escalation="terminate_request",
        terminate_reason="client_not_cooperating",
    )
    case.complete(
        "Task_AuditDeptDecision",
        case.people.audit_dept,
        {
            "decision": "terminate",
            "termination_reason": "client_not_cooperating",
            "plan_changes": None,
            "new_end_date": None,
            "new_scope": None,
            "notes": "客户拒绝配合 the client refuses to cooperate",
        },
    )
    instance = case.instance()
    assert instance.status == "terminated"
    assert db.session.scalars(select(Audit)).one().status == "terminated"
    assert db.session.scalars(select(Application)).one().status == "terminated"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("single_non_leader", "R-7.2.3"),
        ("expert_as_auditor", "R-7.2.4"),
        ("consulted_within_two_years", "R-7.2.1(5)"),  # CNAS-CC01: blocks, not only a flag
    ],
)
def test_refused_appointments_go_back_to_the_scheduler_with_the_reason(case, change, reason):
    from domain.models import Auditor

    case.apply()
    case.review()
    case.contract()
    case.programme()
    p = case.people
    members = [
        {"auditor_id": p.leader_id, "role": "leader"},
        {"auditor_id": p.auditor_id, "role": "auditor"},
    ]
    auditor = db.session.get(Auditor, p.auditor_id)
    if change == "single_non_leader":
        members = [{"auditor_id": p.auditor_id, "role": "leader"}]
        auditor.team_leader_qualified = False
    elif change == "expert_as_auditor":
        members.append({"auditor_id": p.expert_id, "role": "auditor"})
    elif change == "consulted_within_two_years":
        from domain.models import ConflictOfInterest

        onsite = date.fromisoformat(case.day(28))
        db.session.add(
            ConflictOfInterest(
                auditor_id=p.auditor_id,
                organisation_id=db.session.scalars(select(Application)).one().organisation_id,
                kind="consulted",
                until=onsite.replace(year=onsite.year - 1),
                note="售后服务体系咨询 consulting",
            )
        )
    db.session.commit()
    case.appoint(members)
    data = case.data("Task_AppointTeam")  # back to the scheduler
    assert data["appointment"]["appointed"] is False
    # Worded for people in both languages (issue 10), the rule kept for programs.
    assert any(refusal.get("rule") == reason for refusal in data["appointment"]["refusals"])
    assert db.session.scalars(select(AuditTeamMember)).all() == []


@pytest.mark.parametrize("change", ["expired", "unregistered"])
def test_an_auditor_the_rules_refuse_is_refused_at_submit_naming_the_rule(case, change):
    """Issue 10: a member refused whatever the team (R-7.2.2) is not among the enabled options
    of the appointment form, so the submit is refused (422 on the field) and the case stays at
    the appointment task, instead of a round trip through team.appoint."""
    from domain.models import Auditor

    case.apply()
    case.review()
    case.contract()
    case.programme()
    p = case.people
    auditor = db.session.get(Auditor, p.auditor_id)
    if change == "expired":
        auditor.registration_expires_on = date.fromisoformat(case.day(28))
    else:
        auditor.registration_number = None
    db.session.commit()
    with pytest.raises(FormValidationError) as refused:
        case.appoint(
            [
                {"auditor_id": p.leader_id, "role": "leader"},
                {"auditor_id": p.auditor_id, "role": "auditor"},
            ]
        )
    [message] = refused.value.errors["members/1/auditor_id"]
    assert message.startswith("规则第7.2.2条") and auditor.name in message  # the rule in words
    assert "Task_AppointTeam" in case.active()
    assert db.session.scalars(select(AuditTeamMember)).all() == []


def test_a_decision_by_someone_on_the_audit_team_is_refused(case, engine):
    through_onsite(case, points_lost=40)
    case.receive_report()
    case.correct_all_ncs()  # the NC of each deduction finding
    # The team's auditor also works as a decision maker: forbids them this case.
    from engine.service import Actor

    conflicted = Actor(case.people.auditor.username, frozenset({"technical_dept", "auditor"}))
    task = case.open_task("Task_CertificationDecision")
    with pytest.raises(ForbiddenError, match="R-8.8"):
        engine.claim(task.id, actor=conflicted)
    with pytest.raises(ForbiddenError, match="R-8.8"):
        case.decide("grant", 4, who=conflicted)
    case.decide("grant", 4)
    assert db.session.scalars(select(Certificate)).one().star_level == 4


def below_the_lowest_level_then_corrected(case, corrected_score):
    """R-8.5.5(3): a score of 69 (no star level) is not refused at the conclusion: the client
    gets nonconformities, corrects them, and the team leader rescores the corrected result."""
    with pytest.raises(FormValidationError) as err:  # score 69.0 → no star level
        through_onsite(case, points_lost=310, conclusion="not_recommend")
    assert "R-8.5.5" in err.value.errors["conclusion"][0]
    assert "chance to correct" in err.value.errors["conclusion"][0]
    case.conclude("recommend", one_nc())
    audit = db.session.scalars(select(Audit)).one()
    # the team's NC and one for every other deduction finding are to be corrected
    deductions = [f for f in findings_losing(310) if f["result"] != "conform"]
    assert len(audit.nonconformities) == len(deductions) > 1
    assert float(audit.final_score) == 69.0 and audit.star_level_achieved == 0
    assert audit.conclusion_notes["conditional_on_corrections"] is True
    case.receive_report()
    nc_ids = case.confirm_ncs()
    case.answer_ncs(nc_ids)
    case.verify_ncs(nc_ids, accepted=True)
    # conclusion → NCs → rescoring → decision, in the diagram.
    case.complete(
        "Task_RescoreAfterCorrections",
        case.people.leader,
        {
            "score": corrected_score,
            "special_deductions": 0,
            "basis": "整改已验证，5.1.1.1 重新评为符合 corrections verified, 5.1.1.1 now met",
        },
    )
    db.session.rollback()
    return db.session.scalars(select(Audit)).one()


def test_below_the_lowest_level_even_after_correction_is_refused(case):
    audit = below_the_lowest_level_then_corrected(case, 69.5)
    assert (audit.star_level_achieved, audit.conclusion) == (0, "not_recommend")
    assert audit.conclusion_notes["rescored"]["before"] == {
        "star_level": 0,
        "conclusion": "recommend",
    }
    assert "even after correction" in audit.conclusion_notes["reason"]
    with pytest.raises(FormValidationError) as err:
        case.decide("grant", 1)
    assert "R-8.8" in err.value.errors["star_level"][0]
    case.decide("refuse", 0, reasons="整改后得分 69.5，仍低于一星级 70 分 still below one star")
    assert case.instance().status == "completed"
    assert db.session.scalars(select(Certificate)).all() == []
    assert db.session.scalars(select(Application)).one().status == "refused"
    [notice] = documents("refusal_notice")
    assert "69.5" in notice.body


def test_below_the_lowest_level_corrected_to_the_requested_level_is_granted(case):
    audit = below_the_lowest_level_then_corrected(case, 92)
    assert (audit.star_level_achieved, audit.conclusion) == (4, "recommend")
    case.at(45)
    case.decide("grant", 4)
    [certificate] = db.session.scalars(select(Certificate)).all()
    assert certificate.star_level == 4


def test_nc_reminder_then_deadline_escalation_then_extension_then_closure(case):
    through_onsite(case, points_lost=80, nonconformities=one_nc())
    case.receive_report()
    nc_ids = case.confirm_ncs()
    engine = case.engine
    # 23 days later the reminder (7 days before the 30-day deadline) fires ...
    case.at(29 + 24)
    engine.fire_due_timers()
    assert len(documents("nc_reminder")) == 1
    # ... and when the deadline has passed, the audit department decides; the client
    # waits for its decision.
    case.at(29 + 32)
    engine.fire_due_timers()
    assert "Task_EscalateOverdueNc" in case.active()
    assert "Task_SubmitCorrections" not in case.active()
    case.complete(
        "Task_EscalateOverdueNc",
        case.people.audit_dept,
        {"action": "extend_deadline", "new_deadline": case.day(29 + 45), "note": "延期 extended"},
    )
    case.answer_ncs(nc_ids)
    case.verify_ncs(nc_ids, accepted=False)
    # A rejected answer gets a new deadline: nothing is overdue again straight away.
    engine.fire_due_timers()
    assert "Task_EscalateOverdueNc" not in case.active()
    case.answer_ncs(nc_ids)
    case.verify_ncs(nc_ids, accepted=True)
    assert "Task_CertificationDecision" in case.active()
