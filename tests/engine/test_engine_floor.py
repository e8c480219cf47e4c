"""The lifecycle benchmark's engine floor (tests/engine_floor.py, issue 16): it counts a change's
SpiffWorkflow steps and state serialization and leaves the handlers' time out. Timed on a counter
the test moves, never on the wall clock."""

import pytest
from sqlalchemy import select

from engine.models import HumanTask
from tests import engine_floor
from tests.engine_floor import EngineFloor, floor_seconds
from tests.helpers import MARKET, OWNER, REVIEW_FLOW, record_acceptance, registered

HANDLER_SECONDS = 1000.0  # what the handler "takes" on the test's counter
ACCEPT = {"accepted": True, "man_days": 2}  # → the service task runs the handler


class Counter:
    """A perf_counter the test moves: one tick per reading, the handler's seconds on top."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


@pytest.fixture
def counter(monkeypatch):
    ticking = Counter()
    monkeypatch.setattr(engine_floor, "perf_counter", ticking)
    return ticking


@pytest.fixture
def deployed(engine, counter):
    def slow_record(params, ctx):
        counter.now += HANDLER_SECONDS
        return record_acceptance(params, ctx)

    with registered("test_record_acceptance", slow_record):
        engine.deploy([REVIEW_FLOW], actor=OWNER, comment="fixture")
        yield engine


def complete_review(engine, floor: EngineFloor) -> dict[str, float]:
    engine.start("review_flow", actor=MARKET, data={"headcount": 5, "application_id": "APP-F"})
    task_id = engine.session.scalars(select(HumanTask.id)).one()
    floor.take()  # the start's own steps are not this completion's
    floor.install()
    try:
        engine.complete_task(task_id, actor=MARKET, data=ACCEPT)
    finally:
        floor.uninstall()
    return floor.take()


def test_the_floor_counts_steps_restore_and_serialization_without_the_handler(deployed):
    parts = complete_review(deployed, EngineFloor())
    seconds = floor_seconds(parts)
    assert set(parts) == {"steps", "restore", "serialize", "handlers"}
    assert all(value > 0 for value in parts.values())
    assert seconds == pytest.approx(parts["steps"] + parts["restore"] + parts["serialize"])
    assert seconds < HANDLER_SECONDS  # the handler ran inside the steps, and is left out
    assert parts["handlers"] >= HANDLER_SECONDS  # counted apart


def test_without_the_exclusion_the_handler_would_count(deployed, monkeypatch):
    monkeypatch.setattr(engine_floor, "EXCLUDED", ())
    parts = complete_review(deployed, EngineFloor())
    assert parts["steps"] > HANDLER_SECONDS  # so the first test's bound is the exclusion's doing


def test_uninstall_restores_the_library_methods(engine):
    from SpiffWorkflow.bpmn import BpmnWorkflow

    before = BpmnWorkflow.__dict__["do_engine_steps"]
    floor = EngineFloor().install()
    assert BpmnWorkflow.__dict__["do_engine_steps"] is not before
    floor.uninstall()
    assert BpmnWorkflow.__dict__["do_engine_steps"] is before
