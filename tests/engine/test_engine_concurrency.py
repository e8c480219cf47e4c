"""Concurrent operations on one instance, with real threads: exactly one wins."""

import contextlib
import threading
from datetime import timedelta

from sqlalchemy import func, select

from engine.errors import ConflictError
from engine.models import EventLog, HumanTask
from tests.helpers import (
    ADMIN,
    FIXTURES,
    MARKET,
    OWNER,
    REVIEW_FLOW,
    record_acceptance,
    registered,
    run_in_threads,
)


def test_two_concurrent_completions_of_one_task_exactly_one_wins(app, engine):
    postgresql = engine.session.get_bind().dialect.name == "postgresql"
    both_inside = threading.Barrier(2, timeout=20)

    def slow_record(params, ctx):
        if postgresql:
            # Both transactions have loaded the instance before either commits. (SQLite has a
            # single writer: the second transaction waits for the first's lock instead.)
            both_inside.wait()
        return record_acceptance(params, ctx)

    with registered("test_record_acceptance", slow_record):
        engine.deploy([REVIEW_FLOW], actor=OWNER)
        instance = engine.start(
            "review_flow", actor=MARKET, data={"headcount": 5, "application_id": "APP-C"}
        )
        review_id = engine.session.scalars(select(HumanTask.id)).one()
        engine.session.rollback()  # end this thread's read transaction before the race

        def complete(man_days):
            return lambda: app.extensions["certflow.engine"].complete_task(
                review_id, actor=MARKET, data={"accepted": True, "man_days": man_days}
            )

        results = run_in_threads(app, complete(1), complete(2))

    outcomes = sorted(kind for kind, _ in results)
    assert outcomes == ["error", "ok"], results
    [error] = [value for kind, value in results if kind == "error"]
    assert isinstance(error, ConflictError)
    engine.session.rollback()  # a fresh snapshot that sees the threads' commits
    completed = engine.session.scalar(
        select(func.count()).select_from(EventLog).where(EventLog.event_type == "task_completed")
    )
    assert completed == 1
    assert [
        t.element_id
        for t in engine.session.scalars(
            select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.state == "open")
        )
    ] == ["Task_SignContract"]


def test_two_sweepers_never_fire_one_timer_twice(app, engine, clock):
    calls = []
    rendezvous = threading.Barrier(2, timeout=3)

    def after_timer(params, ctx):
        calls.append(ctx.instance_id)
        # Hold the first sweeper inside its transaction; on PostgreSQL the other sweeper skips
        # the locked row and never arrives, so the barrier breaks after its timeout.
        with contextlib.suppress(threading.BrokenBarrierError):
            rendezvous.wait()
        ctx.session.add(
            EventLog(
                at=ctx.now, actor=ctx.actor, event_type="after_timer", instance_id=ctx.instance_id
            )
        )
        return {"ok": True}

    with registered("test_after_timer", after_timer):
        engine.deploy([FIXTURES / "timers"], actor=OWNER)
        due = (clock.now() + timedelta(days=1)).isoformat()
        instance_id = engine.start("timer_flow", actor=ADMIN, data={"due_at": due}).id
        assert engine.get_instance(instance_id).next_timer_at == clock.now() + timedelta(days=1)
        clock.advance(timedelta(days=1, seconds=1))
        engine.session.rollback()

        def sweep():
            return app.extensions["certflow.engine"].fire_timers(instance_id)

        results = run_in_threads(app, sweep, sweep)

    fired = [value for kind, value in results if kind == "ok" and value is True]
    assert len(fired) == 1, results
    for kind, value in results:
        assert (kind, value) == ("ok", True) or value is False or isinstance(value, ConflictError)
    engine.session.rollback()
    count = engine.session.scalar(
        select(func.count()).select_from(EventLog).where(EventLog.event_type == "after_timer")
    )
    assert count == 1
    row = engine.get_instance(instance_id)
    assert row.active_elements == ["Task_Follow"] and row.next_timer_at is None
