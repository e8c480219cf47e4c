"""Issue 16: a finished instance's workflow state is pruned to ≤ 8 KB (its diagram marks) while
the event log keeps the history; the case page, the instance page with its diagram and the page
of one of its completed tasks still answer, with the same marks and the answers recorded."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from certflow.accounts import issue_token
from certflow.db import db
from certflow.models import User
from domain.models import Application
from engine.errors import ConflictError
from engine.models import EventLog, HumanTask, ProcessInstance
from engine.pruning import PRUNED_SERIALIZER
from tests.certification_case import granted_case
from tests.conftest import START_TIME
from tests.web.test_instance_diagram import marks, signed_in, staff
from tests.web_support import text

GOAL_BYTES = 8 * 1024


@pytest.fixture
def certified(engine, clock, tmp_path):
    """A certification case through the real diagrams up to its grant: the certification
    instance is completed, the certificate's surveillance instance runs."""
    case = granted_case(engine, clock, tmp_path / "uploads")
    assert case.instance().status == "completed"
    return case


def events_of(instance_id: int) -> list[tuple]:
    return db.session.execute(
        select(EventLog.id, EventLog.event_type, EventLog.task_id, EventLog.data)
        .where(EventLog.instance_id == instance_id)
        .order_by(EventLog.id)
    ).all()


