"""Mark misuse (R-10.3, R-9.5.2, R-14) through mark_misuse.bpmn with the engine API and the
simulated clock, on both databases: a misuse that ends in withdrawal (handed to the withdrawal
process by the `withdraw_certificate` message, published there), one corrected within the
deadline, one whose deadline passes, one whose correction is not accepted; and the rules of the
handlers (docs/complaints-and-changes.md)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from certflow.dates import china_date
from certflow.db import db
from domain.errors import RuleViolation
from domain.models import Announcement, Certificate, Document, MisuseCase
from engine.errors import ForbiddenError, FormValidationError
from engine.models import HumanTask, ProcessInstance
from handlers import get_handler
from tests.certificate_factory import ISSUED_AT, issued_certificate
from tests.certification_case import deploy_everything, make_people
from tests.helpers import handler_context
from tests.lifecycle_case import Lifecycle, nine_am

REPORT = {
    "reported_by": "消费者 赵先生（电话投诉） consumer Mr Zhao, by phone",
    "description": "分店在未获证的安装业务宣传单上使用五星级认证标志 the five-star mark is used on "
    "leaflets for installation services outside the certified scope and level",
}
FINDINGS = (
    "宣传单 2000 份使用了五星级标志，证书为四星级且不含安装服务 2000 leaflets show a five-star "
    "mark; the certificate is four-star and does not cover installation"
)
LEGAL = (
    "报告市场监督管理部门，保留追究法律责任的权利 "
    "reported to the market regulator; legal action reserved"
)


@pytest.fixture
def case(ctx, engine, clock, tmp_path):
    deploy_everything(engine)
    lifecycle = Lifecycle(engine, clock, make_people(clock.now()), tmp_path / "uploads")
    lifecycle.engine_app = ctx
    return lifecycle


def report_misuse(case, certificate: Certificate) -> ProcessInstance:
    instance = case.engine.start(
        "mark_misuse",
        actor=case.people.audit_dept,
        data={"certificate_id": certificate.id, **REPORT},
    )
    db.session.rollback()
    return case.engine.get_instance(instance.id)


def investigate(
    case, action: str, *, confirmed: bool = True, legal: str | None = LEGAL, publish: bool = False
) -> None:
    case.complete_in(
        "mark_misuse",
        "Task_InvestigateMisuse",
        case.people.audit_dept,
        {
            "confirmed": confirmed,
            "investigation": FINDINGS,
            "action": action,
            "publish_violation": publish,
            "legal_follow_up": legal,
        },
    )


def misuse_case(*, fresh: bool = True) -> MisuseCase:
    if fresh:  # read what the engine committed
        db.session.rollback()
    return db.session.scalars(select(MisuseCase)).one()


def documents(kind: str) -> list[Document]:
    db.session.rollback()
    return list(db.session.scalars(select(Document).where(Document.kind == kind)))


def withdrawn_announcements(certificate: Certificate) -> list[Announcement]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(Announcement).where(
                Announcement.certificate_number == certificate.number,
                Announcement.kind == "withdrawn",
            )
        )
    )


def confirm_withdrawal(case, certificate: Certificate) -> None:
    """The withdrawal process started by the thrown message: the technical department
    confirms; certificate.withdraw withdraws and publishes."""
    (withdrawal,) = case.instances("withdrawal")
    assert withdrawal.business_key == certificate.number
    assert withdrawal.status == "running"
    task = case.open_in("withdrawal", "Task_ConfirmWithdrawal")
    withdraw = case.engine.task_data(task)["withdraw"]
    # published as misuse of the certificate or mark, never as a transfer (R-9.5.2d).
    assert withdraw["reason"] == "misuse"
    assert withdraw["certificate_id"] == certificate.id
    assert "R-10.3" in withdraw["detail"] and misuse_case().reference in withdraw["detail"]
    # Nothing is withdrawn or published before the technical department confirms.
    assert case.certificate(certificate.number).status == "valid"
    assert withdrawn_announcements(certificate) == []
    case.complete_in(
        "withdrawal",
        "Task_ConfirmWithdrawal",
        case.people.decider,
        {"confirmed": True, "reason": withdraw["reason"], "detail": withdraw["detail"]},
    )


def assert_withdrawn_and_published(case, certificate: Certificate) -> None:
    withdrawn = case.certificate(certificate.number)
    assert withdrawn.status == "withdrawn"
    assert withdrawn.mark_use_allowed is False
    assert case.events(withdrawn)[-1] == "withdrawn"
    (announcement,) = withdrawn_announcements(certificate)
    assert announcement.published_on == china_date(case.clock.now())
    assert "R-10.3" in announcement.body and "不正确使用认证证书或认证标志" in announcement.body
    assert "R-9.5.2d" not in announcement.body and "转让" not in announcement.body
    assert FINDINGS not in announcement.body  # the case's details stay confidential
    # certificate_ended stopped the surveillance cycle.
    (surveillance,) = case.instances("surveillance")
    assert surveillance.status == "completed"
    (withdrawal,) = case.instances("withdrawal")
    assert withdrawal.status == "completed"


def test_mark_misuse_leading_to_withdrawal(case) -> None:
    certificate = case.certify()
    case.at(60)
    instance = report_misuse(case, certificate)
    year = china_date(case.clock.now()).year
    assert instance.business_key == f"WY-{year}-0001"
    assert instance.active_elements == ["Task_InvestigateMisuse"]
    assert case.open_in("mark_misuse", "Task_InvestigateMisuse").candidate_role == "audit_dept"
    assert misuse_case().status == "reported"

    investigate(case, "withdrawal")

    assert case.engine.get_instance(instance.id).status == "completed"
    misuse = misuse_case()
    assert (misuse.status, misuse.confirmed, misuse.action) == ("withdrawn", True, "withdrawal")
    assert misuse.legal_follow_up == LEGAL  # legal follow-up recorded
    assert misuse.closed_at == case.clock.now()
    (notice,) = documents("misuse_notice")
    assert notice.organisation_id == certificate.organisation_id
    assert FINDINGS in notice.body and LEGAL not in notice.body
    (closure,) = documents("misuse_closure")
    assert closure.data["outcome"] == "withdrawn"
    assert closure.created_by == case.people.audit_dept.username  # who closed it

    confirm_withdrawal(case, certificate)
    assert_withdrawn_and_published(case, certificate)


def test_misuse_corrected_within_the_deadline(case) -> None:
    certificate = case.certify()
    case.at(60)
    report_misuse(case, certificate)
    investigate(case, "corrective_action", legal=None)

    today = china_date(case.clock.now())
    deadline = today + timedelta(days=29)  # issue 11: the 30th day, today the first
    deadline_at = nine_am(deadline + timedelta(days=1))
    task = case.open_in("mark_misuse", "Task_MisuseCorrection")
    assert task.candidate_role == "client"
    assert task.due_at == deadline_at  # the interrupting boundary timer
    result = case.engine.task_data(task)["misuse_result"]
    assert result["deadline"] == deadline.isoformat()
    assert datetime.fromisoformat(result["deadline_at"]) == deadline_at
    misuse = misuse_case()
    assert (misuse.status, misuse.deadline, misuse.legal_follow_up) == (
        "corrective_action",
        deadline,
        "",
    )
    (notice,) = documents("misuse_notice")
    assert notice.data["deadline"] == deadline.isoformat()

    case.travel_to(nine_am(today + timedelta(days=20)))
    evidence = case.upload("evidence", "收回宣传单记录.pdf")
    case.complete_in(
        "mark_misuse",
        "Task_MisuseCorrection",
        case.people.client,
        {
            "corrective_actions": "收回并销毁全部宣传单，重新培训分店员工 leaflets withdrawn",
            "evidence_files": [evidence],
        },
    )
    case.complete_in(
        "mark_misuse",
        "Task_VerifyMisuseCorrection",
        case.people.audit_dept,
        {"accepted": True, "note": "现场核实宣传单已收回 leaflets verified withdrawn"},
    )

    misuse = misuse_case()
    assert misuse.status == "closed" and misuse.closed_at == case.clock.now()
    (closure,) = documents("misuse_closure")
    assert closure.data["outcome"] == "corrected"
    (instance,) = case.instances("mark_misuse")
    assert instance.status == "completed"
    # The deadline passing later changes nothing: the timer ended with the task.
    case.travel_to(deadline_at + timedelta(days=1))
    assert case.certificate(certificate.number).status == "valid"
    assert case.certificate(certificate.number).mark_use_allowed is True
    assert case.instances("withdrawal") == []
    assert withdrawn_announcements(certificate) == []


def test_misuse_deadline_passing_leads_to_withdrawal(case) -> None:
    certificate = case.certify()
    case.at(60)
    report_misuse(case, certificate)
    investigate(case, "corrective_action")
    task = case.open_in("mark_misuse", "Task_MisuseCorrection")
    deadline_at = task.due_at

    case.travel_to(deadline_at - timedelta(minutes=1))
    assert case.open_in("mark_misuse", "Task_MisuseCorrection").id == task.id
    assert case.instances("withdrawal") == []

    # SpiffWorkflow fires a timer once its instant has passed.
    case.travel_to(deadline_at + timedelta(minutes=1))
    db.session.rollback()
    assert db.session.get(HumanTask, task.id).state == "cancelled"
    misuse = misuse_case()
    assert misuse.status == "withdrawn"
    (closure,) = documents("misuse_closure")
    assert "deadline" in closure.data["note"]
    (instance,) = case.instances("mark_misuse")
    assert instance.status == "completed"

    confirm_withdrawal(case, certificate)
    assert_withdrawn_and_published(case, certificate)


def test_misuse_correction_not_accepted_leads_to_withdrawal(case) -> None:
    certificate = issue_for_engine(case)
    report_misuse(case, certificate)
    investigate(case, "corrective_action")
    case.complete_in(
        "mark_misuse",
        "Task_MisuseCorrection",
        case.people.client,
        {
            "corrective_actions": "已删除网站上的标志 mark removed from the website",
            "evidence_files": [],
        },
    )
    case.complete_in(
        "mark_misuse",
        "Task_VerifyMisuseCorrection",
        case.people.audit_dept,
        {"accepted": False, "note": "宣传单仍在分店发放 leaflets still handed out"},
    )
    assert misuse_case().status == "withdrawn"
    task = case.open_in("withdrawal", "Task_ConfirmWithdrawal")
    detail = case.engine.task_data(task)["withdraw"]["detail"]
    assert "leaflets still handed out" in detail


def test_the_investigation_form_and_an_unconfirmed_misuse(case) -> None:
    certificate = issue_for_engine(case)
    instance = report_misuse(case, certificate)
    task = case.open_in("mark_misuse", "Task_InvestigateMisuse")
    bad = [
        {"confirmed": False, "action": "withdrawal"},  # not confirmed → no action
        {"confirmed": True, "action": "none"},  # confirmed → corrective action or withdrawal
    ]
    for data in bad:
        with pytest.raises(FormValidationError) as refused:
            case.engine.complete_task(
                task.id,
                actor=case.people.audit_dept,
                data={"investigation": FINDINGS, "legal_follow_up": None, **data},
            )
        assert "action" in refused.value.errors
    with pytest.raises(ForbiddenError):
        case.engine.complete_task(
            task.id,
            actor=case.people.client,
            data={
                "confirmed": False,
                "investigation": "-",
                "action": "none",
                "legal_follow_up": None,
            },
        )

    investigate(case, "none", confirmed=False, legal=None)
    assert case.engine.get_instance(instance.id).status == "completed"
    misuse = misuse_case()
    assert (misuse.status, misuse.confirmed, misuse.action) == ("closed", False, "none")
    assert documents("misuse_notice") == []  # nothing to notify
    assert case.certificate(certificate.number).status == "valid"
    assert case.instances("withdrawal") == []


def issue_for_engine(case) -> Certificate:
    """A certificate made by the handlers directly (faster than a whole certification) for the
    paths that need only the certificate row."""
    case.clock.set(ISSUED_AT + timedelta(days=1))
    certificate = issued_certificate()
    db.session.commit()
    return certificate


# -- handlers --------------------------------------------------------------------------------------
def call(operator: str, params: dict, now=ISSUED_AT, **kw):
    context = handler_context(db.session, now, actor="shen_auditdept", **kw)
    return get_handler(operator)(params, context), context


def registered(now=ISSUED_AT) -> tuple[dict, Certificate]:
    certificate = issued_certificate(now)
    result, _ = call("misuse.register", {"certificate_id": certificate.id, **REPORT}, now)
    return result, certificate


def test_register_numbers_the_cases_per_year(ctx) -> None:
    first, certificate = registered()
    assert first["reference"] == "WY-2026-0001"
    assert first["certificate_number"] == certificate.number
    second, _ = call("misuse.register", {"certificate_id": certificate.id, **REPORT})
    assert second["reference"] == "WY-2026-0002"
    with pytest.raises(RuleViolation, match="R-10.3"):
        call("misuse.register", {"certificate_id": certificate.id, **REPORT, "description": " "})


def test_the_withdrawal_is_keyed_by_the_first_certificate_of_the_cycle(ctx) -> None:
    """After a reissue (R-9.3) the lifecycle processes keep the first number as business key."""
    from domain.certificates import certificate_reissue

    certificate = issued_certificate()
    new = certificate_reissue(
        db.session,
        certificate,
        changes={"organisation_name": "福州优服电器集团有限公司"},
        actor="tester",
        now=ISSUED_AT,
        rule="R-9.3",
    )
    result, _ = call("misuse.register", {"certificate_id": new.id, **REPORT})
    assert result["certificate_number"] == certificate.number
    assert result["current_certificate_number"] == new.number


def test_deadline_and_timer_at_a_china_date_boundary(ctx) -> None:
    result, _ = registered()
    investigation = {
        "misuse_id": result["id"],
        "confirmed": True,
        "investigation": FINDINGS,
        "action": "corrective_action",
        "legal_follow_up": None,
    }
    # 2026-03-09T17:30Z is 10 March in China.
    recorded, _ = call("misuse.record_investigation", investigation)
    assert recorded["deadline"] == "2026-04-08"  # the 30th day, 10 March the first
    assert recorded["deadline_at"] == "2026-04-09T01:00:00+00:00"  # 09:00 China, the day after
    assert datetime.fromisoformat(recorded["deadline_at"]).tzinfo is not None


def test_investigation_rules(ctx) -> None:
    result, certificate = registered()
    base = {
        "misuse_id": result["id"],
        "investigation": FINDINGS,
        "legal_follow_up": LEGAL,
    }
    for confirmed, action in [(False, "corrective_action"), (True, "none"), (True, "fine")]:
        with pytest.raises(RuleViolation, match="R-10.3"):
            call("misuse.record_investigation", {**base, "confirmed": confirmed, "action": action})
    with pytest.raises(RuleViolation, match="R-10.3"):
        call("misuse.record_investigation", {**base, "confirmed": "yes", "action": "none"})
    assert misuse_case(fresh=False).status == "reported"

    # A certificate that has already ended cannot be withdrawn for the misuse.
    certificate.status = "cancelled"
    db.session.flush()
    with pytest.raises(RuleViolation, match="legal follow-up"):
        call("misuse.record_investigation", {**base, "confirmed": True, "action": "withdrawal"})
    certificate.status = "valid"
    db.session.flush()

    recorded, _ = call(
        "misuse.record_investigation", {**base, "confirmed": True, "action": "withdrawal"}
    )
    assert recorded["deadline_at"] is None and recorded["notice_document_id"]
    with pytest.raises(RuleViolation, match="already investigated"):
        call("misuse.record_investigation", {**base, "confirmed": True, "action": "withdrawal"})


def test_close_must_fit_the_investigation(ctx) -> None:
    result, _ = registered()
    call(
        "misuse.record_investigation",
        {
            "misuse_id": result["id"],
            "confirmed": True,
            "investigation": FINDINGS,
            "action": "corrective_action",
            "legal_follow_up": None,
        },
    )
    for outcome in ("no_action", "closed"):
        with pytest.raises(RuleViolation, match="R-10.3"):
            call("misuse.close", {"misuse_id": result["id"], "outcome": outcome, "note": "x"})
    later = ISSUED_AT + timedelta(days=12)
    closed, _ = call(
        "misuse.close", {"misuse_id": result["id"], "outcome": "corrected", "note": "ok"}, later
    )
    assert closed["status"] == "closed"
    misuse = misuse_case(fresh=False)
    assert misuse.closed_at == later.astimezone(UTC)
    with pytest.raises(RuleViolation, match="cannot be closed"):
        call("misuse.close", {"misuse_id": result["id"], "outcome": "withdrawn", "note": "x"})
    assert (
        db.session.scalar(select(func.count(Document.id)).where(Document.kind == "misuse_closure"))
        == 1
    )
