"""The nonconformity obligations of R-8.7 through the real diagrams (issue 15): the NC report
formed and confirmed before the closing meeting (§8.7.1), deadlines by the nature of each
nonconformity (§8.7.2), evidence files with every answer and a serious NC verified on site
(§8.7.3), and the audit department's decision on an overdue correction that acts: extend, or
end the correction proposing refusal to the decision makers."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from certflow.dates import china_date
from certflow.db import db
from domain.models import Audit, Document, Nonconformity
from engine.errors import FormValidationError
from tests.certification_case import (
    findings_losing,
    one_nc,
    through_onsite,
)
from tests.forms.test_form_checks import refused
from tests.helpers import discussed_with_client

# R-8.7: each deduction finding has its NC; losing only item 5.1.1.1's 20 points makes the
# team's NC on it (one_nc) the audit's only deduction
ONLY_5111 = 20


def general_and_serious():
    return [
        one_nc()[0],
        {
            "item_code": "5.2.1.1",
            "nature": "serious",
            "description": "服务承诺未兑现 service commitments not honoured",
            "evidence": "抽查 10 单，6 单超时 6 of 10 orders late",
        },
    ]


def to_conclusion(case, nonconformities):
    case.apply()
    case.review()
    case.contract()
    case.programme()
    case.appoint()
    case.plan_and_prepare()
    case.opening_meeting()
    case.evidence(findings_losing(ONLY_5111))
    case.complete(
        "Task_AuditConclusion",
        case.people.leader,
        discussed_with_client(
            {
                "conclusion": "recommend",
                "downgrade_requested": False,
                "nonconformities": nonconformities,
                "follow_up": "跟踪不符合整改 follow up the corrections",
                "programme_adjustments": "无 none",
                "disagreements": None,
            },
            case.today(),
        ),
    )


def tasks(case) -> list[str]:
    """The open tasks of the case (without the timers waiting on them)."""
    return [element for element in case.active() if element.startswith("Task_")]


def ncs() -> list[Nonconformity]:
    db.session.rollback()
    return list(db.session.scalars(select(Nonconformity).order_by(Nonconformity.id)))


def answer(case, nc, **more):
    return {
        "nc_id": nc.id,
        "root_cause": "培训不到位 training gap",
        "correction": "补充记录 records completed",
        "corrective_action": "每季度培训并检查 quarterly training and checks",
        "evidence_files": [case.upload("nc_evidence", f"整改记录-{nc.number}.pdf")],
        **more,
    }


def verdict(nc, method="documentary", accepted=True):
    return {
        "nc_id": nc.id,
        "accepted": accepted,
        "method": method,
        "note": "证据时间顺序与真实性已核 chronology and authenticity checked",
        "onsite_record": "现场查看服务记录 service records seen on site"
        if method == "on_site"
        else None,
    }


def test_the_nc_report_is_confirmed_by_the_client_before_the_closing_meeting(case):
    """R-8.7 §8.7.1: formed before the closing meeting and confirmed by the client; the correction
    cycle after the meeting starts with the answers."""
    to_conclusion(case, one_nc())
    assert tasks(case) == ["Task_ConfirmNcReport"]  # not yet the closing meeting
    [report] = db.session.scalars(select(Document).where(Document.kind == "nc_report")).all()
    audit = db.session.scalars(select(Audit)).one()
    assert audit.status == "in_progress" and report.audit_id == audit.id
    case.complete("Task_ConfirmNcReport", case.people.client, {"confirmed": True, "comments": "无"})
    assert tasks(case) == ["Task_ClosingMeeting"]
    assert [nc.status for nc in ncs()] == ["confirmed"]


def test_deadlines_follow_the_nature_and_a_serious_nc_is_verified_on_site(case):
    """R-8.7 §8.7.2: a general NC has 30 days, a serious one 90 (settings); the client may
    answer the one due first; §8.7.3: a serious NC cannot be closed on documents alone."""
    through_onsite(case, points_lost=ONLY_5111, nonconformities=general_and_serious())
    case.receive_report()
    general, serious = ncs()
    issued = general.confirmed_at  # confirmed on the day the report was issued
    first_day = china_date(issued)
    assert (general.nature, serious.nature) == ("general", "serious")
    assert general.deadline == first_day + timedelta(days=29)
    assert serious.deadline == first_day + timedelta(days=89)
    assert case.data("Task_SubmitCorrections")["nc"]["deadline"] == general.deadline.isoformat()
    case.complete(
        "Task_SubmitCorrections", case.people.client, {"answers": [answer(case, general)]}
    )
    case.complete("Task_VerifyCorrections", case.people.leader, {"verdicts": [verdict(general)]})
    # The serious NC is still open: back to the client, the timers now follow its deadline.
    assert tasks(case) == ["Task_SubmitCorrections"]
    assert case.data("Task_SubmitCorrections")["nc"]["deadline"] == serious.deadline.isoformat()
    case.complete(
        "Task_SubmitCorrections", case.people.client, {"answers": [answer(case, serious)]}
    )
    errors = refused(
        case, "Task_VerifyCorrections", case.people.leader, {"verdicts": [verdict(serious)]}
    )
    assert "verdicts/0/method" in errors and "R-8.7" in errors["verdicts/0/method"][0]
    case.complete(
        "Task_VerifyCorrections",
        case.people.leader,
        {"verdicts": [verdict(serious, method="on_site")]},
    )
    assert [nc.status for nc in ncs()] == ["accepted", "accepted"]
    assert "Task_CertificationDecision" in case.active()


def test_an_answer_without_evidence_files_is_refused_and_the_files_are_kept(case):
    """R-8.7 §8.7.3 书面验证应附有证实性材料: every answer carries its evidence."""
    through_onsite(case, points_lost=ONLY_5111, nonconformities=one_nc())
    case.receive_report()
    [nc] = ncs()
    bare = answer(case, nc)
    del bare["evidence_files"]
    with pytest.raises(FormValidationError):
        case.engine.complete_task(
            case.open_task("Task_SubmitCorrections").id,
            actor=case.people.client,
            data={"answers": [bare]},
        )
    sent = answer(case, nc)
    case.complete("Task_SubmitCorrections", case.people.client, {"answers": [sent]})
    [nc] = ncs()
    assert nc.status == "answered" and nc.evidence_files == sent["evidence_files"]


def test_a_special_deduction_is_a_serious_nonconformity(case):
    """R-8.7 §8.7.2: a special deduction item (特别扣分项) recorded as a general NC is refused at
    submit (422 on the nature field)."""
    to_conclusion_data = [
        {
            "item_code": "SD-1",
            "nature": "general",
            "description": "重大服务质量事故 major service incident",
            "evidence": "事故报告 incident report",
        }
    ]
    case.apply()
    case.review()
    case.contract()
    case.programme()
    case.appoint()
    case.plan_and_prepare()
    case.opening_meeting()
    case.evidence(findings_losing(80))
    data = discussed_with_client(
        {
            "conclusion": "recommend",
            "downgrade_requested": False,
            "nonconformities": to_conclusion_data,
            "follow_up": "跟踪 follow up",
            "programme_adjustments": "无 none",
            "disagreements": None,
        },
        case.today(),
    )
    errors = refused(case, "Task_AuditConclusion", case.people.leader, data)
    assert "R-8.7" in errors["nonconformities/0/nature"][0]


def overdue(case) -> date:
    """Conclude with one general NC and let its deadline pass: the audit department acts."""
    through_onsite(case, points_lost=ONLY_5111, nonconformities=one_nc())
    case.receive_report()
    [nc] = ncs()
    case.at(29 + 40)
    case.engine.fire_due_timers()
    return nc.deadline


def test_an_extension_sends_the_case_back_to_the_client_with_new_timers(case):
    """R-8.7: the deadline passed → the audit department decides (the client waits); an
    extension must lie after the passed deadline; the new deadline passing escalates again."""
    passed = overdue(case)
    assert tasks(case) == ["Task_EscalateOverdueNc"]
    too_early = {"action": "extend_deadline", "new_deadline": passed.isoformat(), "note": "x"}
    errors = refused(case, "Task_EscalateOverdueNc", case.people.audit_dept, too_early)
    assert "R-8.7" in errors["new_deadline"][0]
    new_deadline = china_date(case.clock.now()) + timedelta(days=14)
    case.complete(
        "Task_EscalateOverdueNc",
        case.people.audit_dept,
        {
            "action": "extend_deadline",
            "new_deadline": new_deadline.isoformat(),
            "note": "客户申请延期 the client asked for more time",
        },
    )
    assert tasks(case) == ["Task_SubmitCorrections"]
    [nc] = ncs()
    assert nc.deadline == new_deadline
    assert case.data("Task_SubmitCorrections")["nc"]["deadline"] == new_deadline.isoformat()
    [report] = db.session.scalars(select(Document).where(Document.kind == "nc_report")).all()
    assert report.data["escalations"][0]["new_deadline"] == new_deadline.isoformat()
    case.at(29 + 40 + 16)
    case.engine.fire_due_timers()
    assert tasks(case) == ["Task_EscalateOverdueNc"]


def test_a_proposal_ends_the_correction_and_the_decision_cannot_grant(case):
    """R-8.7, R-8.8: ending the overdue correction hands the case to the decision makers with
    the NC still open; a grant is refused, the refusal goes through."""
    overdue(case)
    case.complete(
        "Task_EscalateOverdueNc",
        case.people.audit_dept,
        {
            "action": "propose_suspension_or_refusal",
            "new_deadline": None,
            "note": "客户未在期限内整改 no correction within the deadline",
        },
    )
    assert tasks(case) == ["Task_CertificationDecision"]
    with pytest.raises(FormValidationError):
        case.decide("grant", 4)
    case.decide("refuse", 0, reasons="不符合未在期限内整改 nonconformity not corrected in time")
    assert case.instance().status == "completed"


def test_a_proposal_after_a_conditional_conclusion_goes_straight_to_the_decision(case):
    """R-8.7, R-8.5.5, R-8.8: a conclusion conditional on the corrections (score 69, below the
    lowest level) whose correction ends overdue with the audit department's proposal is not
    rescored — there is nothing corrected to score: the decision makers get the case at once,
    with the proposal, its reason and the open NCs shown on their task."""
    from flask import current_app

    from webapp.instructions import fill_placeholders

    through_onsite(case, points_lost=310, nonconformities=one_nc())
    assert db.session.scalars(select(Audit)).one().conclusion_notes["conditional_on_corrections"]
    case.receive_report()
    case.at(29 + 40)
    case.engine.fire_due_timers()
    note = "客户未在期限内整改 no correction within the deadline"
    case.complete(
        "Task_EscalateOverdueNc",
        case.people.audit_dept,
        {"action": "propose_suspension_or_refusal", "new_deadline": None, "note": note},
    )
    assert tasks(case) == ["Task_CertificationDecision"]
    task = case.open_task("Task_CertificationDecision")
    with current_app.test_request_context():  # the label filter speaks the page's language
        shown = fill_placeholders(
            case.engine.task_details(task)["instructions"],
            case.data("Task_CertificationDecision"),
        )
    numbers = [nc.number for nc in ncs()]  # the team's and one per other deduction
    assert len(numbers) > 1 and all(number in shown for number in numbers)
    assert "审核部建议暂停证书或不予注册" in shown and note in shown
    assert "已验证关闭" not in shown
    with pytest.raises(FormValidationError):
        case.decide("grant", 1)
    case.decide("refuse", 0, reasons="不符合未在期限内整改 nonconformity not corrected in time")
    assert case.instance().status == "completed"
