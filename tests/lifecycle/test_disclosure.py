"""Disclosure of client information to a third party (R-11) through disclosure.bpmn with the
engine API and the simulated clock, on both databases: a disclosure with its prior notice (the
notice Document exists before the disclosure, the client had the notice task), one where the
client does not acknowledge within 10 days, one the law requires without notice (the legal
basis recorded, no notice), and a disclosure recorded before the notice — refused
(docs/complaints-and-changes.md)."""

from datetime import datetime, timedelta

import pytest
from markupsafe import escape
from sqlalchemy import select

from certflow.dates import china_date
from certflow.db import db
from domain.errors import RuleViolation
from domain.models import Disclosure, Document
from engine.errors import ForbiddenError, FormValidationError
from engine.models import EventLog, HumanTask, ProcessInstance
from engine.service import Actor
from handlers import get_handler
from tests.certification_case import deploy_everything
from tests.factories import make_organisation
from tests.helpers import handler_context
from tests.lifecycle_case import nine_am
from webapp.instructions import fill_placeholders

QUALITY = Actor("qiu_quality", frozenset({"quality_manager"}))
CLIENT = Actor("wang_client", frozenset({"client"}))
REQUEST = {
    "recipient": "中国合格评定国家认可委员会（CNAS）评审组 the CNAS assessment team",
    "information": "2026 年初次认证审查记录和审查报告 the 2026 initial audit records and report",
    "purpose": "认可监督评审抽查认证档案 accreditation surveillance samples certification files",
}
LEGAL_BASIS = (
    "《中华人民共和国刑事诉讼法》第五十四条：公安机关依法调取证据，要求不得通知当事人 "
    "Criminal Procedure Law art. 54: evidence collected by the police, who require no notice"
)


@pytest.fixture
def organisation(ctx, engine):
    deploy_everything(engine)
    organisation = make_organisation(db.session, engine.clock.now())
    db.session.commit()
    return organisation


def start(engine, organisation, legal_basis=None) -> ProcessInstance:
    instance = engine.start(
        "disclosure",
        actor=QUALITY,
        data={
            "organisation_id": organisation.id,
            **REQUEST,
            "legal_basis_no_notice": legal_basis,
        },
    )
    db.session.rollback()
    return engine.get_instance(instance.id)


def open_task(instance: ProcessInstance, element_id: str) -> HumanTask:
    db.session.rollback()
    return db.session.scalars(
        select(HumanTask).where(
            HumanTask.instance_id == instance.id,
            HumanTask.element_id == element_id,
            HumanTask.state == "open",
        )
    ).one()


def the_disclosure() -> Disclosure:
    db.session.rollback()
    return db.session.scalars(select(Disclosure)).one()


def documents(kind: str) -> list[Document]:
    db.session.rollback()
    return list(db.session.scalars(select(Document).where(Document.kind == kind)))


def sweep(ctx, clock, moment: datetime) -> None:
    from scheduler import sweep as fire

    clock.set(moment)
    db.session.commit()
    fire(ctx)


def disclose(engine, instance: ProcessInstance, disclosed_on: str) -> None:
    task = open_task(instance, "Task_Disclose")
    assert task.candidate_role == "quality_manager"
    engine.complete_task(
        task.id,
        actor=QUALITY,
        data={"disclosed_on": disclosed_on, "channel": "评审现场查阅 inspected on site"},
    )


