"""Issue 14: the engine is given its handler registry and hooks (it imports no handlers), checks
declared parameters before a handler runs, and calls hooks inside the operation's transaction."""

from contextlib import contextmanager

import pytest
from pydantic import Field
from sqlalchemy import func, select

from engine.errors import DeploymentError
from engine.hooks import Hooks, InstanceStarted, MessageDelivered, TaskCompleted
from engine.models import EventLog, HumanTask
from engine.records import record_event
from engine.registry import HandlerRegistry
from engine.service import WorkflowEngine
from handlers.params import Id, Params
from tests.helpers import CLIENT, MARKET, OWNER, REVIEW_FLOW, record_acceptance, registered


@contextmanager
def hooked(engine, kind, fn):
    engine.hooks.on(kind)(fn)
    try:
        yield
    finally:
        engine.hooks.remove(kind, fn)


def start(engine):
    return engine.start(
        "review_flow",
        actor=MARKET,
        business_key="APP-1",
        data={"headcount": 10, "application_id": "APP-1"},
    )


def open_task(engine, instance_id):
    return engine.session.scalars(
        select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.state == "open")
    ).one()


def events(engine, event_type):
    return engine.session.scalar(
        select(func.count()).select_from(EventLog).where(EventLog.event_type == event_type)
    )


def test_hooks_hear_start_completion_and_delivery_with_their_facts(deployed):
    heard = []
    with (
        hooked(deployed, InstanceStarted, heard.append),
        hooked(deployed, TaskCompleted, heard.append),
        hooked(deployed, MessageDelivered, heard.append),
    ):
        instance = start(deployed)
        review = open_task(deployed, instance.id)
        deployed.complete_task(review.id, actor=MARKET, data={"accepted": False, "man_days": 1})
        deployed.send_message(
            "documents_resubmitted",
            correlation={"business_key": "APP-1"},
            payload={"files": 2},
            actor=CLIENT,
        )
    started, completed, delivered = heard
    assert isinstance(started, InstanceStarted)
    assert (started.instance_id, started.process_id, started.actor) == (
        instance.id,
        "review_flow",
        MARKET.username,
    )
    assert started.data == {"headcount": 10, "application_id": "APP-1"}
    assert isinstance(completed, TaskCompleted)
    assert (completed.task_id, completed.element_id) == (review.id, "Task_Review")
    assert completed.data == {"accepted": False, "man_days": 1}
    assert isinstance(delivered, MessageDelivered)
    assert (delivered.instance_id, delivered.name, delivered.business_key) == (
        instance.id,
        "documents_resubmitted",
        "APP-1",
    )
    assert delivered.payload == {"files": 2}


def test_what_a_hook_writes_commits_with_the_operation(deployed):
    def note(event: TaskCompleted) -> None:
        record_event(event.session, "hook_wrote", actor=event.actor, at=event.now)

    with hooked(deployed, TaskCompleted, note):
        instance = start(deployed)
        review = open_task(deployed, instance.id)
        deployed.complete_task(review.id, actor=MARKET, data={"accepted": True, "man_days": 1})
    deployed.session.rollback()  # only what was committed is left
    assert events(deployed, "hook_wrote") == 1


def test_a_failing_hook_aborts_the_operation(deployed):
    instance = start(deployed)
    review = open_task(deployed, instance.id)

    def refuse(event: TaskCompleted) -> None:
        record_event(event.session, "hook_wrote", actor=event.actor, at=event.now)
        raise RuntimeError("hook failed")

    with hooked(deployed, TaskCompleted, refuse), pytest.raises(RuntimeError, match="hook"):
        deployed.complete_task(review.id, actor=MARKET, data={"accepted": True, "man_days": 1})
    assert deployed.get_task(review.id).state == "open"
    assert events(deployed, "hook_wrote") == 0
    assert events(deployed, "task_completed") == 0


def test_hooks_accept_only_engine_events():
    with pytest.raises(ValueError, match="not an engine event"):
        Hooks().on(dict)


class _AcceptanceParams(Params):
    application_id: Id
    man_days: float = Field(gt=0)


def test_the_engine_checks_declared_parameters_before_the_handler(engine):
    ran = []

    def record(params: _AcceptanceParams, ctx) -> dict:
        ran.append(params)
        return {"man_days": params.man_days}

    engine.registry.add_handler("test_record_acceptance", record, _AcceptanceParams)
    try:
        engine.deploy([REVIEW_FLOW], actor=OWNER)
        # application_id "APP-1" is no row id: the parameters do not fit the declaration.
        instance = start(engine)
        review = open_task(engine, instance.id)
        engine.complete_task(review.id, actor=MARKET, data={"accepted": True, "man_days": 1.5})
    finally:
        engine.registry.remove_handler("test_record_acceptance")
    assert ran == []
    assert engine.get_instance(instance.id).status == "error"
    [incident] = engine.open_incidents(instance.id)
    assert incident.element_id == "Task_RecordAcceptance"
    assert "ParameterError" in incident.message and "test_record_acceptance" in incident.message
    assert "application_id" in incident.message


def test_the_engine_uses_the_registry_it_is_given(ctx, engine):
    """Deploy checks operators against the engine's own registry, not a global one."""
    from certflow.db import db

    with registered("test_record_acceptance", record_acceptance):
        bare = WorkflowEngine(lambda: db.session, engine.clock, HandlerRegistry())
        with pytest.raises(DeploymentError) as refused:
            bare.deploy([REVIEW_FLOW], actor=OWNER)
        [problem] = refused.value.problems
        assert "'test_record_acceptance' is not a registered handler" in problem.message
        given = HandlerRegistry()
        given.add_handler("test_record_acceptance", record_acceptance)
        result = WorkflowEngine(lambda: db.session, engine.clock, given).deploy(
            [REVIEW_FLOW], actor=OWNER
        )
    assert [version.process_id for version in result.created] == ["review_flow"]
