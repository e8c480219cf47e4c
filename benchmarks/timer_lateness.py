"""How late a due timer fires with the production topology (issue 16; goal: ≤ 1 s).

    .venv/bin/python benchmarks/timer_lateness.py [--instances N] [--schedulers N]
                                                  [--sweep-seconds S] [--database-url URL]

Without --database-url a private PostgreSQL cluster is started (tests/pg_cluster.py) and a fresh
database created in it. Separate `certflow scheduler` processes (real clock; CERTFLOW_SWEEP_SECONDS
is their longest sleep, 10 s by default as in production) sweep while this process starts
instances of tests/fixtures/timers/timer_flow.bpmn, one every 0.25 s, each with a timer due
1–5 s later. Lateness = the time its sweeper began firing it (the `timer_fired` event's `at`)
minus its due time. Prints `lateness p95 N s` and the ratio to the 1 s goal.
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

from sqlalchemy import select  # noqa: E402

from tests.pg_cluster import PostgresCluster  # noqa: E402
from tests.platform.multi_process import certflow_env, fresh_database  # noqa: E402

GOAL_SECONDS = 1.0
TIMER_FLOW = REPOSITORY / "tests" / "fixtures" / "timers"
PLUGIN = "tests.plugin_handlers"  # the fixture's service task handler, in every process


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def _wait_for_listeners(count: int, timeout: float = 120) -> None:
    """Until `count` schedulers are up and asleep (their LISTEN connections are open): a timer
    due while they still import would measure their start-up, not their wake-up."""
    from sqlalchemy import text

    from certflow.db import db

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listening = db.session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND query LIKE 'LISTEN %'"
            )
        )
        db.session.rollback()
        if listening >= count:
            return
        time.sleep(0.2)
    raise SystemExit("the schedulers did not start")


def run(url: str, instances: int, schedulers: int, sweep_seconds: float) -> list[float]:
    import subprocess

    from flask_migrate import upgrade

    from certflow.db import db
    from engine.models import EventLog
    from engine.service import Actor
    from webapp import create_app

    workdir = Path(tempfile.mkdtemp(prefix="certflow-lateness-"))
    os.environ["CERTFLOW_EXTRA_HANDLERS"] = PLUGIN
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "CERTFLOW_CLOCK": "real", "SECRET_KEY": "bench"},
        instance_path=str(workdir / "bench"),
    )
    admin = Actor("benchmark", frozenset({"admin", "process_owner"}))
    with app.app_context():
        upgrade()
        engine = app.extensions["certflow.engine"]
        engine.deploy([TIMER_FLOW], actor=admin)
    env = certflow_env(
        url,
        workdir / "scheduler",
        CERTFLOW_CLOCK="real",
        CERTFLOW_SWEEP_SECONDS=str(sweep_seconds),
        CERTFLOW_EXTRA_HANDLERS=PLUGIN,
    )
    sweepers = [
        subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "cli", "scheduler"],
            env=env,
            cwd=REPOSITORY,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(schedulers)
    ]
    try:
        with app.app_context():
            _wait_for_listeners(schedulers)
        due: dict[int, datetime] = {}
        with app.app_context():
            for _ in range(instances):
                at = datetime.now(UTC) + timedelta(seconds=random.uniform(1, 5))  # noqa: S311
                started = engine.start("timer_flow", actor=admin, data={"due_at": at.isoformat()})
                due[started.id] = at
                time.sleep(0.25)
            deadline = time.monotonic() + sweep_seconds + 15
            fired: dict[int, datetime] = {}
            while time.monotonic() < deadline and len(fired) < len(due):
                db.session.rollback()
                fired = dict(
                    db.session.execute(
                        select(EventLog.instance_id, EventLog.at).where(
                            EventLog.event_type == "timer_fired",
                            EventLog.instance_id.in_(list(due)),
                        )
                    ).all()
                )
                time.sleep(0.2)
        missing = set(due) - set(fired)
        if missing:
            raise SystemExit(f"{len(missing)} timer(s) did not fire: {sorted(missing)[:10]}")
        return [(fired[i] - due[i]).total_seconds() for i in due]
    finally:
        for sweeper in sweepers:
            sweeper.terminate()
            sweeper.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=60)
    parser.add_argument("--schedulers", type=int, default=2)
    parser.add_argument("--sweep-seconds", type=float, default=10.0)
    parser.add_argument("--database-url", default=None, help="a disposable PostgreSQL database")
    options = parser.parse_args()
    cluster = None
    url = options.database_url
    if url is None:
        cluster = PostgresCluster()
        url = fresh_database(cluster.start(), prefix="certflow_lateness")
    try:
        lateness = run(url, options.instances, options.schedulers, options.sweep_seconds)
    finally:
        if cluster is not None:
            cluster.stop()
    p95 = percentile(lateness, 0.95)
    print(
        f"certflow timer lateness — {len(lateness)} timers, {options.schedulers} scheduler "
        f"processes on PostgreSQL, longest sleep {options.sweep_seconds:g} s"
    )
    print(
        f"lateness median {statistics.median(lateness):.3f} s, max {max(lateness):.3f} s, "
        f"min {min(lateness):.3f} s"
    )
    print(f"lateness p95 {p95:.3f} s")
    print(f"ratio lateness p95 / goal {GOAL_SECONDS:g} s: {p95 / GOAL_SECONDS:.2f}")


if __name__ == "__main__":
    main()
