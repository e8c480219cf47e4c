"""Read queries for the quality manager's workspace (issue 13): every deployed version with its
instances, the events that change definitions or cases outside a normal task (the audit trail),
and the human-task events of the event log for process mining (XES / CSV).

Functions take the caller's session, like `engine.sources`; rows come back as frozen snapshots,
never ORM objects (no code outside `engine/` reads the engine's tables)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from engine.models import EventLog, HumanTask, ProcessInstance, ProcessVersion


@dataclass(frozen=True)
class VersionRecord:
    """One deployed version: what, by whom, when, why, and the cases it governs."""

    id: int
    process_id: str
    name: str
    version: int
    sha256: str
    deployed_at: datetime
    deployed_by: str
    comment: str
    files: tuple[str, ...]  # stored paths: the BPMN, called processes, DMN, forms
    running: int
    finished: int  # completed or terminated


def version_register(session: Session) -> list[VersionRecord]:
    """Every version of every process, by process id then newest version first."""
    counts: dict[tuple[int, str], int] = {
        (version_id, status): n
        for version_id, status, n in session.execute(
            select(
                ProcessInstance.process_version_id,
                ProcessInstance.status,
                func.count(ProcessInstance.id),
            ).group_by(ProcessInstance.process_version_id, ProcessInstance.status)
        ).all()
    }
    rows = session.scalars(
        select(ProcessVersion)
        .options(selectinload(ProcessVersion.files), joinedload(ProcessVersion.deployment))
        .order_by(ProcessVersion.process_id, ProcessVersion.version.desc())
    )
    return [
        VersionRecord(
            id=row.id,
            process_id=row.process_id,
            name=row.name,
            version=row.version,
            sha256=row.sha256,
            deployed_at=row.deployment.deployed_at,
            deployed_by=row.deployment.deployed_by,
            comment=row.deployment.comment or "",
            files=tuple(sorted(f.path for f in row.files)),
            running=counts.get((row.id, "running"), 0) + counts.get((row.id, "error"), 0),
            finished=counts.get((row.id, "completed"), 0) + counts.get((row.id, "terminated"), 0),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class LoggedEvent:
    """One event of the log with the case it belongs to (business key of its instance)."""

    id: int
    at: datetime
    actor: str
    event_type: str
    instance_id: int | None
    business_key: str | None
    process_id: str | None
    element_id: str | None
    data: dict[str, Any]


@dataclass(frozen=True)
class EventQuery:
    """Which events: of these types, by whom, in [since, until), of a case (business key or
    instance id), of a process. Empty fields do not filter."""

    event_types: tuple[str, ...]
    actor: str = ""
    since: datetime | None = None
    until: datetime | None = None
    case: str = ""
    process_id: str = ""


def logged_events(session: Session, query: EventQuery, limit: int) -> list[LoggedEvent]:
    """The matching events, newest first, at most `limit`."""
    statement = (
        select(EventLog, ProcessInstance.business_key, ProcessInstance.process_id)
        .outerjoin(ProcessInstance, ProcessInstance.id == EventLog.instance_id)
        .where(EventLog.event_type.in_(query.event_types))
    )
    if query.actor:
        statement = statement.where(EventLog.actor == query.actor)
    if query.since is not None:
        statement = statement.where(EventLog.at >= query.since)
    if query.until is not None:
        statement = statement.where(EventLog.at < query.until)
    if query.case:
        by_key = ProcessInstance.business_key == query.case
        statement = statement.where(
            by_key | (EventLog.instance_id == int(query.case))
            if query.case.isdigit() and len(query.case) < 10
            else by_key
        )
    if query.process_id:
        statement = statement.where(ProcessInstance.process_id == query.process_id)
    rows = session.execute(statement.order_by(EventLog.at.desc(), EventLog.id.desc()).limit(limit))
    return [
        LoggedEvent(
            id=event.id,
            at=event.at,
            actor=event.actor,
            event_type=event.event_type,
            instance_id=event.instance_id,
            business_key=key,
            process_id=process_id,
            element_id=event.element_id,
            data=dict(event.data or {}),
        )
        for event, key, process_id in rows
    ]


# The life of a human task in the event log, as XES lifecycle transitions (IEEE 1849 standard
# lifecycle model). Timers and messages carry no element in the log and are left out.
LIFECYCLE = {
    "task_created": "schedule",
    "task_claimed": "assign",
    "task_reassigned": "reassign",
    "task_completed": "complete",
    "task_cancelled": "withdraw",
}


@dataclass(frozen=True)
class ActivityEvent:
    """One event of a human task for process mining: case = process instance."""

    id: int
    instance_id: int
    business_key: str | None
    process_id: str
    version: int
    element_id: str
    activity: str  # the element's name as deployed (Chinese)
    at: datetime
    resource: str | None  # who acted; None when the engine opened the task
    role: str | None  # the task's candidate role
    lifecycle: str


def activity_events(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    process_ids: Iterable[str] = (),
) -> list[ActivityEvent]:
    """Human-task events of instances started in [since, until) (whole traces), by instance
    then time: the event log as process-mining tools read it."""
    statement = (
        select(EventLog, ProcessInstance, HumanTask.name, HumanTask.candidate_role)
        .join(ProcessInstance, ProcessInstance.id == EventLog.instance_id)
        .join(HumanTask, HumanTask.id == EventLog.task_id)
        .where(EventLog.event_type.in_(tuple(LIFECYCLE)))
    )
    if since is not None:
        statement = statement.where(ProcessInstance.started_at >= since)
    if until is not None:
        statement = statement.where(ProcessInstance.started_at < until)
    wanted = tuple(process_ids)
    if wanted:
        statement = statement.where(ProcessInstance.process_id.in_(wanted))
    rows = session.execute(statement.order_by(EventLog.instance_id, EventLog.at, EventLog.id))
    return [
        ActivityEvent(
            id=event.id,
            instance_id=instance.id,
            business_key=instance.business_key,
            process_id=instance.process_id,
            version=instance.process_version.version,
            element_id=event.element_id or "",
            activity=name,
            at=event.at,
            resource=None if event.event_type == "task_created" else event.actor,
            role=role,
            lifecycle=LIFECYCLE[event.event_type],
        )
        for event, instance, name, role in rows
    ]


@dataclass(frozen=True)
class FinishedTrace:
    """A finished instance and the human tasks completed in it, in order (element ids)."""

    instance_id: int
    business_key: str | None
    process_id: str
    version: int
    status: str  # completed | terminated
    elements: tuple[str, ...]


def finished_traces(session: Session, process_id: str, limit: int) -> list[FinishedTrace]:
    """The newest `limit` finished instances of the process with their completed tasks."""
    instances = list(
        session.scalars(
            select(ProcessInstance)
            .where(
                ProcessInstance.process_id == process_id,
                ProcessInstance.status.in_(("completed", "terminated")),
            )
            .order_by(ProcessInstance.ended_at.desc(), ProcessInstance.id.desc())
            .limit(limit)
        )
    )
    completed: dict[int, list[str]] = {row.id: [] for row in instances}
    if completed:
        rows = session.execute(
            select(EventLog.instance_id, EventLog.element_id)
            .where(
                EventLog.instance_id.in_(tuple(completed)),
                EventLog.event_type == "task_completed",
            )
            .order_by(EventLog.at, EventLog.id)
        )
        for instance_id, element_id in rows:
            completed[instance_id].append(element_id or "")
    return [
        FinishedTrace(
            row.id,
            row.business_key,
            row.process_id,
            row.process_version.version,
            row.status,
            tuple(completed[row.id]),
        )
        for row in instances
    ]
