"""The timer sweeper: fires the BPMN timers of instances that are due (next_timer_at <= now).

Runs in-process with `make run` (APScheduler BackgroundScheduler) or standalone with
`certflow scheduler` for production. Only due instances are read (indexed next_timer_at); two
sweepers never fire one timer twice (row lock with SKIP LOCKED on PostgreSQL, and the instance's
optimistic lock everywhere).
"""

import logging
import os
import threading

from flask import Flask

log = logging.getLogger(__name__)

MAX_ROUNDS = 50
_started_lock = threading.Lock()
_started_apps: set[int] = set()


def sweep(app: Flask, limit: int = 100) -> list[int]:
    """Fire everything that is due now; repeat while firing makes more timers due."""
    engine = app.extensions["certflow.engine"]
    fired: list[int] = []
    with app.app_context():
        for _ in range(MAX_ROUNDS):
            batch = engine.fire_due_timers(limit)
            fired.extend(batch)
            if not batch:
                break
    return fired


def _sweep_job(app: Flask) -> None:
    try:
        fired = sweep(app)
        if fired:
            log.info("fired timers of instances %s", fired)
    except Exception:
        log.exception("timer sweep failed")


def _with_sweep_job(scheduler, app: Flask):
    scheduler.add_job(
        _sweep_job,
        "interval",
        seconds=app.config["CERTFLOW_SWEEP_SECONDS"],
        args=[app],
        max_instances=1,
        coalesce=True,
        id="certflow-timer-sweep",
    )
    return scheduler


def start_in_process(app: Flask):
    """Start a background sweeper once per app, and not in the reloader's watcher process."""
    if app.debug and os.environ.get("WERKZEUG_RUN_MAIN") != "true":
        return None
    with _started_lock:
        if id(app) in _started_apps:
            return None
        _started_apps.add(id(app))
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = _with_sweep_job(BackgroundScheduler(timezone="UTC"), app)
    scheduler.start()
    app.extensions["certflow.scheduler"] = scheduler
    return scheduler


def run_standalone(app: Flask) -> None:
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = _with_sweep_job(BlockingScheduler(timezone="UTC"), app)
    log.info("certflow scheduler: sweeping every %ss", app.config["CERTFLOW_SWEEP_SECONDS"])
    scheduler.start()
