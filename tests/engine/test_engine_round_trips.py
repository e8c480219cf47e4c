"""Issue 16: what one task completion costs the database. The engine reads the task with its
instance and version in one query, restores specs and forms from content-keyed caches (no
spec_json, form or source read once warm), asks for open incidents only when there can be one,
and correlates queued messages in SQL."""

from contextlib import contextmanager

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from certflow.db import db
from engine.models import HumanTask, MessageSubscription, ProcessInstance, QueuedMessage
from tests.helpers import (
    CLIENT,
    FIXTURES,
    MARKET,
    OWNER,
)

REJECT = {"accepted": False, "man_days": 1}  # → waits for the resubmission message


def start(engine, key: str):
    instance = engine.start(
        "review_flow",
        actor=MARKET,
        business_key=key,
        data={"headcount": 120, "application_id": key},
    )
    return engine.session.scalars(
        select(HumanTask.id).where(HumanTask.instance_id == instance.id, HumanTask.state == "open")
    ).one()


@contextmanager
def statements():
    sent: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if "simulated_time" not in statement:  # the tests' movable clock, not the engine
            sent.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def test_a_completion_reads_no_spec_form_or_incident_once_warm(deployed):
    first, second = start(deployed, "APP-1"), start(deployed, "APP-2")
    deployed.complete_task(first, actor=MARKET, data=REJECT)  # fills the spec and form caches
    db.session.remove()  # a fresh session, as in a web request
    with statements() as sent:
        deployed.complete_task(second, actor=MARKET, data=REJECT)
    reads = [s for s in sent if s.startswith("SELECT")]
    assert not [s for s in reads if "spec_json" in s], reads
    assert not [s for s in reads if "process_version_file" in s or "source_file" in s], reads
    assert not [s for s in reads if "FROM incident" in s], reads
    # the task with its instance, version, the instance's other open tasks, its message
    # subscriptions and whether a queued message correlates with it (one query: the task-index
    # and subscription syncs reuse it; with nothing queued no message is looked for)
    assert len(reads) == 1, reads
    assert len([s for s in reads if "FROM human_task" in s]) == 1, reads
    assert not [s for s in reads if s.startswith("SELECT message_subscription")], reads
    assert len([s for s in sent if s.split()[0] in ("INSERT", "UPDATE", "DELETE")]) == 4, sent


def test_a_completion_writes_by_statements_not_by_a_flush(deployed):
    """The completion's writes — event, instance, subscription, task row — are Core statements
    sent as the operation goes (issue 16: the ORM's unit of work cost more than they did): the
    session has nothing to flush at the commit, and the rows are as the ORM wrote them."""
    first, second = start(deployed, "APP-1"), start(deployed, "APP-2")
    deployed.complete_task(first, actor=MARKET, data=REJECT)
    db.session.remove()
    flushes = []

    def flushing(session, *_):
        flushes.append(session)

    event.listen(Session, "before_flush", flushing)
    try:
        with statements() as sent:
            deployed.complete_task(second, actor=MARKET, data=REJECT)
    finally:
        event.remove(Session, "before_flush", flushing)
    assert flushes == []
    writes = [s.split()[:3] for s in sent if s.split()[0] in ("INSERT", "UPDATE", "DELETE")]
    assert sorted(writes) == [
        ["INSERT", "INTO", "event_log"],
        ["INSERT", "INTO", "message_subscription"],
        ["UPDATE", "human_task", "SET"],
        ["UPDATE", "process_instance", "SET"],
    ], sent
    # the subscription the completion made is stored (read with the task, not on its own)
    names = db.session.scalars(select(MessageSubscription.message_name)).all()
    assert sorted(names) == ["documents_resubmitted", "documents_resubmitted"]
    task = db.session.get(HumanTask, second)
    assert (task.state, task.completed_by) == ("completed", MARKET.username)
    assert db.session.get(ProcessInstance, task.instance_id).lock_version == 3


def test_the_subscriptions_read_with_the_task_are_kept_in_step(deployed):
    """The instance waits for the resubmission (subscribed), the message comes back (the
    subscription goes), the task is rejected again (subscribed again): each completion works
    from the subscriptions it read with its task."""
    task = start(deployed, "APP-1")
    instance_id = deployed.complete_task(task, actor=MARKET, data=REJECT).id
    db.session.remove()
    assert subscriptions(instance_id) == ["documents_resubmitted"]
    deployed.send_message(
        "documents_resubmitted", correlation={"business_key": "APP-1"}, actor=CLIENT
    )
    db.session.remove()
    assert subscriptions(instance_id) == []
    again = db.session.scalars(
        select(HumanTask.id).where(HumanTask.instance_id == instance_id, HumanTask.state == "open")
    ).one()
    deployed.complete_task(again, actor=MARKET, data=REJECT)
    db.session.remove()
    assert subscriptions(instance_id) == ["documents_resubmitted"]


def subscriptions(instance_id: int) -> list[str]:
    return sorted(
        db.session.scalars(
            select(MessageSubscription.message_name).where(
                MessageSubscription.instance_id == instance_id
            )
        )
    )


