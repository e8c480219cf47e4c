"""Two app processes and two schedulers on one PostgreSQL (issue 16): each started by the
production command `certflow serve` (gunicorn + a separate `certflow scheduler`). A complaint
(R-12: timers on days 20, 25 and 30) is registered through app A, assigned through app B, and the
simulated clock is moved through app A (its request sweeps too), by a plain UPDATE from outside
(only the schedulers can fire then) and through app B. Every timer fires exactly once (event log);
the schedulers sleep 30 s between polls, so only the wake-ups make them fire in time."""

import time
from pathlib import Path

import pytest
import sqlalchemy

from tests.platform.multi_process import (
    Served,
    api,
    certflow,
    certflow_env,
    free_port,
    fresh_database,
)

pytestmark = pytest.mark.postgres_only
METRICS_TOKEN = "two-apps-metrics"

# The timer events of processes/complaint.bpmn by name (the event log records names).
TIMERS = ("第 20 天", "第 25 天", "第 30 天")


def _fired_timers(database: sqlalchemy.Engine, instance_id: int) -> list[str]:
    with database.connect() as connection:
        rows = connection.execute(
            sqlalchemy.text(
                "SELECT data FROM event_log WHERE instance_id = :id AND event_type = 'timer_fired'"
            ),
            {"id": instance_id},
        ).scalars()
        return [name for data in rows for name in data["timers"]]


def _wait_for(condition, seconds: float):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    return condition()


@pytest.fixture
def two_apps(postgres_url, tmp_path: Path):
    url = fresh_database(postgres_url)
    setup = certflow_env(url, tmp_path / "setup", CERTFLOW_CLOCK="simulated")
    certflow(setup, "init", "--demo")
    certflow(setup, "deploy", "--comment", "two apps", "--user", "test")
    tokens = {
        who: certflow(setup, "token", who).strip() for who in ("demo_admin", "demo_complaints")
    }
    served = []
    try:
        for name in ("a", "b"):
            env = certflow_env(
                url,
                tmp_path / name,
                CERTFLOW_CLOCK="simulated",
                CERTFLOW_SWEEP_SECONDS="30",
                CERTFLOW_METRICS_TOKEN=METRICS_TOKEN,
            )
            served.append(Served(env, free_port(), "--workers", "2", "--schedulers", "1"))
        for app in served:
            app.wait_ready()
        database = sqlalchemy.create_engine(url)
        yield served, tokens, database
        database.dispose()
    finally:
        for app in served:
            app.stop()


def test_a_case_through_two_apps_with_two_schedulers_fires_each_timer_once(two_apps):
    (app_a, app_b), tokens, database = two_apps
    staff, admin = tokens["demo_complaints"], tokens["demo_admin"]

    status, complaint = api(
        app_a.base,
        "POST",
        "/complaints",
        staff,
        {
            "kind": "about_cb",
            "complainant_name": "张三",
            "complainant_contact": "zhangsan@example.com",
            "subject": "审查员迟到",
            "description": "审查员迟到两小时。",
        },
    )
    assert status == 201, complaint
    status, page = api(app_b.base, "GET", f"/tasks?business_key={complaint['reference']}", staff)
    assert status == 200, page
    (assign,) = [task for task in page["items"] if task["element_id"] == "Task_AssignHandler"]
    instance_id = assign["instance_id"]
    status, done = api(
        app_b.base,
        "POST",
        f"/tasks/{assign['id']}/complete",
        staff,
        {"data": {"handler": "demo_complaints"}},
    )
    assert status == 200, done

    # Day 21 through app A: its own sweep and both schedulers (woken by NOTIFY) race.
    status, moved = api(app_a.base, "POST", "/clock", admin, {"advance": "P21D"})
    assert status == 200, moved
    assert _wait_for(lambda: _fired_timers(database, instance_id) == [TIMERS[0]], 10), (
        _fired_timers(database, instance_id)
    )

    # Day 26 by a plain UPDATE from outside (no app request sweeps): the schedulers, woken by
    # the NOTIFY of the same transaction, fire it — long before their 30 s poll.
    with database.begin() as connection:
        connection.execute(
            sqlalchemy.text(
                "UPDATE simulated_time SET now = now + interval '5 days' WHERE id = 1;"
                " SELECT pg_notify('certflow_timers', 'clock')"
            )
        )
    assert _wait_for(lambda: _fired_timers(database, instance_id) == list(TIMERS[:2]), 10)

    # Day 31 through app B.
    status, moved = api(app_b.base, "POST", "/clock", admin, {"advance": "P5D"})
    assert status == 200, moved
    assert _wait_for(lambda: sorted(_fired_timers(database, instance_id)) == sorted(TIMERS), 10)

    # Nothing fires twice, however long the four processes keep sweeping.
    time.sleep(2)
    fired = _fired_timers(database, instance_id)
    assert sorted(fired) == sorted(TIMERS), fired
    status, instance = api(app_a.base, "GET", f"/instances/{instance_id}", admin)
    assert status == 200 and instance["status"] == "running", instance

    # /metrics adds up the gunicorn workers and the scheduler of one `certflow serve`.
    metrics = _metrics(app_b.base)
    assert metrics[("certflow_task_completions_total", (("process", "complaint"),))] == 1
    assert metrics[("certflow_sweep_duration_seconds_count", ())] >= 1
    assert metrics[("certflow_open_incidents", ())] == 0


def _metrics(base: str) -> dict:
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    request = urllib.request.Request(  # noqa: S310
        f"{base}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
        text = answer.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