def test_a_pruned_certification_keeps_its_pages_and_history_in_8_kb(certified, app, engine):
    instance_id = certified.instance_id
    browser = staff(app)
    organisation_id = db.session.scalars(select(Application.organisation_id)).one()
    task = db.session.scalars(
        select(HumanTask).where(
            HumanTask.instance_id == instance_id, HumanTask.element_id == "Task_SubmitApplication"
        )
    ).one()
    marks_before = {
        process: marks(text(browser.get(f"/instances/{instance_id}?process={process}")))
        for process in ("certification", "onsite_audit")
    }
    history_before = events_of(instance_id)
    task_page_before = text(browser.get(f"/tasks/{task.id}"))
    state_before = len(db.session.get(ProcessInstance, instance_id).state_json.encode())

    result = engine.prune_finished()

    assert result["instances"] == 1  # the surveillance instance still runs: not pruned
    db.session.expire_all()
    instance = db.session.get(ProcessInstance, instance_id)
    assert instance.serializer_version == PRUNED_SERIALIZER
    state_after = len(instance.state_json.encode())
    assert state_after <= GOAL_BYTES < state_before
    # The history is kept, plus one line saying what was compacted.
    history_after = events_of(instance_id)
    assert history_after[: len(history_before)] == history_before
    [pruned] = history_after[len(history_before) :]
    assert pruned.event_type == "instance_pruned"
    assert pruned.data == {"state_bytes_before": state_before, "state_bytes_after": state_after}

    for process, expected in marks_before.items():
        page = browser.get(f"/instances/{instance_id}?process={process}")
        assert page.status_code == 200
        assert marks(text(page)) == expected
    assert browser.get(f"/instances/{instance_id}/diagram.bpmn").status_code == 200
    case_page = browser.get(f"/cases/{organisation_id}")
    assert case_page.status_code == 200
    assert "已结束流程的状态已压缩" in text(case_page)
    task_page = browser.get(f"/tasks/{task.id}")
    assert task_page.status_code == 200
    assert text(task_page) == task_page_before
    client = signed_in(app, certified.people.client.username)
    assert client.get(f"/instances/{instance_id}").status_code == 200
    user = db.session.scalars(select(User).where(User.username == "wang_client")).one()
    token = issue_token(db.session, user, START_TIME)
    db.session.commit()
    api = client.get(f"/api/v1/tasks/{task.id}", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200
    assert api.get_json()["data"]["headcount"] == 120


def test_pruning_again_changes_nothing_and_a_pruned_workflow_is_never_run(certified, engine):
    engine.prune_finished()
    count = db.session.scalar(select(func.count()).select_from(EventLog))
    assert engine.prune_finished() == {"instances": 0, "bytes_before": 0, "bytes_after": 0}
    assert db.session.scalar(select(func.count()).select_from(EventLog)) == count
    instance = db.session.get(ProcessInstance, certified.instance_id)
    with pytest.raises(ConflictError, match="pruned"):
        engine._load(instance)


def test_pruned_task_data_is_the_answers_up_to_that_task(certified, engine):
    engine.prune_finished()
    tasks = db.session.scalars(
        select(HumanTask)
        .where(HumanTask.instance_id == certified.instance_id)
        .order_by(HumanTask.completed_at, HumanTask.created_at)
    ).all()
    first = next(t for t in tasks if t.element_id == "Task_SubmitApplication")
    review = next(t for t in tasks if t.element_id == "Task_AcceptanceReview")
    assert "org_name" in engine.task_data(first) and "accepted" not in engine.task_data(first)
    assert engine.task_data(review)["accepted"] is True
    assert json.dumps(engine.task_data(review), ensure_ascii=False)  # plain JSON data


def test_the_prune_command_prunes_what_ended_long_enough_ago(certified, app):
    from cli.prune import prune_command

    runner = app.test_cli_runner()
    kept = runner.invoke(prune_command, ["--older-than-days", "30"])
    assert kept.exit_code == 0 and "pruned 0 finished instance(s)" in kept.output
    pruned = runner.invoke(prune_command, [])
    assert pruned.exit_code == 0 and "pruned 1 finished instance(s)" in pruned.output
    db.session.expire_all()
    instance = db.session.get(ProcessInstance, certified.instance_id)
    assert instance.serializer_version == PRUNED_SERIALIZER


def test_the_scheduler_prunes_what_finished_its_retention_days_ago(certified, app, clock):
    """The scheduler's hourly job (CERTFLOW_PRUNE_AFTER_DAYS, default 30, on the app's clock):
    a just-finished case is kept whole, one finished 30 days ago is compacted; 0 turns it off."""
    from prometheus_client import REGISTRY

    from scheduler import prune_finished

    def pruned_metric() -> float:  # what /metrics reports (certflow/metrics.py)
        return REGISTRY.get_sample_value("certflow_instances_pruned_total") or 0.0

    assert app.config["CERTFLOW_PRUNE_AFTER_DAYS"] == 30
    counted = pruned_metric()
    assert prune_finished(app) == 0
    clock.advance(timedelta(days=29, hours=23))
    assert prune_finished(app) == 0
    app.config["CERTFLOW_PRUNE_AFTER_DAYS"] = 0
    clock.advance(timedelta(days=400))
    assert prune_finished(app) == 0
    app.config["CERTFLOW_PRUNE_AFTER_DAYS"] = 30
    assert prune_finished(app) == 1
    assert pruned_metric() == counted + 1
    db.session.rollback()  # the job worked in its own app context and session
    instance = db.session.get(ProcessInstance, certified.instance_id)
    assert instance.serializer_version == PRUNED_SERIALIZER
    assert len(instance.state_json.encode()) <= GOAL_BYTES


def test_a_second_pruner_skips_the_instance_the_first_holds(certified, engine):
    """Two schedulers prune at once: on PostgreSQL each takes instances the other has not locked
    (FOR UPDATE SKIP LOCKED), so neither waits for nor overwrites the other."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer; the row locks are PostgreSQL's")
    db.session.commit()
    with db.engine.connect() as first_pruner:
        first_pruner.execute(
            select(ProcessInstance.id)
            .where(ProcessInstance.id == certified.instance_id)
            .with_for_update()
        )
        # waiting for the lock would fail the test:
        db.session.connection().exec_driver_sql("SET LOCAL lock_timeout = '5s'")
        assert engine.prune_finished()["instances"] == 0
        first_pruner.rollback()
    assert engine.prune_finished()["instances"] == 1


def test_a_pruning_batch_writes_only_after_it_has_read_everything(certified, engine):
    """The scheduler prunes beside the web: on SQLite a transaction holds the one write lock
    from its first write to its commit, so a batch loads every state first and writes (the
    compact states, the events) only at its end."""
    from sqlalchemy import event

    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement.lstrip().split(None, 1)[0].upper())

    db.session.commit()
    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        assert engine.prune_finished()["instances"] == 1
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    writes = [n for n, verb in enumerate(statements) if verb in ("INSERT", "UPDATE")]
    reads = [n for n, verb in enumerate(statements) if verb == "SELECT"]
    assert len(writes) == 2 and reads  # the state and its event
    assert max(reads) < min(writes), statements
