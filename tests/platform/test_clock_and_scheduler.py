"""One clock for the app; BPMN timers obey it; the sweeper fires due instances only."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from certflow.clock import RealClock, parse_utc
from certflow.models import SimulatedTime
from engine.models import EventLog, HumanTask
from scheduler import PRUNE_JOB_ID, start_in_process, sweep
from tests.conftest import START_TIME, make_app
from tests.helpers import (
    ADMIN,
    FIXTURES,
    MARKET,
    OWNER,
    REVIEW_FLOW,
    record_acceptance,
    registered,
)


def after_timer(params, ctx):
    return {"fired_at": ctx.now.isoformat()}


@pytest.fixture
def timer_flow(engine):
    with registered("test_after_timer", after_timer):
        engine.deploy([FIXTURES / "timers"], actor=OWNER)
        yield engine


def start_timer(engine, due: datetime) -> int:
    return engine.start("timer_flow", actor=ADMIN, data={"due_at": due.isoformat()}).id


def test_real_clock_is_aware_utc():
    now = RealClock().now()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)


def test_simulated_clock_is_stored_and_only_moves_forward(clock, engine):
    assert clock.now() == START_TIME
    clock.advance(timedelta(days=400))
    assert engine.session.get(SimulatedTime, 1).now == START_TIME + timedelta(days=400)
    with pytest.raises(ValueError):
        clock.advance(timedelta(seconds=-1))
    with pytest.raises(ValueError):
        clock.set(datetime(2030, 1, 1))  # naive
    with pytest.raises(ValueError):
        parse_utc("2030-01-01T00:00:00")


def test_naive_timestamps_are_refused_in_storage(engine):
    from sqlalchemy.exc import StatementError

    engine.session.add(EventLog(at=datetime(2026, 1, 1), actor="x", event_type="x", data={}))
    with pytest.raises(StatementError, match="naive datetime"):
        engine.session.flush()
    engine.session.rollback()


def test_bpmn_timer_obeys_the_simulated_clock(timer_flow, clock):
    # The simulated date is in January 2026, months before the machine's real date: a timer due
    # one day after simulated "now" is long past in real time, yet must not fire.
    instance_id = start_timer(timer_flow, clock.now() + timedelta(days=1))
    assert timer_flow.fire_due_timers() == []
    assert timer_flow.get_instance(instance_id).active_elements == ["Timer_WaitUntilDue"]
    clock.advance(timedelta(days=1, seconds=1))
    assert timer_flow.fire_due_timers() == [instance_id]
    row = timer_flow.get_instance(instance_id)
    assert row.active_elements == ["Task_Follow"]
    follow = timer_flow.session.scalars(select(HumanTask)).one()
    assert timer_flow.task_data(follow)["after_timer"] == {"fired_at": clock.now().isoformat()}


def test_time_date_timer_fires_at_its_instant_not_a_second_before(app, timer_flow, clock):
    # Issue 9 item 14: a timer is due AT its time, so `clock advance P1D` fires a timer due
    # exactly one day later (SpiffWorkflow and the sweep query both used a strict "after").
    due = clock.now() + timedelta(days=1)
    instance_id = start_timer(timer_flow, due)
    clock.advance(timedelta(days=1) - timedelta(seconds=1))
    timer_flow.session.commit()
    assert sweep(app) == []
    assert timer_flow.get_instance(instance_id).active_elements == ["Timer_WaitUntilDue"]
    clock.advance(timedelta(seconds=1))
    assert clock.now() == due
    timer_flow.session.commit()
    assert sweep(app) == [instance_id]
    row = timer_flow.get_instance(instance_id)
    assert row.active_elements == ["Task_Follow"] and row.next_timer_at is None
    follow = timer_flow.session.scalars(select(HumanTask)).one()
    assert timer_flow.task_data(follow)["after_timer"] == {"fired_at": due.isoformat()}


def test_duration_boundary_timer_fires_at_exactly_its_instant(engine, clock):
    with registered("test_record_acceptance", record_acceptance):
        engine.deploy([REVIEW_FLOW], actor=OWNER)
        instance = engine.start(
            "review_flow", actor=MARKET, data={"headcount": 1, "application_id": "T"}
        )
        review = engine.session.scalars(select(HumanTask)).one()
        engine.complete_task(review.id, actor=MARKET, data={"accepted": True, "man_days": 1})
    due = engine.get_instance(instance.id).next_timer_at
    assert due == START_TIME + timedelta(days=30)  # P30D from completing the review
    clock.set(due - timedelta(seconds=1))
    assert engine.fire_due_timers() == []
    clock.set(due)
    assert engine.fire_due_timers() == [instance.id]
    assert engine.get_instance(instance.id).active_elements == ["Task_ChaseContract"]


def test_timer_due_when_the_instance_starts_fires_at_once(timer_flow, clock):
    instance_id = start_timer(timer_flow, clock.now())
    assert timer_flow.get_instance(instance_id).active_elements == ["Task_Follow"]


def test_duration_timer_counts_from_simulated_now(engine, clock):
    with registered("test_record_acceptance", record_acceptance):
        engine.deploy([REVIEW_FLOW], actor=OWNER)
        clock.advance(timedelta(days=10))
        instance = engine.start(
            "review_flow", actor=MARKET, data={"headcount": 1, "application_id": "T"}
        )
        review = engine.session.scalars(select(HumanTask)).one()
        engine.complete_task(review.id, actor=MARKET, data={"accepted": True, "man_days": 1})
    assert engine.get_instance(instance.id).next_timer_at == START_TIME + timedelta(days=40)


def test_only_due_instances_are_swept(timer_flow, clock):
    soon = start_timer(timer_flow, clock.now() + timedelta(hours=1))
    later = start_timer(timer_flow, clock.now() + timedelta(days=30))
    clock.advance(timedelta(hours=2))
    assert timer_flow.due_instance_ids() == [soon]
    assert timer_flow.fire_due_timers() == [soon]
    assert timer_flow.get_instance(later).active_elements == ["Timer_WaitUntilDue"]


def test_advancing_the_clock_with_sweep_fires_everything_due(app, timer_flow, clock):
    ids = [start_timer(timer_flow, clock.now() + timedelta(days=d)) for d in (1, 5, 50)]
    clock.advance(timedelta(days=6))
    timer_flow.session.commit()
    fired = sweep(app)
    assert sorted(fired) == ids[:2]


def test_in_process_scheduler_starts_once_and_fires_due_timers(migrated_url, tmp_path):
    from certflow.db import db
    from tests.conftest import clear_database

    app = make_app(migrated_url, tmp_path / "instance", CERTFLOW_SWEEP_SECONDS=0.2)
    with app.app_context():
        clear_database()
        clock = app.extensions["certflow.clock"]
        clock.set(START_TIME)
        engine = app.extensions["certflow.engine"]
        with registered("test_after_timer", after_timer):
            engine.deploy([FIXTURES / "timers"], actor=OWNER)
            instance_id = start_timer(engine, START_TIME + timedelta(minutes=5))
            scheduler = start_in_process(app)
            try:
                assert scheduler is not None
                assert start_in_process(app) is None  # a second start is refused
                assert scheduler.get_job(PRUNE_JOB_ID) is not None  # hourly, see pruning tests
                clock.advance(timedelta(minutes=6))
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline:
                    db.session.rollback()
                    if engine.get_instance(instance_id).active_elements == ["Task_Follow"]:
                        break
                    time.sleep(0.1)
                assert engine.get_instance(instance_id).active_elements == ["Task_Follow"]
            finally:
                scheduler.shutdown(wait=True)
        db.session.remove()
        db.engine.dispose()


def test_no_pruning_job_when_pruning_is_off(migrated_url, tmp_path):
    app = make_app(migrated_url, tmp_path / "instance", CERTFLOW_PRUNE_AFTER_DAYS=0)
    with app.app_context():
        scheduler = start_in_process(app)
        try:
            assert scheduler.get_job(PRUNE_JOB_ID) is None
        finally:
            scheduler.shutdown(wait=True)
        from certflow.db import db

        db.engine.dispose()


def test_scheduler_not_started_in_the_reloader_watcher(app, monkeypatch):
    monkeypatch.delenv("WERKZEUG_RUN_MAIN", raising=False)
    app.debug = True
    assert start_in_process(app) is None


def test_clock_reads_utc_now_even_when_real(tmp_path, migrated_url):
    app = make_app(migrated_url, tmp_path / "i", CERTFLOW_CLOCK="real")
    with app.app_context():
        before = datetime.now(UTC)
        assert before <= app.extensions["certflow.clock"].now() <= datetime.now(UTC)
        from certflow.db import db

        db.engine.dispose()


def test_standalone_scheduler_process_fires_due_timers(tmp_path):
    """`certflow scheduler` as its own process (production) against a real SQLite file."""
    import os
    import subprocess
    import sys

    from certflow.db import db
    from tests.conftest import clear_database

    db_url = f"sqlite:///{tmp_path / 'sched.sqlite3'}"
    env = {
        **os.environ,
        "CERTFLOW_DATABASE_URL": db_url,
        "CERTFLOW_INSTANCE_PATH": str(tmp_path / "instance"),
        "CERTFLOW_CLOCK": "simulated",
        "CERTFLOW_SWEEP_SECONDS": "0.3",
        "CERTFLOW_EXTRA_HANDLERS": "tests.plugin_handlers",
    }
    app = make_app(db_url, tmp_path / "instance")
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        clear_database()
        clock = app.extensions["certflow.clock"]
        clock.set(START_TIME)
        engine = app.extensions["certflow.engine"]
        with registered("test_after_timer", after_timer):
            engine.deploy([FIXTURES / "timers"], actor=OWNER)
        instance_id = start_timer(engine, START_TIME + timedelta(hours=1))
        clock.advance(timedelta(hours=2))
        db.session.remove()
        process = subprocess.Popen(
            [sys.executable, "-m", "cli", "scheduler"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            active = None
            while time.monotonic() < deadline:
                db.session.rollback()
                active = engine.get_instance(instance_id).active_elements
                if active == ["Task_Follow"]:
                    break
                time.sleep(0.2)
        finally:
            process.terminate()
            output = process.communicate(timeout=10)[0].decode(errors="replace")
        assert active == ["Task_Follow"], output
        db.session.remove()
        db.engine.dispose()
