"""The scheduler: fires the BPMN timers of instances that are due (next_timer_at <= now) and
compacts the workflow state of instances that finished long enough ago.

APScheduler runs a sweep job and a pruning job: in-process with `make run` (BackgroundScheduler)
or standalone with `certflow scheduler` for production (BlockingScheduler, one or more
processes). Only due instances are read (indexed next_timer_at); two sweepers never fire one timer
twice (row lock with SKIP LOCKED on PostgreSQL, and the instance's optimistic lock everywhere).

Pruning (issue 16, engine/pruning.py): every hour, instances that finished
CERTFLOW_PRUNE_AFTER_DAYS or more ago on the clock keep only their diagram marks; the event log
keeps their history. Two schedulers prune disjoint instances (SKIP LOCKED).

Timers on time (issue 16): after each sweep the job's next run time is moved to the next due time
(`next_timer_at` of the running instances), never later than CERTFLOW_SWEEP_SECONDS. On
PostgreSQL a thread also LISTENs: a transaction that stores a timer or moves the simulated clock
sends a NOTIFY on commit (certflow/timer_wakeup.py), which moves the job to now
(scheduler/wakeup.py).
"""

import contextlib
import logging
import os
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask

from certflow.metrics import INSTANCES_PRUNED, SWEEP_DURATION, TIMERS_FIRED
from scheduler.wakeup import listener_for

log = logging.getLogger(__name__)

JOB_ID = "certflow-timer-sweep"
PRUNE_JOB_ID = "certflow-prune-finished"
PRUNE_EVERY = timedelta(hours=1)
# The first pruning a minute after the start, not while the app is still warming up.
_FIRST_PRUNE_AFTER = timedelta(minutes=1)
MAX_ROUNDS = 50
# When something is due but the sweep fired nothing (another sweeper holds it, or it failed), the
# next look comes after this pause rather than at once.
BUSY_PAUSE_SECONDS = 0.5
# Waking a little after the due time, so that the clock reads at least that time.
_WAKE_MARGIN_SECONDS = 0.005
_started_lock = threading.Lock()
_started_apps: set[int] = set()


def sweep(app: Flask, limit: int = 100) -> list[int]:
    """Fire everything that is due now; repeat while firing makes more timers due."""
    engine = app.extensions["certflow.engine"]
    fired: list[int] = []
    started = time.perf_counter()
    with app.app_context():
        for _ in range(MAX_ROUNDS):
            batch = engine.fire_due_timers(limit)
            fired.extend(batch)
            if not batch:
                break
    SWEEP_DURATION.observe(time.perf_counter() - started)
    TIMERS_FIRED.inc(len(fired))
    return fired


def prune_finished(app: Flask) -> int:
    """Compact the workflow state of the instances that finished CERTFLOW_PRUNE_AFTER_DAYS or
    more ago on the app's clock (0 days: none); how many were compacted."""
    days = app.config["CERTFLOW_PRUNE_AFTER_DAYS"]
    if days == 0:
        return 0
    engine = app.extensions["certflow.engine"]
    with app.app_context():
        ended_before = engine.clock.now() - timedelta(days=days)
        count = engine.prune_finished(ended_before=ended_before)["instances"]
    INSTANCES_PRUNED.inc(count)
    return count


def _prune_job(app: Flask) -> None:
    try:
        count = prune_finished(app)
    except Exception:
        log.exception("pruning finished instances failed")
        return
    if count:
        log.info("compacted the workflow state of %s finished instance(s)", count)


def seconds_to_wait(app: Flask, fired_any: bool) -> float:
    """How long until the next sweep: until the next due time, at most CERTFLOW_SWEEP_SECONDS.
    A simulated clock only moves when someone moves it (which sweeps at once, and on PostgreSQL
    wakes every sweeper), so then the longest wait applies."""
    longest = float(app.config["CERTFLOW_SWEEP_SECONDS"])
    engine = app.extensions["certflow.engine"]
    with app.app_context():
        if engine.clock.simulated:
            return longest
        due: datetime | None = engine.next_timer_due()
        now = engine.clock.now()
    if due is None:
        return longest
    remaining = (due - now).total_seconds()
    if remaining <= 0:  # still due after the sweep: someone else has it, or it failed
        return min(longest, 0.05 if fired_any else BUSY_PAUSE_SECONDS)
    return min(longest, remaining + _WAKE_MARGIN_SECONDS)


