"""The engine's small API for code that runs outside an engine operation but needs its records:
write to the append-only event log, ask whether a task of an instance was completed. Nothing
outside `engine/` touches the engine's tables; it calls these instead (in the caller's session
and transaction)."""

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from engine.models import EventLog, HumanTask

ACTOR_LENGTH = 80  # event_log.actor column
_EVENT_LOG_INSERT = insert(EventLog.__table__)


def record_event(
    session: Session,
    event_type: str,
    *,
    actor: str,
    at: datetime,
    instance_id: int | None = None,
    task_id: str | None = None,
    element_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Append one event (R-13: who did what, when) to the event log."""
    record_events(
        session,
        [
            {
                "at": at,
                "actor": actor,
                "event_type": event_type,
                "instance_id": instance_id,
                "task_id": task_id,
                "element_id": element_id,
                "data": data,
            }
        ],
    )


def record_events(session: Session, events: list[dict[str, Any]]) -> None:
    """Append events (keys as `record_event`'s arguments) in one statement, in list order.

    Written at once by a Core INSERT, not added to the session: the ORM's unit of work cost
    more than the statement itself on every engine operation (issue 16). Rows the session
    still holds as new are flushed first, so an event never precedes the row it names."""
    if not events:
        return
    if session.new:
        session.flush()
    session.connection().execute(
        _EVENT_LOG_INSERT,
        [
            {
                "at": event["at"],
                "actor": event["actor"][:ACTOR_LENGTH],
                "event_type": event["event_type"],
                "instance_id": event.get("instance_id"),
                "task_id": event.get("task_id"),
                "element_id": event.get("element_id"),
                "data": {} if event.get("data") is None else event["data"],
            }
            for event in events
        ],
    )


def record_clock_change(session: Session, *, actor: str, before: datetime, after: datetime) -> None:
    """A change of the simulated clock (issue 13: it moves every limit and timer, so the audit
    trail shows who moved it from when to when). Call before the clock commits its new time, so
    both land in one transaction."""
    record_event(
        session,
        "clock_changed",
        actor=actor,
        at=before,
        data={"before": before.isoformat(), "after": after.isoformat()},
    )


def task_completed(session: Session, instance_id: int, element_id: str) -> bool:
    """Whether a human task `element_id` of the instance has been completed."""
    return (
        session.scalars(
            select(HumanTask.id).where(
                HumanTask.instance_id == instance_id,
                HumanTask.element_id == element_id,
                HumanTask.state == "completed",
            )
        ).first()
        is not None
    )
