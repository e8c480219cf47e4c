"""A failing handler leaves an incident, nothing half-written, and the instance can be retried."""

import pytest
from sqlalchemy import func, select

from engine.errors import ConflictError
from engine.models import EventLog, HumanTask, Incident
from tests.helpers import ADMIN, MARKET, OWNER, REVIEW_FLOW, record_acceptance, registered


def failing_after_write(params, ctx):
    # A domain write that must be undone when the handler fails.
    ctx.session.add(
        EventLog(
            at=ctx.now, actor=ctx.actor, event_type="handler_wrote", instance_id=ctx.instance_id
        )
    )
    ctx.session.flush()
    raise RuntimeError("registry service unreachable")


def handler_writes(engine) -> int:
    return engine.session.scalar(
        select(func.count()).select_from(EventLog).where(EventLog.event_type == "handler_wrote")
    )


@pytest.fixture
def failed_instance(engine):
    with registered("test_record_acceptance", failing_after_write):
        engine.deploy([REVIEW_FLOW], actor=OWNER)
        instance = engine.start(
            "review_flow",
            actor=MARKET,
            business_key="APP-9",
            data={"headcount": 10, "application_id": "APP-9"},
        )
        review = engine.session.scalars(
            select(HumanTask).where(HumanTask.instance_id == instance.id)
        ).one()
        engine.complete_task(review.id, actor=MARKET, data={"accepted": True, "man_days": 1.5})
    return instance, review


def test_failing_handler_leaves_an_incident_and_keeps_the_users_work(engine, failed_instance):
    instance, review = failed_instance
    row = engine.get_instance(instance.id)
    assert row.status == "error"
    [incident] = engine.open_incidents(instance.id)
    assert incident.element_id == "Task_RecordAcceptance"
    assert "registry service unreachable" in incident.message
    assert incident.error_type == "RuntimeError"
    # The user's completion is kept: the review is done, its data is in the workflow.
    assert engine.get_task(review.id).state == "completed"
    # The handler's own write was rolled back with its savepoint.
    assert handler_writes(engine) == 0
    assert row.active_elements == []


def test_retry_fails_again_then_succeeds_after_the_fix(engine, failed_instance):
    instance, _ = failed_instance
    [incident] = engine.open_incidents(instance.id)
    with registered("test_record_acceptance", failing_after_write):
        engine.retry_incident(incident.id, actor=ADMIN)
    [still] = engine.open_incidents(instance.id)
    assert still.id == incident.id and still.attempts == 2
    assert handler_writes(engine) == 0

    with registered("test_record_acceptance", record_acceptance):
        resolved = engine.retry_incident(incident.id, actor=ADMIN)
    assert resolved.status == "resolved" and resolved.resolved_by == ADMIN.username
    row = engine.get_instance(instance.id)
    assert row.status == "running"
    assert row.active_elements == ["BoundaryTimer_ContractOverdue", "Task_SignContract"]
    contract = engine.session.scalars(
        select(HumanTask).where(HumanTask.element_id == "Task_SignContract")
    ).one()
    assert engine.task_data(contract)["acceptance"] == {"application_id": "APP-9", "man_days": 1.5}
    with pytest.raises(ConflictError):
        engine.retry_incident(incident.id, actor=ADMIN)


def test_missing_handler_is_an_incident_too(engine):
    with registered("test_record_acceptance", record_acceptance):
        engine.deploy([REVIEW_FLOW], actor=OWNER)
    instance = engine.start(
        "review_flow", actor=MARKET, data={"headcount": 10, "application_id": "APP-3"}
    )
    review = engine.session.scalars(select(HumanTask)).one()
    engine.complete_task(review.id, actor=MARKET, data={"accepted": True, "man_days": 1})
    [incident] = engine.open_incidents(instance.id)
    assert "no handler registered for operator 'test_record_acceptance'" in incident.message
    assert engine.session.scalar(select(func.count()).select_from(Incident)) == 1