class SweepJob:
    """The one sweep job of a scheduler. Its interval trigger (CERTFLOW_SWEEP_SECONDS) is only the
    fallback: each run moves the next run time to the next due time, and `wake()` (a NOTIFY) moves
    it to now. A wake-up during a sweep is kept and answered by another sweep right after."""

    def __init__(self, app: Flask, scheduler: BaseScheduler) -> None:
        self._app = app
        self._scheduler = scheduler
        self._lock = threading.Lock()
        self._running = False
        self._woken = False
        self._closed = False
        self._listener = listener_for(app, self.wake)
        scheduler.add_job(
            self.run,
            IntervalTrigger(seconds=float(app.config["CERTFLOW_SWEEP_SECONDS"]), timezone=UTC),
            id=JOB_ID,
            name="certflow timer sweep",
            next_run_time=datetime.now(UTC),
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,  # a sweep that starts late still runs
        )

    def run(self) -> None:
        with self._lock:
            self._running = True
            self._woken = False
        wait = float(self._app.config["CERTFLOW_SWEEP_SECONDS"])
        try:
            wait = seconds_to_wait(self._app, fired_any=self._sweep())
        except Exception:
            log.exception("reading the next due time failed")
        finally:
            with self._lock:
                self._running = False
                self._move(0.0 if self._woken else wait)

    def wake(self) -> None:
        with self._lock:
            self._woken = True
            if not self._running:  # else run() sweeps again when it ends
                self._move(0.0)

    def start_listening(self) -> None:
        """On PostgreSQL, start the NOTIFY listener thread (scheduler/wakeup.py)."""
        if self._listener is not None:
            self._listener.start()

    def close(self) -> None:
        """Before the scheduler shuts down: no more moves. APScheduler's shutdown holds its job
        store lock while it waits for the running sweep, which would wait for that lock to move
        its next run time."""
        with self._lock:
            self._closed = True
        if self._listener is not None:
            self._listener.stop()

    def _sweep(self) -> bool:
        try:
            fired = sweep(self._app)
        except Exception:
            log.exception("timer sweep failed")
            return False
        if fired:
            log.info("fired timers of instances %s", fired)
        return bool(fired)

    def _move(self, seconds: float) -> None:
        if self._closed:
            return
        with contextlib.suppress(JobLookupError):  # the scheduler has shut down
            self._scheduler.modify_job(
                JOB_ID, next_run_time=datetime.now(UTC) + timedelta(seconds=seconds)
            )


class _ClosesTheSweepJobFirst:
    """`shutdown()` closes the sweep job (see SweepJob.close) before APScheduler's own."""

    sweep_job: SweepJob

    def shutdown(self, wait: bool = True) -> None:
        self.sweep_job.close()
        super().shutdown(wait)  # type: ignore[misc]


class SweepBackgroundScheduler(_ClosesTheSweepJobFirst, BackgroundScheduler):
    pass


class SweepBlockingScheduler(_ClosesTheSweepJobFirst, BlockingScheduler):
    pass


_Scheduler = TypeVar("_Scheduler", SweepBackgroundScheduler, SweepBlockingScheduler)


def with_jobs(scheduler: _Scheduler, app: Flask) -> _Scheduler:
    """Add the sweep job (on PostgreSQL, start its NOTIFY listener) and the pruning job."""
    scheduler.sweep_job = SweepJob(app, scheduler)
    scheduler.sweep_job.start_listening()
    if app.config["CERTFLOW_PRUNE_AFTER_DAYS"]:
        scheduler.add_job(
            _prune_job,
            IntervalTrigger(seconds=PRUNE_EVERY.total_seconds(), timezone=UTC),
            args=[app],
            id=PRUNE_JOB_ID,
            name="certflow pruning of finished instances",
            next_run_time=datetime.now(UTC) + _FIRST_PRUNE_AFTER,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
    return scheduler


def start_in_process(app: Flask) -> BackgroundScheduler | None:
    """Start a background sweeper once per app, and not in the reloader's watcher process."""
    if app.debug and os.environ.get("WERKZEUG_RUN_MAIN") != "true":
        return None
    with _started_lock:
        if id(app) in _started_apps:
            return None
        _started_apps.add(id(app))
    scheduler = with_jobs(SweepBackgroundScheduler(timezone=UTC), app)
    scheduler.start()
    app.extensions["certflow.scheduler"] = scheduler
    return scheduler


def run_standalone(app: Flask) -> None:
    scheduler = with_jobs(SweepBlockingScheduler(timezone=UTC), app)
    log.info(
        "certflow scheduler: sweeping at each due time, at least every %ss; %s",
        app.config["CERTFLOW_SWEEP_SECONDS"],
        f"pruning hourly what finished {days} days ago"
        if (days := app.config["CERTFLOW_PRUNE_AFTER_DAYS"])
        else "not pruning (CERTFLOW_PRUNE_AFTER_DAYS=0)",
    )
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        scheduler.shutdown(wait=False)