def test_disclosure_with_its_prior_notice(ctx, engine, clock, organisation) -> None:
    instance = start(engine, organisation)
    row = the_disclosure()
    assert instance.business_key == f"PL-{row.id:04d}"
    assert (row.status, row.requested_by, row.legal_basis_no_notice) == (
        "notified",
        QUALITY.username,
        None,
    )

    # The notice to the client, before anything is disclosed: what, to whom, why, when.
    (notice,) = documents("disclosure_notice")
    assert row.notice_document_id == notice.id
    assert row.notified_at == notice.created_at == clock.now()
    assert notice.organisation_id == organisation.id
    assert notice.data["addressed_to"] == organisation.name
    for text in REQUEST.values():
        assert text in notice.body
    # R-11, issue 11: the 10 days start today; the last of them is day 9
    acknowledge_by = china_date(clock.now()) + timedelta(days=9)
    assert notice.data["acknowledge_by"] == acknowledge_by.isoformat()
    assert acknowledge_by.isoformat() in notice.body  # when

    # The client sees the notice as its task, until the end of the 10 days.
    task = open_task(instance, "Task_AcknowledgeNotice")
    assert task.candidate_role == "client"
    assert task.due_at == nine_am(acknowledge_by + timedelta(days=1))
    data = engine.task_data(task)
    assert data["disclosure"]["acknowledge_by"] == acknowledge_by.isoformat()
    assert {data[key] for key in REQUEST} == set(REQUEST.values())
    shown = fill_placeholders(engine.task_details(task)["instructions"], data)
    for text in (*REQUEST.values(), acknowledge_by.isoformat()):
        assert str(escape(text)) in shown
    with pytest.raises(ForbiddenError):  # only the client acknowledges
        engine.complete_task(task.id, actor=QUALITY, data={"acknowledged": True, "comments": None})
    with pytest.raises(FormValidationError):
        engine.complete_task(task.id, actor=CLIENT, data={"acknowledged": False, "comments": None})

    clock.set(clock.now() + timedelta(days=3))
    engine.complete_task(
        task.id, actor=CLIENT, data={"acknowledged": True, "comments": "无异议 no objection"}
    )
    clock.set(clock.now() + timedelta(days=1))
    disclose(engine, instance, china_date(clock.now()).isoformat())

    row = the_disclosure()
    assert (row.status, row.disclosed_by) == ("disclosed", QUALITY.username)
    assert row.disclosed_at == clock.now()
    assert notice.created_at < row.disclosed_at  # the notice came first
    acknowledged = db.session.scalars(
        select(EventLog).where(
            EventLog.instance_id == instance.id,
            EventLog.event_type == "task_completed",
            EventLog.element_id == "Task_AcknowledgeNotice",
        )
    ).one()
    assert acknowledged.actor == CLIENT.username and acknowledged.at < row.disclosed_at
    (record,) = documents("disclosure_record")
    assert record.data["channel"] == "评审现场查阅 inspected on site"
    assert record.data["notice_document_id"] == notice.id
    assert record.created_by == QUALITY.username
    assert engine.get_instance(instance.id).status == "completed"


def test_without_acknowledgement_the_disclosure_goes_ahead_after_10_days(
    ctx, engine, clock, organisation
) -> None:
    instance = start(engine, organisation)
    task = open_task(instance, "Task_AcknowledgeNotice")
    acknowledge_by_at = task.due_at

    sweep(ctx, clock, acknowledge_by_at - timedelta(minutes=1))
    assert open_task(instance, "Task_AcknowledgeNotice").id == task.id
    sweep(ctx, clock, acknowledge_by_at + timedelta(minutes=1))
    db.session.rollback()
    assert db.session.get(HumanTask, task.id).state == "cancelled"
    disclose(engine, instance, china_date(clock.now()).isoformat())
    assert the_disclosure().status == "disclosed"
    assert engine.get_instance(instance.id).status == "completed"


def test_disclosure_the_law_requires_without_notice(ctx, engine, clock, organisation) -> None:
    instance = start(engine, organisation, legal_basis=LEGAL_BASIS)
    row = the_disclosure()
    assert (row.status, row.legal_basis_no_notice) == ("requested", LEGAL_BASIS)
    assert instance.active_elements == ["Task_Disclose"]
    disclose(engine, instance, china_date(clock.now()).isoformat())

    row = the_disclosure()
    assert row.status == "disclosed"
    assert row.notice_document_id is None and row.notified_at is None
    assert documents("disclosure_notice") == []
    (record,) = documents("disclosure_record")
    assert record.data["legal_basis_no_notice"] == LEGAL_BASIS
    assert LEGAL_BASIS in record.body
    tasks = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)).all()
    assert [t.candidate_role for t in tasks] == ["quality_manager"]  # the client had no task
    assert engine.get_instance(instance.id).status == "completed"


