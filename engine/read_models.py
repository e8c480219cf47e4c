"""What the engine's queries hand out: plain, frozen snapshots of its rows (never ORM objects),
so that no code outside `engine/` reads or changes the engine's tables."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.models import EventLog, HumanTask, Incident, ProcessInstance, ProcessVersion


@dataclass(frozen=True)
class TaskView:
    """One human task of the inbox index."""

    id: str
    instance_id: int
    process_version_id: int
    process_name: str  # of the instance's deployed version
    process_id: str
    business_key: str | None
    element_id: str
    name: str
    lane: str | None
    candidate_role: str | None
    assignee: str | None
    state: str
    form_file: str | None
    created_at: datetime
    due_at: datetime | None
    follow_up_at: datetime | None
    completed_by: str | None
    completed_at: datetime | None

    @classmethod
    def of(cls, row: HumanTask, version: tuple[int, str]) -> "TaskView":
        return cls(
            id=row.id,
            instance_id=row.instance_id,
            process_version_id=version[0],
            process_name=version[1],
            process_id=row.process_id,
            business_key=row.business_key,
            element_id=row.element_id,
            name=row.name,
            lane=row.lane,
            candidate_role=row.candidate_role,
            assignee=row.assignee,
            state=row.state,
            form_file=row.form_file,
            created_at=row.created_at,
            due_at=row.due_at,
            follow_up_at=row.follow_up_at,
            completed_by=row.completed_by,
            completed_at=row.completed_at,
        )


@dataclass(frozen=True)
class VersionView:
    """The deployed version an instance runs."""

    id: int
    process_id: str
    version: int
    name: str


@dataclass(frozen=True)
class ProcessView:
    """The latest deployed version of a process, with who deployed it when."""

    process_id: str
    name: str
    version: int
    sha256: str
    deployed_at: datetime
    deployed_by: str

    @classmethod
    def of(cls, row: ProcessVersion) -> "ProcessView":
        return cls(
            process_id=row.process_id,
            name=row.name,
            version=row.version,
            sha256=row.sha256,
            deployed_at=row.deployment.deployed_at,
            deployed_by=row.deployment.deployed_by,
        )


@dataclass(frozen=True)
class InstanceView:
    """One process instance; `spec_files` maps each (called) process id to its BPMN path."""

    id: int
    process_id: str
    process_version_id: int
    process_version: VersionView
    business_key: str | None
    status: str
    active_elements: list[str]
    next_timer_at: datetime | None
    started_by: str
    started_at: datetime
    updated_at: datetime
    ended_at: datetime | None
    spec_files: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, row: ProcessInstance) -> "InstanceView":
        version = row.process_version
        return cls(
            id=row.id,
            process_id=row.process_id,
            process_version_id=row.process_version_id,
            process_version=VersionView(
                version.id, version.process_id, version.version, version.name
            ),
            business_key=row.business_key,
            status=row.status,
            active_elements=list(row.active_elements or []),
            next_timer_at=row.next_timer_at,
            started_by=row.started_by,
            started_at=row.started_at,
            updated_at=row.updated_at,
            ended_at=row.ended_at,
            spec_files=dict(version.spec_files or {}),
        )


@dataclass(frozen=True)
class EventView:
    """One entry of the append-only event log."""

    id: int
    at: datetime
    actor: str
    event_type: str
    instance_id: int | None
    task_id: str | None
    element_id: str | None
    data: dict[str, Any]

    @classmethod
    def of(cls, row: EventLog) -> "EventView":
        return cls(
            id=row.id,
            at=row.at,
            actor=row.actor,
            event_type=row.event_type,
            instance_id=row.instance_id,
            task_id=row.task_id,
            element_id=row.element_id,
            data=dict(row.data or {}),
        )


@dataclass(frozen=True)
class IncidentView:
    """A failing service task, script or gateway."""

    id: int
    instance_id: int
    task_id: str
    element_id: str
    error_type: str
    message: str
    status: str
    attempts: int
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None

    @classmethod
    def of(cls, row: Incident) -> "IncidentView":
        return cls(
            id=row.id,
            instance_id=row.instance_id,
            task_id=row.task_id,
            element_id=row.element_id,
            error_type=row.error_type,
            message=row.message,
            status=row.status,
            attempts=row.attempts,
            created_at=row.created_at,
            resolved_at=row.resolved_at,
            resolved_by=row.resolved_by,
        )
