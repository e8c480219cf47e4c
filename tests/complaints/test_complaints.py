"""Complaints and appeals through complaint.bpmn (R-12, R-8.10.1a, R-8.11, R-9.5.1d), with the
engine API and the simulated clock, on both databases (docs/complaints-and-changes.md)."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from certflow.accounts import create_user
from certflow.dates import CHINA_TZ
from certflow.db import db
from certflow.models import User
from domain.complaints import (
    ComplaintInputError,
    case_involvement,
    find_by_reference,
    timer_instants,
)
from domain.errors import RuleViolation
from domain.models import (
    Audit,
    Certificate,
    CertificateEvent,
    Complaint,
    Document,
    Organisation,
)
from engine.errors import ForbiddenError, FormValidationError
from engine.models import EventLog, HumanTask, ProcessInstance
from engine.service import SYSTEM, Actor
from handlers import complaints as handlers_complaints
from handlers import get_handler
from handlers.complaints import public_status, register_complaint
from tests.certification_case import PROCESSES, deploy_everything, make_people
from tests.conftest import START_TIME
from tests.factories import make_application, make_audit, make_auditor, make_organisation
from tests.helpers import OWNER
from tests.lifecycle_case import Lifecycle

DESK = Actor("deng_desk", frozenset({"complaints"}))
HU = Actor("hu_handler", frozenset({"complaints"}))
QM = Actor("qi_quality", frozenset({"quality_manager"}))


# -- helpers --------------------------------------------------------------------------------------
def add_staff(now) -> None:
    for who in (DESK, HU, QM):
        create_user(
            db.session,
            who.username,
            password="pw",
            roles=who.roles,
            display_name=who.username,
            now=now,
        )
    db.session.commit()


def grant_complaints_role(username: str) -> Actor:
    """An auditor or decision maker who also handles complaints."""
    user = db.session.scalars(select(User).where(User.username == username)).one()
    user.roles = user.roles | {"complaints"}
    db.session.commit()
    return Actor(username, frozenset(user.roles))


def factory_certificate(now, number="CTC-SHFW-2025-0007") -> Certificate:
    """A valid certificate of a factory-made organisation (no process needed)."""
    organisation = make_organisation(db.session, now, name="厦门好修家电有限公司")
    application = make_application(db.session, now, organisation, status="certified")
    issued = now.date() - timedelta(days=200)
    certificate = Certificate(
        number=number,
        organisation_id=organisation.id,
        application_id=application.id,
        organisation_name=organisation.name,
        organisation_address=organisation.address,
        sites=[],
        scope=application.scope,
        star_level=4,
        standard="GB/T 27922-2011",
        rules="CTC-SHFW rules",
        issuing_body="CTC",
        signatory="签发人",
        issued_on=issued,
        original_issued_on=issued,
        expires_on=issued + timedelta(days=3 * 365),
        status="valid",
        mark="服务认证标志 4星",
    )
    db.session.add(certificate)
    db.session.commit()
    return certificate


def register(engine, clock, *, kind="about_client", number=None, channel="public", **kw) -> int:
    """Register a complaint now and start its process as the web layer does; its id."""
    complaint = register_complaint(
        db.session,
        kind=kind,
        channel=channel,
        complainant_name=kw.get("name", "林女士"),
        complainant_contact=kw.get("contact", "lin@example.cn 138-0000-0000"),
        subject=kw.get(
            "subject", "空调维修三次未修好 air conditioner not fixed after three visits"
        ),
        description=kw.get("description", "2026 年 1 月报修，上门三次仍未修好，客服不再回复。"),
        certificate_number=number,
        actor=kw.get("actor", "system"),
        now=clock.now(),
        organisation_id=kw.get("organisation_id"),
    )
    complaint_id = complaint.id
    engine.start(
        "complaint",
        actor=kw.get("starter", SYSTEM),
        data={"complaint_id": complaint_id},
        business_key=complaint.reference,
    )
    return complaint_id


def complaint_of(complaint_id: int) -> Complaint:
    db.session.rollback()
    return db.session.get(Complaint, complaint_id)


def open_task(complaint_id: int, element_id: str) -> HumanTask:
    db.session.rollback()
    complaint = db.session.get(Complaint, complaint_id)
    rows = db.session.scalars(
        select(HumanTask).where(
            HumanTask.instance_id == complaint.instance_id,
            HumanTask.element_id == element_id,
            HumanTask.state == "open",
        )
    ).all()
    assert len(rows) == 1, (element_id, rows)
    return rows[0]


def has_open_task(complaint_id: int, element_id: str) -> bool:
    db.session.rollback()
    complaint = db.session.get(Complaint, complaint_id)
    return (
        db.session.scalars(
            select(HumanTask.id).where(
                HumanTask.instance_id == complaint.instance_id,
                HumanTask.element_id == element_id,
                HumanTask.state == "open",
            )
        ).first()
        is not None
    )


def instance_of(engine, complaint_id: int) -> ProcessInstance:
    db.session.rollback()
    instance = engine.get_instance(complaint_of(complaint_id).instance_id)
    assert not engine.open_incidents(instance.id), [
        i.message for i in engine.open_incidents(instance.id)
    ]
    return instance


def assign(engine, complaint_id: int, handler: str, who: Actor = DESK) -> None:
    engine.complete_task(
        open_task(complaint_id, "Task_AssignHandler").id, actor=who, data={"handler": handler}
    )


def investigate(engine, complaint_id: int, who: Actor = HU, **data) -> None:
    values = {
        "findings": "走访投诉人和获证组织，核对维修记录 visited both parties, checked records",
        "substantiated": False,
        "follow_up": "none",
        "decision": "经核实，维修按服务承诺完成。 The repairs were done as promised.",
        **data,
    }
    engine.complete_task(
        open_task(complaint_id, "Task_InvestigateComplaint").id, actor=who, data=values
    )


def documents(complaint_id: int, kind: str) -> list[Document]:
    db.session.rollback()
    rows = db.session.scalars(select(Document).where(Document.kind == kind).order_by(Document.id))
    return [row for row in rows if row.data.get("complaint_id") == complaint_id]


def china_nine(day: date) -> datetime:
    """A second after 09:00 China time on `day`: SpiffWorkflow fires a timer once its instant
    has passed (strictly), while the engine already counts it due at the instant itself."""
    return datetime.combine(day, time(9, 0, 1), tzinfo=CHINA_TZ)


def travel(engine, clock, moment: datetime) -> None:
    """Set the clock and fire what became due, as the scheduler would."""
    if moment > clock.now():
        clock.set(moment)
    db.session.commit()
    for _ in range(20):
        if not engine.fire_due_timers():
            break


@pytest.fixture
def deployed(engine, clock):
    """complaint.bpmn alone (enough when no message has to reach another process)."""
    engine.deploy([PROCESSES / "complaint.bpmn"], actor=OWNER, comment="complaints")
    add_staff(clock.now())
    return engine


@pytest.fixture
def certified(engine, clock, tmp_path):
    """A client certified through the real diagrams (an audit team, a decision maker) with its
    surveillance cycle running; every process deployed."""
    deploy_everything(engine)
    add_staff(clock.now())
    case = Lifecycle(engine, clock, make_people(clock.now()), tmp_path / "uploads")
    certificate = case.certify()
    return case, certificate.number


# -- registration ---------------------------------------------------------------------------------
def test_registration_numbers_dates_and_links(ctx, clock):
    certificate = factory_certificate(clock.now())
    first = register_complaint(
        db.session,
        kind="about_client",
        channel="public",
        complainant_name=" 林女士 ",
        complainant_contact="lin@example.cn",
        subject="维修拖延 slow repair",
        description="三周未上门 nobody came for three weeks",
        certificate_number=" ctc-shfw-2025-0007 ",
        actor="system",
        now=START_TIME,
    )
    second = register_complaint(
        db.session,
        kind="about_cb",
        channel="staff",
        complainant_name="张先生",
        complainant_contact="0591-12345678",
        subject="审查员迟到 auditor late",
        description="审查员迟到两小时 the auditor came two hours late",
        certificate_number=None,
        actor="deng_desk",
        now=START_TIME,
    )
    assert (first.reference, second.reference) == ("TS-2026-0001", "TS-2026-0002")
    assert first.complainant_name == "林女士"
    assert (first.certificate_id, first.organisation_id) == (
        certificate.id,
        certificate.organisation_id,
    )
    assert first.application_id == certificate.application_id
    assert second.organisation_id is None and second.certificate_id is None
    assert first.status == "received" and first.overdue is False
    # R-12, issue 11: received 5 Jan (day 0) → the last of the 30 days is day 29, 3 Feb
    assert first.reply_due_on == date(2026, 2, 3)
    registered = db.session.scalars(
        select(EventLog).where(EventLog.event_type == "complaint_registered").order_by(EventLog.id)
    ).all()
    assert [(e.actor, e.data["channel"]) for e in registered] == [
        ("system", "public"),
        ("deng_desk", "staff"),
    ]
    # The China year counts: 31 Dec 17:00 UTC is already 1 Jan in China.
    new_year = register_complaint(
        db.session,
        kind="appeal",
        channel="public",
        complainant_name="王",
        complainant_contact="w@example.cn",
        subject="申诉 appeal",
        description="对决定不服 against the decision",
        certificate_number=None,
        actor="system",
        now=datetime(2026, 12, 31, 17, 0, tzinfo=UTC),
    )
    assert new_year.reference == "TS-2027-0001"
    assert new_year.reply_due_on == date(2027, 1, 30)  # 1 Jan + 29: the 30th day
    assert find_by_reference(db.session, " ts-2026-0002 ").id == second.id
    assert find_by_reference(db.session, "TS-2026-9999") is None
    assert find_by_reference(db.session, "'; drop table complaint; --") is None


def test_registration_refuses_bad_input_with_codes(ctx, clock):
    certificate = factory_certificate(clock.now())
    base = {
        "channel": "public",
        "complainant_name": "林",
        "complainant_contact": "lin@example.cn",
        "subject": "s",
        "description": "d",
        "actor": "system",
        "now": START_TIME,
    }
    cases = [
        (
            {"kind": "about_client", "certificate_number": None},
            {"certificate_number": ["certificate_required"]},
        ),
        (
            {"kind": "about_client", "certificate_number": "CTC-X"},
            {"certificate_number": ["unknown_certificate"]},
        ),
        ({"kind": "other", "certificate_number": None}, {"kind": ["choice"]}),
        (
            {
                "kind": "about_cb",
                "certificate_number": None,
                "subject": "x" * 301,
                "description": " ",
            },
            {"subject": ["too_long"], "description": ["required"]},
        ),
        (
            {"kind": "appeal", "certificate_number": certificate.number, "organisation_id": -1},
            {"certificate_number": ["other_organisation"]},
        ),
    ]
    for changes, expected in cases:
        with pytest.raises(ComplaintInputError) as err:
            register_complaint(db.session, **{**base, **changes})
        assert err.value.errors == expected, changes
    assert db.session.scalars(select(Complaint)).all() == []


def test_timers_are_days_20_25_30_at_nine_in_china_from_receipt(ctx, clock):
    # Received at 04:00 on 6 January in China (20:00 UTC on the 5th): days count from the 6th.
    complaint = register_complaint(
        db.session,
        kind="about_cb",
        channel="public",
        complainant_name="林",
        complainant_contact="lin@example.cn",
        subject="s",
        description="d",
        certificate_number=None,
        actor="system",
        now=datetime(2026, 1, 5, 20, 0, tzinfo=UTC),
    )
    assert complaint.reply_due_on == date(2026, 2, 4)  # day 29; overdue on day 30
    assert timer_instants(complaint) == {
        "reminder_at": "2026-01-26T01:00:00+00:00",
        "escalate_at": "2026-01-31T01:00:00+00:00",
        "overdue_at": "2026-02-05T01:00:00+00:00",
    }


# -- answered in time, reminded, escalated, overdue -----------------------------------------
def test_a_complaint_answered_on_day_12(deployed, clock):
    engine = deployed
    factory_certificate(clock.now())
    complaint_id = register(engine, clock, number="CTC-SHFW-2025-0007")
    complaint = complaint_of(complaint_id)
    instance = instance_of(engine, complaint_id)
    assert instance.business_key == complaint.reference == "TS-2026-0001"
    assert public_status(db.session, complaint) == "received"
    [acknowledgement] = documents(complaint_id, "complaint_acknowledgement")
    assert "2026-02-03" in acknowledgement.body and complaint.reference in acknowledgement.body
    data = engine.task_data(open_task(complaint_id, "Task_AssignHandler"))
    assert data["complaint"]["reminder_at"] == "2026-01-25T01:00:00+00:00"
    assert data["complaint"]["eligible_handlers"] == ["deng_desk", "hu_handler"]

    travel(engine, clock, china_nine(date(2026, 1, 6)))
    assign(engine, complaint_id, "hu_handler")
    assert public_status(db.session, complaint_of(complaint_id)) == "investigating"
    task = open_task(complaint_id, "Task_InvestigateComplaint")
    # Issue 11: due at the 30-day deadline (day 30, 09:00 China), not at the day-20 reminder.
    assert task.due_at == datetime(2026, 2, 4, 1, 0, tzinfo=UTC)

    travel(engine, clock, china_nine(date(2026, 1, 17)))  # day 12
    investigate(engine, complaint_id)
    instance = instance_of(engine, complaint_id)
    assert instance.status == "terminated"  # the terminate end event ends the pending timers
    complaint = complaint_of(complaint_id)
    assert complaint.status == "answered" and complaint.overdue is False
    assert complaint.handler == "hu_handler" and complaint.substantiated is False
    assert complaint.answered_at == datetime(2026, 1, 17, 1, 0, 1, tzinfo=UTC)
    [reply] = documents(complaint_id, "complaint_reply")
    assert complaint.reply_document_id == reply.id
    assert "CNCA" in reply.body and "国家认证认可监督管理委员会" in reply.body
    assert "维修按服务承诺完成" in reply.body  # the decision and its reasons
    assert "走访投诉人" not in reply.body  # the findings are internal
    assert reply.data["late"] is False
    assert public_status(db.session, complaint) == "answered"

    travel(engine, clock, china_nine(date(2026, 2, 10)))
    assert documents(complaint_id, "complaint_reminder") == []
    assert complaint_of(complaint_id).overdue is False


def test_reminded_on_day_20_escalated_on_day_25_overdue_on_day_30_then_answered(deployed, clock):
    engine = deployed
    factory_certificate(clock.now())
    complaint_id = register(engine, clock, number="CTC-SHFW-2025-0007")
    assign(engine, complaint_id, "hu_handler")

    travel(engine, clock, china_nine(date(2026, 1, 25)) - timedelta(hours=1))  # day 20, 08:00
    assert documents(complaint_id, "complaint_reminder") == []
    travel(engine, clock, china_nine(date(2026, 1, 25)))  # day 20
    [reminder] = documents(complaint_id, "complaint_reminder")
    assert "2026-02-03" in reminder.body and reminder.data["days_left"] == 9
    assert not has_open_task(complaint_id, "Task_EscalationReview")
    assert has_open_task(complaint_id, "Task_InvestigateComplaint")

    travel(engine, clock, china_nine(date(2026, 1, 30)))  # day 25
    escalation = open_task(complaint_id, "Task_EscalationReview")
    assert escalation.candidate_role == "quality_manager"
    assert complaint_of(complaint_id).overdue is False
    with pytest.raises(ForbiddenError):  # the handler cannot do the quality manager's review
        engine.complete_task(escalation.id, actor=HU, data={"assessment": "x", "measures": "y"})
    engine.complete_task(
        escalation.id,
        actor=QM,
        data={
            "assessment": "处理人出差 the handler was travelling",
            "measures": "2 月 3 日前决定 decide by 3 February",
        },
    )

    travel(engine, clock, china_nine(date(2026, 2, 4)) - timedelta(minutes=2))
    assert complaint_of(complaint_id).overdue is False
    travel(engine, clock, china_nine(date(2026, 2, 4)))  # day 30
    assert complaint_of(complaint_id).overdue is True
    assert public_status(db.session, complaint_of(complaint_id)) == "investigating"
    assert has_open_task(complaint_id, "Task_InvestigateComplaint")

    travel(engine, clock, china_nine(date(2026, 2, 5)))
    investigate(engine, complaint_id, substantiated=True, decision="投诉属实，已督促整改。 Upheld.")
    complaint = complaint_of(complaint_id)
    assert (
        complaint.status == "answered" and complaint.overdue is True
    )  # the late reply stays on record
    [reply] = documents(complaint_id, "complaint_reply")
    assert reply.data["late"] is True and "CNCA" in reply.body
    assert instance_of(engine, complaint_id).status == "terminated"
    assert len(documents(complaint_id, "complaint_reminder")) == 1


def test_an_open_escalation_review_ends_with_the_reply(deployed, clock):
    engine = deployed
    complaint_id = register(engine, clock, kind="about_cb")
    assign(engine, complaint_id, "hu_handler")
    travel(engine, clock, china_nine(date(2026, 1, 30)))
    task_id = open_task(complaint_id, "Task_EscalationReview").id
    investigate(engine, complaint_id)
    db.session.rollback()
    assert db.session.get(HumanTask, task_id).state == "cancelled"
    assert complaint_of(complaint_id).status == "answered"


def test_a_complaint_without_organisation_keeps_its_letters_as_documents(deployed, clock):
    """Issue 11: a public complaint about the CB that names no certificate keeps its letters
    as documents like any other case (with no organisation, so no case page lists them)."""
    engine = deployed
    complaint_id = register(engine, clock, kind="about_cb", subject="审查员态度 auditor's manner")
    assign(engine, complaint_id, "hu_handler")
    investigate(engine, complaint_id)
    complaint = complaint_of(complaint_id)
    assert complaint.status == "answered" and complaint.organisation_id is None
    [acknowledgement] = documents(complaint_id, "complaint_acknowledgement")
    assert complaint.reference in acknowledgement.body
    [reply] = documents(complaint_id, "complaint_reply")
    assert complaint.reply_document_id == reply.id
    assert "CNCA" in reply.body and reply.organisation_id is None
    assert instance_of(engine, complaint_id).status == "terminated"


# -- impartiality ---------------------------------------------------------------------------
def test_an_appeal_cannot_be_assigned_to_an_involved_auditor_but_to_an_uninvolved_one(
    certified, clock
):
    case, number = certified
    engine = case.engine
    auditor = grant_complaints_role("li_auditor")  # on the initial audit team
    expert = grant_complaints_role("chen_expert")  # technical expert of the team
    decider = grant_complaints_role("jue_decider")  # took the certification decision
    organisation_id = db.session.scalars(select(Organisation.id)).one()
    complaint_id = register(
        engine,
        clock,
        kind="appeal",
        channel="portal",
        number=number,
        organisation_id=organisation_id,
        actor="wang_client",
        subject="对审查结论的申诉 appeal against the audit conclusion",
    )
    complaint = complaint_of(complaint_id)
    involved = case_involvement(db.session, complaint)
    assert {"zhang_leader", "li_auditor", "chen_expert", "jue_decider"} <= set(involved)
    assert "hu_handler" not in involved
    data = engine.task_data(open_task(complaint_id, "Task_AssignHandler"))
    assert data["complaint"]["eligible_handlers"] == ["deng_desk", "hu_handler"]

    for person, why in (
        (auditor, "audit team member (auditor)"),
        (expert, "audit team member (tech_expert)"),
        (decider, "certification decision maker"),
    ):
        with pytest.raises(FormValidationError) as err:
            assign(engine, complaint_id, person.username)
        [message] = err.value.errors["handler"]
        assert message.startswith("R-12:") and why in message, message
    with pytest.raises(FormValidationError) as err:
        assign(engine, complaint_id, "qi_quality")  # no complaints role
    assert "does not hold the role" in err.value.errors["handler"][0]
    assert has_open_task(complaint_id, "Task_AssignHandler")

    assign(engine, complaint_id, "hu_handler")
    task = open_task(complaint_id, "Task_InvestigateComplaint")
    with pytest.raises(ForbiddenError, match="only the assigned handler"):
        engine.claim(task.id, actor=auditor)
    with pytest.raises(ForbiddenError, match="only the assigned handler"):
        engine.complete_task(
            task.id,
            actor=DESK,
            data={"findings": "f", "substantiated": False, "follow_up": "none", "decision": "d"},
        )
    # An appeal has no follow-up against the client (validator, 422).
    with pytest.raises(FormValidationError) as err:
        investigate(engine, complaint_id, substantiated=True, follow_up="suspension")
    assert "R-9.5.1d" in err.value.errors["follow_up"][0]
    engine.claim(task.id, actor=HU)
    investigate(
        engine, complaint_id, substantiated=False, decision="维持原决定 the decision stands"
    )
    complaint = complaint_of(complaint_id)
    assert (complaint.status, complaint.handler, complaint.channel) == (
        "answered",
        "hu_handler",
        "portal",
    )
    assert complaint.organisation_id == organisation_id
    [reply] = documents(complaint_id, "complaint_reply")
    assert "维持原决定" in reply.body and "CNCA" in reply.body


def test_record_investigation_checks_the_handler_again(deployed, clock):
    """Defence in depth: a handler who became involved after the assignment is refused when the
    investigation is recorded (RuleViolation → incident)."""
    engine = deployed
    certificate = factory_certificate(clock.now())
    complaint_id = register(engine, clock, number=certificate.number)
    assign(engine, complaint_id, "hu_handler")
    # hu_handler is appointed to an audit of the organisation afterwards.
    auditor = make_auditor(db.session, clock.now(), name="胡", registration="CCAA-SC-9")
    auditor.user_id = db.session.scalars(select(User.id).where(User.username == "hu_handler")).one()
    organisation = db.session.get(Organisation, certificate.organisation_id)
    application = make_application(db.session, clock.now(), organisation)
    make_audit(db.session, clock.now(), organisation, application, team=[(auditor, "auditor")])
    db.session.commit()
    investigate(engine, complaint_id)
    db.session.rollback()
    instance = engine.get_instance(complaint_of(complaint_id).instance_id)
    [incident] = engine.open_incidents(instance.id)
    assert instance.status == "error" and "R-12" in incident.message
    assert complaint_of(complaint_id).status == "received"


# -- follow-up of a substantiated complaint against a client --------------------------------------
def test_a_substantiated_complaint_suspends_the_certificate(certified, clock):
    case, number = certified
    engine = case.engine
    complaint_id = register(engine, clock, number=number)
    reference = complaint_of(complaint_id).reference
    assign(engine, complaint_id, "hu_handler")
    with pytest.raises(FormValidationError) as err:  # only a substantiated complaint
        investigate(engine, complaint_id, substantiated=False, follow_up="suspension")
    assert "follow_up" in err.value.errors
    investigate(
        engine,
        complaint_id,
        substantiated=True,
        follow_up="suspension",
        decision="投诉属实：拒绝履行保修承诺。 Upheld: the warranty was refused.",
    )
    complaint = complaint_of(complaint_id)
    assert complaint.status == "answered" and complaint.follow_up == "suspension"
    assert instance_of(engine, complaint_id).status == "terminated"

    [suspension] = case.instances("suspension")
    assert suspension.business_key == number and suspension.status == "running"
    assert complaint.follow_up_instance_id == suspension.id  # complaint → follow-up
    certificate = case.certificate(number)
    assert certificate.status == "suspended" and certificate.mark_use_allowed is False
    event = db.session.scalars(
        select(CertificateEvent).where(
            CertificateEvent.certificate_id == certificate.id,
            CertificateEvent.event == "suspended",
        )
    ).one()
    assert event.rule == "R-9.5.1d" and event.actor == "hu_handler"
    assert reference in event.reason  # follow-up → complaint
    data = engine.task_data(case.open_in("suspension", "Task_SubmitSuspensionCorrection"))
    assert data["suspend"]["complaint_reference"] == reference
    assert data["suspend"]["reason"] == "d"
    [record] = documents(complaint_id, "complaint_follow_up")
    assert record.organisation_id == certificate.organisation_id
    assert "R-9.5.1d" in record.body and reference in record.title
    [reply] = documents(complaint_id, "complaint_reply")
    assert "CNCA" in reply.body and "R-9.5.1" in reply.body


@pytest.mark.parametrize(
    ("follow_up", "reason"), [("extra_surveillance", "a"), ("special_audit", "d")]
)
def test_a_substantiated_complaint_triggers_extra_surveillance_or_a_special_audit(
    certified, clock, follow_up, reason
):
    case, number = certified
    engine = case.engine
    [surveillance] = case.instances("surveillance")
    complaint_id = register(engine, clock, number=number)
    reference = complaint_of(complaint_id).reference
    assign(engine, complaint_id, "hu_handler")
    investigate(engine, complaint_id, substantiated=True, follow_up=follow_up)
    complaint = complaint_of(complaint_id)
    assert complaint.status == "answered"
    assert complaint.follow_up_instance_id == surveillance.id
    if follow_up == "special_audit":  # or an early recertification agreed with the client
        case.complete_in(
            "surveillance",
            "Task_ArrangeSpecialAudit",
            case.people.audit_dept,
            {"arrangement": "special_audit", "client_agreed": False, "note": "特殊审查 audit"},
        )
    audit = db.session.scalars(select(Audit).where(Audit.kind == "extra_surveillance")).one()
    assert audit.trigger_reason == reason
    [trigger] = db.session.scalars(
        select(Document).where(Document.kind == "extra_surveillance_trigger")
    ).all()
    assert reference in trigger.body  # follow-up → complaint
    plan = case.open_in("surveillance", "Task_PlanSurveillance")
    assert plan.candidate_role == "scheduler"
    assert case.certificate(number).status == "valid"


def test_follow_up_refusals(deployed, clock):
    certificate = factory_certificate(clock.now())
    about_cb = register_complaint(
        db.session,
        kind="about_cb",
        channel="public",
        complainant_name="林",
        complainant_contact="x",
        subject="s",
        description="d",
        certificate_number=certificate.number,
        actor="system",
        now=clock.now(),
    )
    about_client = register_complaint(
        db.session,
        kind="about_client",
        channel="public",
        complainant_name="林",
        complainant_contact="x",
        subject="s",
        description="d",
        certificate_number=certificate.number,
        actor="system",
        now=clock.now(),
    )
    problem = handlers_complaints.follow_up_problem
    assert problem(db.session, about_cb, True, "extra_surveillance")[0] == "R-8.10.1a"
    assert problem(db.session, about_client, False, "special_audit")[0] == "R-8.11"
    assert problem(db.session, about_client, True, "suspension") is None
    assert problem(db.session, about_client, True, "none") is None
    assert problem(db.session, about_client, True, "bogus")[0] == "R-12"
    certificate.status = "suspended"
    assert "already suspended" in problem(db.session, about_client, True, "suspension")[1]
    assert problem(db.session, about_client, True, "extra_surveillance") is None
    certificate.status = "withdrawn"
    assert "withdrawn" in problem(db.session, about_client, True, "extra_surveillance")[1]
    with pytest.raises(RuleViolation):
        get_handler("complaints.link_follow_up")(
            {"complaint_id": about_client.id, "follow_up": "none"},
            _context(clock),
        )


def _context(clock):
    from tests.helpers import handler_context

    return handler_context(db.session, clock.now(), actor="hu_handler")