def test_a_disclosure_dated_before_the_notice_or_in_the_future_is_refused(
    ctx, engine, clock, organisation
) -> None:
    instance = start(engine, organisation)
    notified_on = china_date(clock.now())
    task = open_task(instance, "Task_AcknowledgeNotice")
    clock.set(clock.now() + timedelta(days=2))
    engine.complete_task(task.id, actor=CLIENT, data={"acknowledged": True, "comments": None})
    for day in (notified_on - timedelta(days=1), china_date(clock.now()) + timedelta(days=1)):
        with pytest.raises(FormValidationError) as refused:
            disclose(engine, instance, day.isoformat())
        assert list(refused.value.errors) == ["disclosed_on"]
    assert the_disclosure().status == "notified"
    disclose(engine, instance, notified_on.isoformat())
    assert the_disclosure().status == "disclosed"


# -- handlers --------------------------------------------------------------------------------------
NOW = datetime.fromisoformat("2026-03-09T17:30:00+00:00")  # 10 March in China


def call(operator: str, params: dict, now=NOW):
    return get_handler(operator)(params, handler_context(db.session, now, actor=QUALITY.username))


def test_recording_a_disclosure_before_the_notice_is_refused(ctx) -> None:
    organisation = make_organisation(db.session, NOW)
    registered = call(
        "disclosure.register",
        {"organisation_id": organisation.id, **REQUEST, "legal_basis_no_notice": None},
    )
    assert registered["notice_required"] is True
    record = {
        "disclosure_id": registered["id"],
        "disclosed_on": "2026-03-10",
        "channel": "邮件 e-mail",
    }
    with pytest.raises(RuleViolation, match="not been notified") as refused:
        call("disclosure.record_disclosure", record)
    assert refused.value.rule == "R-11"
    row = db.session.get(Disclosure, registered["id"])
    assert (row.status, row.disclosed_at, row.disclosed_by) == ("requested", None, None)
    assert db.session.scalars(select(Document)).all() == []

    notified = call("disclosure.notify_client", {"disclosure_id": registered["id"]})
    assert notified["acknowledge_by"] == "2026-03-19"  # 10 March + 9: the 10th day
    assert notified["acknowledge_by_at"] == "2026-03-20T01:00:00+00:00"  # 09:00, the day after
    with pytest.raises(RuleViolation, match="already notified"):
        call("disclosure.notify_client", {"disclosure_id": registered["id"]})
    later = NOW + timedelta(days=11)
    done = call("disclosure.record_disclosure", {**record, "disclosed_on": "2026-03-21"}, later)
    assert done["status"] == "disclosed"
    with pytest.raises(RuleViolation, match="already recorded"):
        call("disclosure.record_disclosure", {**record, "disclosed_on": "2026-03-21"}, later)


def test_no_notice_is_sent_when_the_law_requires_disclosure_without_one(ctx) -> None:
    organisation = make_organisation(db.session, NOW)
    registered = call(
        "disclosure.register",
        {"organisation_id": organisation.id, **REQUEST, "legal_basis_no_notice": LEGAL_BASIS},
    )
    assert registered["notice_required"] is False
    with pytest.raises(RuleViolation, match="without notice by law"):
        call("disclosure.notify_client", {"disclosure_id": registered["id"]})
    for missing in ("recipient", "information", "purpose"):
        with pytest.raises(RuleViolation, match="R-11"):
            call(
                "disclosure.register",
                {
                    "organisation_id": organisation.id,
                    **REQUEST,
                    missing: " ",
                    "legal_basis_no_notice": None,
                },
            )
    # A blank legal basis is no legal basis: the notice is required.
    blank = call(
        "disclosure.register",
        {"organisation_id": organisation.id, **REQUEST, "legal_basis_no_notice": "  "},
    )
    assert blank["notice_required"] is True