def test_two_queued_messages_for_two_waits_are_each_delivered_once(engine):
    """An instance that waits twice in a row for the same message takes two queued messages
    in one operation, oldest first (R-13: nothing lost, nothing delivered twice). The queued
    messages are read without autoflush, so a delivery is flushed before the next read."""
    engine.deploy([FIXTURES / "message_pairs"], actor=OWNER)
    first_part, second_part = (
        engine.send_message(
            "part_delivered",
            correlation={"business_key": "KIT-1"},
            payload={"part": n},
            actor=CLIENT,
        ).queued_id
        for n in (1, 2)
    )
    instance_id = engine.start("two_parts", actor=MARKET, business_key="KIT-1").id
    begin = db.session.scalars(
        select(HumanTask.id).where(HumanTask.instance_id == instance_id, HumanTask.state == "open")
    ).one()
    engine.complete_task(begin, actor=MARKET)
    db.session.remove()
    delivered = {row.id: row.delivered_to for row in db.session.scalars(select(QueuedMessage))}
    assert delivered == {first_part: instance_id, second_part: instance_id}
    task = db.session.scalars(
        select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.state == "open")
    ).one()
    assert task.element_id == "Task_Assemble"
    data = engine.task_data(engine.find_task(task.id))
    assert (data["first_part"], data["second_part"]) == ({"part": 1}, {"part": 2})


def test_queued_messages_of_other_cases_are_skipped_in_sql(deployed):
    """Older messages for another business key or another instance stay queued; the instance
    gets the first one that correlates with it (R-13: nothing is lost)."""
    task = start(deployed, "APP-1")
    other_key = deployed.send_message(
        "documents_resubmitted", correlation={"business_key": "APP-9"}, actor=CLIENT
    ).queued_id
    other_instance = deployed.send_message(
        "documents_resubmitted",
        correlation={"business_key": "APP-1", "instance_id": 99999},
        actor=CLIENT,
    ).queued_id
    mine = deployed.send_message(
        "documents_resubmitted",
        correlation={"business_key": "APP-1"},
        payload={"files": 2},
        actor=CLIENT,
    ).queued_id
    instance = deployed.complete_task(task, actor=MARKET, data=REJECT)
    delivered = {
        row.id: row.delivered_to for row in deployed.session.scalars(select(QueuedMessage))
    }
    assert delivered == {other_key: None, other_instance: None, mine: instance.id}


def test_queued_messages_are_looked_for_only_when_one_correlates(deployed):
    """A queued message for another case does not make a completion look for one to deliver;
    one for this case does, and is delivered (R-13: nothing is lost)."""
    first, second = start(deployed, "APP-1"), start(deployed, "APP-2")
    deployed.send_message(
        "documents_resubmitted", correlation={"business_key": "APP-9"}, actor=CLIENT
    )
    db.session.remove()
    with statements() as sent:
        deployed.complete_task(first, actor=MARKET, data=REJECT)
    assert not [s for s in sent if s.startswith("SELECT queued_message.id")], sent
    mine = deployed.send_message(
        "documents_resubmitted", correlation={"business_key": "APP-2"}, actor=CLIENT
    ).queued_id
    db.session.remove()
    with statements() as sent:
        instance_id = deployed.complete_task(second, actor=MARKET, data=REJECT).id
    assert len([s for s in sent if s.startswith("SELECT queued_message.id")]) == 1, sent
    db.session.remove()
    assert db.session.get(QueuedMessage, mine).delivered_to == instance_id


def test_undelivered_messages_have_an_index_of_their_own(engine):
    """The completion's question "is anything queued for this instance?" reads an index of the
    undelivered messages only (migration 0025), not the history of delivered ones."""
    with db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            partial = {
                row[1]: row[4]
                for row in connection.exec_driver_sql("PRAGMA index_list(queued_message)")
            }
            assert partial.get("ix_queued_message_undelivered") == 1, partial
            definition = connection.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = 'ix_queued_message_undelivered'"
            ).scalar()
        else:
            definition = connection.exec_driver_sql(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_queued_message_undelivered'"
            ).scalar()
    assert "delivered_at IS NULL" in definition, definition


def test_a_message_the_operation_queues_for_its_own_instance_is_delivered(engine):
    """The instance throws a message nobody waits for (queued under its business key), then
    waits for it: the completion read "nothing queued" with its task, yet delivers it."""
    engine.deploy([FIXTURES / "message_to_self"], actor=OWNER)
    instance_id = engine.start("note_to_self", actor=MARKET, business_key="NOTE-1").id
    begin = db.session.scalars(
        select(HumanTask.id).where(HumanTask.instance_id == instance_id, HumanTask.state == "open")
    ).one()
    db.session.remove()
    engine.complete_task(begin, actor=MARKET)
    db.session.remove()
    [note] = db.session.scalars(select(QueuedMessage)).all()
    assert (note.name, note.business_key, note.delivered_to) == (
        "note_to_self",
        "NOTE-1",
        instance_id,
    )
    task = db.session.scalars(
        select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.state == "open")
    ).one()
    assert task.element_id == "Task_ReadNote"


def test_sqlite_commits_without_a_sync_of_their_own(engine):
    """The embedded default: WAL with synchronous=NORMAL (1), not FULL (2)."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("a SQLite setting")
    with db.engine.connect() as connection:
        journal = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
        synchronous = connection.exec_driver_sql("PRAGMA synchronous").scalar()
    assert (journal, synchronous) == ("wal", 1)


def test_the_prebuilt_statements_wait_for_every_model(tmp_path):
    """The completion's statements are built once, on first use: a loader option built at
    import configures every mapper, which fails while a model module the others name (here
    certflow.models' User) is not imported yet — as when the engine is imported first."""
    import subprocess
    import sys

    from tests.paths import ROOT

    result = subprocess.run(
        [sys.executable, "-c", "import domain.models, engine.service"],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
