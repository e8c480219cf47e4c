"""Timers on time (issue 16): a sweeper sleeps until the next due time instead of polling every
CERTFLOW_SWEEP_SECONDS, and on PostgreSQL a timer stored (or a simulated clock moved) after it went
to sleep wakes it through LISTEN/NOTIFY. The goal: a due timer fires ≤ 1 s after its time.

CERTFLOW_SWEEP_SECONDS is 30 here: a sweeper that polled would fire none of these in time."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

from engine.models import EventLog
from scheduler import JOB_ID, SweepJob, start_in_process
from tests.conftest import START_TIME, clear_database, make_app
from tests.helpers import ADMIN, FIXTURES, OWNER, registered

GOAL_SECONDS = 1.0
LONG_SLEEP = 30


# Called by the timer's service task, i.e. in the middle of a sweep.
DURING_SWEEP: list = []


def after_timer(params, ctx):
    for hook in DURING_SWEEP:
        hook()
    return {"fired_at": ctx.now.isoformat()}


@pytest.fixture
def timer_app(migrated_url, tmp_path, request):
    from certflow.db import db

    clock = getattr(request, "param", "real")
    app = make_app(
        migrated_url, tmp_path / "instance", CERTFLOW_CLOCK=clock, CERTFLOW_SWEEP_SECONDS=LONG_SLEEP
    )
    with app.app_context(), registered("test_after_timer", after_timer):
        clear_database()
        if clock == "simulated":
            app.extensions["certflow.clock"].set(START_TIME)
        app.extensions["certflow.engine"].deploy([FIXTURES / "timers"], actor=OWNER)
        db.session.commit()
        sweepers = []
        yield app, sweepers
        for sweeper in sweepers:
            sweeper.shutdown(wait=True)
        db.session.remove()
        db.engine.dispose()


def _postgresql_only(url: str) -> None:
    if not url.startswith("postgresql"):
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")


def _start(app, due: datetime) -> int:
    engine = app.extensions["certflow.engine"]
    return engine.start("timer_flow", actor=ADMIN, data={"due_at": due.isoformat()}).id


def _fired_at(app, instance_id: int, within: float) -> datetime:
    from certflow.db import db

    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        db.session.rollback()
        at = db.session.scalar(
            select(EventLog.at).where(
                EventLog.instance_id == instance_id, EventLog.event_type == "timer_fired"
            )
        )
        if at is not None:
            return at
        time.sleep(0.05)
    raise AssertionError(f"the timer of instance {instance_id} did not fire within {within} s")


def test_the_sweeper_wakes_at_the_next_due_time(timer_app):
    app, sweepers = timer_app
    with app.app_context():
        due = datetime.now(UTC) + timedelta(seconds=1.5)
        instance_id = _start(app, due)
        sweepers.append(start_in_process(app))
        fired_at = _fired_at(app, instance_id, within=8)
    assert due <= fired_at <= due + timedelta(seconds=GOAL_SECONDS)


def test_a_timer_stored_while_the_sweeper_sleeps_wakes_it(timer_app, migrated_url):
    _postgresql_only(migrated_url)
    app, sweepers = timer_app
    with app.app_context():
        sweepers.append(start_in_process(app))
        time.sleep(0.5)  # the sweeper found nothing due and sleeps LONG_SLEEP seconds
        due = datetime.now(UTC) + timedelta(seconds=1.5)
        instance_id = _start(app, due)  # commits: NOTIFY
        fired_at = _fired_at(app, instance_id, within=8)
    assert due <= fired_at <= due + timedelta(seconds=GOAL_SECONDS)


@pytest.mark.parametrize("timer_app", ["simulated"], indirect=True)
def test_moving_the_simulated_clock_elsewhere_wakes_the_sweeper(timer_app, migrated_url):
    _postgresql_only(migrated_url)
    app, sweepers = timer_app
    with app.app_context():
        clock = app.extensions["certflow.clock"]
        instance_id = _start(app, START_TIME + timedelta(days=3))
        sweepers.append(start_in_process(app))
        time.sleep(0.5)
        clock.advance(timedelta(days=3))  # as another process does it: no sweep of its own
        moved = time.monotonic()
        _fired_at(app, instance_id, within=8)
        assert time.monotonic() - moved <= GOAL_SECONDS


def _next_run_in(scheduler) -> float:
    return (scheduler.get_job(JOB_ID).next_run_time - datetime.now(UTC)).total_seconds()


def test_the_apscheduler_sweep_job_is_moved_to_the_next_due_time(timer_app):
    """One APScheduler job (max_instances=1, coalesce): after a sweep its next run time is the
    next due time, not CERTFLOW_SWEEP_SECONDS (30 s) later."""
    app, sweepers = timer_app
    with app.app_context():
        due = datetime.now(UTC) + timedelta(seconds=20)
        _start(app, due)
        scheduler = start_in_process(app)
        sweepers.append(scheduler)
        assert isinstance(scheduler, BackgroundScheduler)
        job = scheduler.get_job(JOB_ID)
        assert (job.max_instances, job.coalesce) == (1, True)
        deadline = time.monotonic() + 10
        # APScheduler first sets the interval's next time (30 s); the sweep then moves it.
        while time.monotonic() < deadline and not 5 < _next_run_in(scheduler) < 25:
            time.sleep(0.05)
        next_run = scheduler.get_job(JOB_ID).next_run_time
    assert due <= next_run <= due + timedelta(seconds=0.5)


@pytest.mark.parametrize("timer_app", ["simulated"], indirect=True)
def test_a_wake_up_during_a_sweep_is_answered_by_another_sweep(timer_app):
    """A NOTIFY that arrives while the job sweeps may concern a timer the sweep already missed:
    the job runs again at once instead of waiting the longest wait (simulated clock: 30 s)."""
    app, _ = timer_app
    scheduler = BackgroundScheduler(timezone=UTC)  # never started: run() is called here
    job = SweepJob(app, scheduler)
    with app.app_context():
        clock = app.extensions["certflow.clock"]
        _start(app, START_TIME + timedelta(days=1))
        _start(app, START_TIME + timedelta(days=2))
        from certflow.db import db

        clock.advance(timedelta(days=1))
        db.session.commit()
        job.run()  # fires the first timer, nobody wakes it
        assert _next_run_in(scheduler) > LONG_SLEEP - 2
        clock.advance(timedelta(days=1))
        db.session.commit()
        DURING_SWEEP.append(job.wake)
        try:
            job.run()  # fires the second timer, woken meanwhile
        finally:
            DURING_SWEEP.clear()
    assert _next_run_in(scheduler) <= 1


def test_shutting_down_during_a_sweep_does_not_hang(timer_app):
    """APScheduler's shutdown(wait=True) holds its job store lock while it waits for the running
    sweep; the sweep must not then wait for that lock to move its next run time (deadlock)."""
    app, _ = timer_app
    with app.app_context():
        _start(app, datetime.now(UTC) + timedelta(seconds=0.5))
        scheduler = start_in_process(app)
        stopper = threading.Thread(target=scheduler.shutdown, daemon=True)

        def shut_down_meanwhile():
            stopper.start()
            time.sleep(0.5)  # shutdown() now waits for this sweep

        DURING_SWEEP.append(shut_down_meanwhile)
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not stopper.is_alive() and not stopper.ident:
                time.sleep(0.05)
            stopper.join(timeout=10)
        finally:
            DURING_SWEEP.clear()
    assert stopper.ident is not None, "the timer did not fire"
    assert not stopper.is_alive(), "shutdown() hangs"
