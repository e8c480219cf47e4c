"""Issue 16: a change of an instance uses the workflow this process kept from saving that very
state, instead of restoring it (engine/workflow_cache.py); anything else restores it."""

import pytest
from sqlalchemy import select

from certflow.db import db
from engine.hooks import TaskCompleted
from engine.models import HumanTask, ProcessInstance
from engine.service import WorkflowEngine
from engine.workflow_cache import WorkflowCache, WorkflowCacheMismatch
from handlers.registry import REGISTRY
from tests.helpers import MARKET

REJECT = {"accepted": False, "man_days": 1}  # → waits for the resubmission message


def start(engine, key: str = "APP-1") -> tuple[int, str]:
    instance = engine.start(
        "review_flow",
        actor=MARKET,
        business_key=key,
        data={"headcount": 120, "application_id": key},
    )
    return instance.id, open_task(instance.id)


def open_task(instance_id: int) -> str:
    return db.session.scalars(
        select(HumanTask.id).where(HumanTask.instance_id == instance_id, HumanTask.state == "open")
    ).one()


def another_process(engine) -> WorkflowEngine:
    """A second engine on the same database with a cache of its own: another worker."""
    return WorkflowEngine(
        lambda: db.session, engine.clock, REGISTRY, workflow_cache=WorkflowCache(8, verify=True)
    )


def test_the_tests_verify_every_kept_workflow(engine):
    assert engine.workflows.size > 0 and engine.workflows.verify


def test_the_next_change_uses_the_workflow_the_last_one_saved(deployed):
    cache = deployed.workflows
    instance_id, task_id = start(deployed)
    assert len(cache) == 1  # kept from the start's save
    deployed.complete_task(task_id, actor=MARKET, data=REJECT)
    assert (cache.hits, cache.misses) == (1, 0)
    deployed.send_message(
        "documents_resubmitted",
        correlation={"business_key": "APP-1"},
        payload={"note": "more documents"},
        actor=MARKET,
    )
    assert (cache.hits, cache.misses) == (2, 0)
    # what it did is what a restored workflow would have done: the review is open again
    assert deployed.session.get(ProcessInstance, instance_id).active_elements == ["Task_Review"]


def test_a_state_another_process_wrote_is_restored(deployed):
    instance_id, task_id = start(deployed)
    deployed.complete_task(task_id, actor=MARKET, data=REJECT)
    other = another_process(deployed)
    other.send_message(
        "documents_resubmitted", correlation={"instance_id": instance_id}, actor=MARKET
    )
    assert (other.workflows.hits, other.workflows.misses) == (0, 1)
    hits, misses = deployed.workflows.hits, deployed.workflows.misses
    # this process still keeps the workflow of the state before: it must not use it
    deployed.complete_task(open_task(instance_id), actor=MARKET, data=REJECT)
    assert (deployed.workflows.hits, deployed.workflows.misses) == (hits, misses + 1)
    assert deployed.session.get(ProcessInstance, instance_id).active_elements == [
        "Event_WaitResubmission"
    ]


def test_a_change_rolled_back_keeps_nothing_and_the_next_restores(deployed):
    _, task_id = start(deployed)

    def refuse(event):  # a listener failing after the task ran: the whole change rolls back
        raise RuntimeError("the listener failed")

    deployed.hooks.on(TaskCompleted)(refuse)
    with pytest.raises(RuntimeError):
        deployed.complete_task(task_id, actor=MARKET, data=REJECT)
    deployed.hooks.remove(TaskCompleted, refuse)
    assert len(deployed.workflows) == 0  # the changed workflow was taken and not given back
    deployed.complete_task(task_id, actor=MARKET, data=REJECT)
    assert (deployed.workflows.hits, deployed.workflows.misses) == (1, 1)
    assert len(deployed.workflows) == 1


def test_reads_restore_their_own_copy(deployed):
    instance_id, task_id = start(deployed)
    row = deployed.session.get(HumanTask, task_id)
    assert deployed.task_data(row)["application_id"] == "APP-1"
    deployed.diagram_marks(instance_id, [])
    assert (len(deployed.workflows), deployed.workflows.hits) == (1, 0)


def test_a_value_json_would_change_is_caught_when_verifying(deployed):
    instance_id, task_id = start(deployed)
    instance = deployed.session.get(ProcessInstance, instance_id)
    workflow = deployed._load(instance)
    workflow.data["days"] = (1, 2)  # saved as a list: restored differently
    state = deployed.serializer.dump_workflow(workflow)
    cache = WorkflowCache(4, verify=True)
    cache.keep({instance_id: (state, workflow)})
    instance.state_json = state
    with pytest.raises(WorkflowCacheMismatch, match="top:data"):
        cache.take(instance_id, state, lambda: deployed._load(instance))
    db.session.rollback()


def test_the_cache_is_bounded_and_can_be_off(deployed):
    workflow = object()
    cache = WorkflowCache(2)
    cache.keep({1: ("a", workflow), 2: ("b", workflow)})
    cache.keep({3: ("c", workflow)})
    assert len(cache) == 2
    assert cache.take(1, "a", lambda: "restored") == "restored"  # the oldest was dropped
    assert cache.take(3, "c", lambda: "restored") is workflow
    off = WorkflowCache(0)
    off.keep({1: ("a", workflow)})
    assert len(off) == 0
