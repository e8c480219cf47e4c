"""Instances and tasks through the engine API, on the review_flow fixture process."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.errors import ConflictError, ForbiddenError, FormValidationError, NotFoundError
from engine.models import EventLog, HumanTask, ProcessInstance
from tests.conftest import START_TIME
from tests.helpers import (
    ADMIN,
    CLIENT,
    MARKET,
    MARKET_2,
    OWNER,
)


def open_tasks(engine, instance_id):
    return engine.session.scalars(
        select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.state == "open")
    ).all()


def start(engine, **data):
    return engine.start(
        "review_flow",
        actor=MARKET,
        business_key="APP-1",
        data={"headcount": 120, "application_id": "APP-1", **data},
    )


def test_start_runs_script_and_indexes_the_first_user_task(deployed):
    instance = start(deployed)
    assert instance.status == "running"
    assert instance.active_elements == ["Task_Review"]
    [task] = open_tasks(deployed, instance.id)
    assert (task.element_id, task.candidate_role, task.lane) == ("Task_Review", "market", "市场部")
    assert task.form_file == "forms/review.json"
    assert task.created_at == START_TIME
    assert task.due_at == START_TIME + timedelta(days=5)  # dueIn P5D
    assert deployed.task_data(task)["estimated_man_days"] == 2  # script: 120 // 50


def test_complete_moves_through_gateway_and_service_task(deployed):
    instance = start(deployed)
    [review] = open_tasks(deployed, instance.id)
    deployed.complete_task(review.id, actor=MARKET, data={"accepted": True, "man_days": 2.5})
    [contract] = open_tasks(deployed, instance.id)
    assert contract.element_id == "Task_SignContract"
    assert contract.candidate_role == "client"
    data = deployed.task_data(contract)
    assert data["acceptance"] == {"application_id": "APP-1", "man_days": 2.5}
    # The boundary timer (P30D) gives the task its due date and the instance its next timer.
    assert contract.due_at == START_TIME + timedelta(days=30)
    assert deployed.get_instance(instance.id).next_timer_at == START_TIME + timedelta(days=30)
    review_row = deployed.get_task(review.id)
    assert (review_row.state, review_row.completed_by) == ("completed", MARKET.username)

    deployed.complete_task(
        contract.id, actor=CLIENT, data={"signed_on": "2026-01-20", "signatory": "Li Lei"}
    )
    finished = deployed.get_instance(instance.id)
    assert finished.status == "completed"
    assert finished.ended_at == START_TIME
    assert finished.next_timer_at is None
    types = [e.event_type for e in deployed.session.scalars(select(EventLog).order_by(EventLog.id))]
    assert types[:3] == ["definition_deployed", "instance_started", "task_created"]
    assert types.count("task_completed") == 2
    assert types[-1] == "instance_completed"


def test_invalid_form_data_is_refused_with_field_errors_and_nothing_changes(deployed):
    instance = start(deployed)
    [review] = open_tasks(deployed, instance.id)
    with pytest.raises(FormValidationError) as err:
        deployed.complete_task(review.id, actor=MARKET, data={"man_days": 0.1, "extra": 1})
    assert err.value.errors["accepted"] == ["required"]
    assert "man_days" in err.value.errors
    assert "_form" in err.value.errors  # additional property
    assert deployed.get_task(review.id).state == "open"
    assert deployed.get_instance(instance.id).lock_version == instance.lock_version


def test_role_and_claim_rules(deployed):
    instance = start(deployed)
    [review] = open_tasks(deployed, instance.id)
    with pytest.raises(ForbiddenError):
        deployed.complete_task(review.id, actor=CLIENT, data={"accepted": True, "man_days": 1})
    with pytest.raises(ForbiddenError):
        deployed.claim(review.id, actor=CLIENT)
    deployed.claim(review.id, actor=MARKET)
    with pytest.raises(ConflictError, match="claimed by mia_market"):
        deployed.claim(review.id, actor=MARKET_2)
    with pytest.raises(ConflictError, match="claimed by mia_market"):
        deployed.complete_task(review.id, actor=MARKET_2, data={"accepted": True, "man_days": 1})
    with pytest.raises(ForbiddenError):
        deployed.unclaim(review.id, actor=MARKET_2)
    deployed.unclaim(review.id, actor=MARKET)
    assert deployed.get_task(review.id).assignee is None
    with pytest.raises(ForbiddenError):
        deployed.reassign(review.id, assignee=MARKET_2, actor=MARKET)
    deployed.reassign(review.id, assignee=MARKET_2, actor=ADMIN)
    assert deployed.get_task(review.id).assignee == MARKET_2.username
    deployed.complete_task(review.id, actor=MARKET_2, data={"accepted": True, "man_days": 1})
    with pytest.raises(ConflictError, match="already completed"):
        deployed.complete_task(review.id, actor=MARKET_2, data={"accepted": True, "man_days": 1})
    events = deployed.session.scalars(
        select(EventLog.event_type).where(EventLog.task_id == review.id).order_by(EventLog.id)
    ).all()
    assert events == [
        "task_created",
        "task_claimed",
        "task_unclaimed",
        "task_reassigned",
        "task_completed",
    ]


def test_start_needs_the_start_lane_role(deployed):
    with pytest.raises(ForbiddenError):
        deployed.start("review_flow", actor=CLIENT, data={"headcount": 1})
    with pytest.raises(NotFoundError):
        deployed.start("no_such_process", actor=MARKET)


def test_boundary_timer_fires_when_the_clock_passes_it(deployed, clock):
    instance = start(deployed)
    [review] = open_tasks(deployed, instance.id)
    deployed.complete_task(review.id, actor=MARKET, data={"accepted": True, "man_days": 1})
    clock.advance(timedelta(days=29, hours=23))
    assert deployed.fire_due_timers() == []
    clock.advance(timedelta(hours=2))
    assert deployed.fire_due_timers() == [instance.id]
    [chase] = open_tasks(deployed, instance.id)
    assert chase.element_id == "Task_ChaseContract"
    contract = deployed.session.scalars(
        select(HumanTask).where(HumanTask.element_id == "Task_SignContract")
    ).one()
    assert contract.state == "cancelled"
    assert deployed.get_instance(instance.id).next_timer_at is None
    assert deployed.fire_due_timers() == []  # nothing fires twice


def test_message_waits_in_queue_until_the_instance_reaches_its_catch_event(deployed):
    early = deployed.send_message(
        "documents_resubmitted",
        correlation={"business_key": "APP-1"},
        payload={"files": 3},
        actor=CLIENT,
    )
    assert early.queued_id is not None and early.delivered_to is None
    instance = start(deployed)
    [review] = open_tasks(deployed, instance.id)
    deployed.complete_task(review.id, actor=MARKET, data={"accepted": False, "man_days": 1})
    # The queued message was delivered as soon as the instance waited for it: back to review.
    [again] = open_tasks(deployed, instance.id)
    assert again.element_id == "Task_Review" and again.id != review.id
    assert deployed.task_data(again)["resubmission"] == {"files": 3}


def test_message_delivered_directly_to_a_waiting_instance(deployed):
    instance = start(deployed)
    [review] = open_tasks(deployed, instance.id)
    deployed.complete_task(review.id, actor=MARKET, data={"accepted": False, "man_days": 1})
    assert deployed.get_instance(instance.id).active_elements == ["Event_WaitResubmission"]
    other = deployed.send_message(
        "documents_resubmitted", correlation={"business_key": "APP-2"}, actor=CLIENT
    )
    assert other.queued_id is not None  # wrong correlation: not delivered
    result = deployed.send_message(
        "documents_resubmitted",
        correlation={"business_key": "APP-1"},
        payload={"files": 1},
        actor=CLIENT,
    )
    assert result.delivered_to == instance.id
    assert [t.element_id for t in open_tasks(deployed, instance.id)] == ["Task_Review"]


def test_instance_row_records_version_and_state_without_the_spec(deployed):
    instance = start(deployed)
    row = deployed.session.get(ProcessInstance, instance.id)
    assert row.process_version.version == 1
    assert '"spec"' not in row.state_json
    assert len(row.state_json) < len(row.process_version.spec_json)


def test_bad_ids_are_not_found_and_bad_correlations_refused(deployed):
    from engine.errors import EngineError

    with pytest.raises(NotFoundError):
        deployed.get_instance(10**20)
    with pytest.raises(NotFoundError):
        deployed.retry_incident(-1, actor=ADMIN)
    with pytest.raises(NotFoundError):
        deployed.get_task("not-a-uuid")
    for correlation in ({"instance_id": "abc"}, {"instance_id": 10**20}, {"other": 1}, {}):
        with pytest.raises(EngineError):
            deployed.send_message("documents_resubmitted", correlation=correlation, actor=MARKET)


def test_someone_without_the_role_does_not_learn_who_claimed(deployed):
    instance = start(deployed)
    [review] = open_tasks(deployed, instance.id)
    deployed.claim(review.id, actor=MARKET)
    with pytest.raises(ForbiddenError) as err:
        deployed.complete_task(review.id, actor=CLIENT, data={"accepted": True, "man_days": 1})
    assert MARKET.username not in str(err.value)


def test_event_log_is_append_only(deployed):
    start(deployed)
    entry = deployed.session.scalars(select(EventLog)).first()
    entry.actor = "someone else"
    with pytest.raises(PermissionError):
        deployed.session.flush()
    deployed.session.rollback()
    deployed.session.delete(deployed.session.scalars(select(EventLog)).first())
    with pytest.raises(PermissionError):
        deployed.session.flush()
    deployed.session.rollback()


def test_a_message_starts_the_process_whose_start_event_catches_it(engine):
    from tests.helpers import FIXTURES

    [version] = engine.deploy([FIXTURES / "message_start"], actor=OWNER).created
    assert version.start_messages == ["case_opened"]
    first = engine.send_message(
        "case_opened", correlation={"business_key": "CASE-1"}, payload={"n": 1}, actor=MARKET
    )
    second = engine.send_message(
        "case_opened", correlation={"business_key": "CASE-2"}, payload={"n": 2}, actor=MARKET
    )
    assert first.delivered_to and second.delivered_to and first.delivered_to != second.delivered_to
    instance = engine.get_instance(first.delivered_to)
    assert (instance.process_id, instance.business_key) == ("opened_by_message", "CASE-1")
    [task] = open_tasks(engine, instance.id)
    assert task.element_id == "Task_HandleCase"
    assert engine.task_data(task)["opened"] == {"n": 1}
    # A message for nobody is still queued.
    assert engine.send_message(
        "nobody_listens", correlation={"business_key": "X"}, actor=MARKET
    ).queued_id
