"""The timer sweeper: fires the BPMN timers of instances that are due (next_timer_at <= now).

Runs in-process with `make run` (a daemon thread) or standalone with `certflow scheduler` for
production (one or more processes). Only due instances are read (indexed next_timer_at); two
sweepers never fire one timer twice (row lock with SKIP LOCKED on PostgreSQL, and the instance's
optimistic lock everywhere).

Timers on time (issue 16): after each sweep the sweeper sleeps until the next due time
(`next_timer_at` of the running instances), never longer than CERTFLOW_SWEEP_SECONDS. On
PostgreSQL it also LISTENs: a transaction that stores a timer or moves the simulated clock sends a
NOTIFY on commit (certflow/timer_wakeup.py), which wakes it to recompute (scheduler/wakeup.py).
"""

import logging
import os
import threading
import time
from datetime import datetime

from flask import Flask

from certflow.metrics import SWEEP_DURATION, TIMERS_FIRED
from scheduler.wakeup import waiter_for

log = logging.getLogger(__name__)

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


def seconds_to_wait(app: Flask, fired_any: bool) -> float:
    """How long to sleep before the next sweep: until the next due time, at most
    CERTFLOW_SWEEP_SECONDS. A simulated clock only moves when someone moves it (which sweeps at
    once, and on PostgreSQL wakes every sweeper), so then the longest wait applies."""
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


def _sweep_once(app: Flask) -> bool:
    try:
        fired = sweep(app)
    except Exception:
        log.exception("timer sweep failed")
        return False
    if fired:
        log.info("fired timers of instances %s", fired)
    return bool(fired)


def run_loop(app: Flask, stop: threading.Event) -> None:
    """Sweep, sleep until the next due time (or a wake-up), repeat until `stop` is set."""
    waiter = waiter_for(app, stop)
    try:
        while not stop.is_set():
            fired_any = _sweep_once(app)
            try:
                wait = seconds_to_wait(app, fired_any)
            except Exception:
                log.exception("reading the next due time failed")
                wait = float(app.config["CERTFLOW_SWEEP_SECONDS"])
            waiter.wait(wait)
    finally:
        waiter.close()


class BackgroundSweeper:
    """The in-process sweeper thread (`make run`); `shutdown()` stops it."""

    def __init__(self, app: Flask) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=run_loop, args=(app, self._stop), name="certflow-timer-sweep", daemon=True
        )

    def start(self) -> "BackgroundSweeper":
        self._thread.start()
        return self

    def shutdown(self, wait: bool = True) -> None:
        self._stop.set()
        if wait:
            self._thread.join()


def start_in_process(app: Flask) -> BackgroundSweeper | None:
    """Start a background sweeper once per app, and not in the reloader's watcher process."""
    if app.debug and os.environ.get("WERKZEUG_RUN_MAIN") != "true":
        return None
    with _started_lock:
        if id(app) in _started_apps:
            return None
        _started_apps.add(id(app))
    sweeper = BackgroundSweeper(app).start()
    app.extensions["certflow.scheduler"] = sweeper
    return sweeper


def run_standalone(app: Flask) -> None:
    log.info(
        "certflow scheduler: sweeping at each due time, at least every %ss",
        app.config["CERTFLOW_SWEEP_SECONDS"],
    )
    stop = threading.Event()
    try:
        run_loop(app, stop)
    except KeyboardInterrupt:
        stop.set()
