"""Issue 16: bulk rows (`certflow generate`) go through COPY on PostgreSQL — no INSERT statement
— and read back exactly as rows an INSERT wrote: aware UTC times, JSON objects, JSON `null`,
SQL NULL, Chinese text."""

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import event, select

from certflow.bulk import insert_rows
from certflow.db import db
from engine.models import EventLog

CHINA = timezone(timedelta(hours=8))


def test_bulk_rows_read_back_as_inserted_and_go_by_copy(ctx):
    rows = [
        {
            "at": datetime(2026, 1, 5, 9, 0, tzinfo=CHINA) + timedelta(minutes=n),
            "actor": "客户" if n % 2 else "system",
            "event_type": "task_completed",
            "instance_id": None,
            "task_id": None if n % 3 else f"task-{n}",
            "element_id": "Task_审查",
            "data": {"data": {"名称": "优服", "n": n, "ok": True, "nothing": None}},
        }
        for n in range(250)
    ]
    sent: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement.split()[0].upper())

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        insert_rows(db.session, EventLog.__table__, rows)
        db.session.commit()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    if db.engine.dialect.name == "postgresql":
        assert "INSERT" not in sent, sent  # one COPY stream, outside the statements
    stored = db.session.scalars(select(EventLog).order_by(EventLog.at)).all()
    assert [
        (e.at, e.actor, e.event_type, e.instance_id, e.task_id, e.element_id, e.data)
        for e in stored
    ] == [
        (
            row["at"].astimezone(UTC),
            row["actor"],
            row["event_type"],
            None,
            row["task_id"],
            row["element_id"],
            row["data"],
        )
        for row in rows
    ]
    assert stored[0].at.tzinfo is not None
