"""Tables the engine owns: definitions and their versions, instances, the human-task index,
the append-only event log, incidents and queued messages."""

from datetime import datetime

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certflow.db import UTCDateTime, db


class Deployment(db.Model):
    """One `certflow deploy`: who, when, why; it may create several process versions."""

    __tablename__ = "deployment"

    id: Mapped[int] = mapped_column(primary_key=True)
    deployed_by: Mapped[str] = mapped_column(String(80))
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    comment: Mapped[str] = mapped_column(Text, default="")

    versions = relationship("ProcessVersion", back_populates="deployment")


class SourceFile(db.Model):
    """A definition source (BPMN, DMN, form), stored once by content hash."""

    __tablename__ = "source_file"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class ProcessVersion(db.Model):
    """A deployed version of one executable process, with its parsed spec stored once."""

    __tablename__ = "process_version"
    __table_args__ = (UniqueConstraint("process_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(300))
    # Hash over every source the process depends on (its BPMN file, called processes, DMN, forms).
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"), index=True)
    # Serialized spec and subprocess specs (SpiffWorkflow registry format), restored once.
    spec_json: Mapped[str] = mapped_column(Text, deferred=True)  # large: loaded when needed
    # Which stored file defines each process of the spec ({process id: path}), to resolve forms.
    spec_files: Mapped[dict] = mapped_column(JSON, default=dict)
    # Names of the messages whose arrival starts an instance (BPMN message start events).
    start_messages: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")

    deployment = relationship("Deployment", back_populates="versions")
    files = relationship(
        "ProcessVersionFile", back_populates="process_version", cascade="all, delete-orphan"
    )


class ProcessVersionFile(db.Model):
    __tablename__ = "process_version_file"

    process_version_id: Mapped[int] = mapped_column(
        ForeignKey("process_version.id"), primary_key=True
    )
    # Path relative to the deployed directory, e.g. "certification.bpmn" or "forms/a.json".
    path: Mapped[str] = mapped_column(String(500), primary_key=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("source_file.sha256"), index=True)

    process_version = relationship("ProcessVersion", back_populates="files")
    source = relationship("SourceFile")


RUNNING_CHANGE = "status = 'running' AND process_id = 'certificate_change'"


class ProcessInstance(db.Model):
    __tablename__ = "process_instance"
    __table_args__ = (
        Index("ix_process_instance_status_next_timer", "status", "next_timer_at"),
        # One running certificate change per certificate (business key = its number, R-9.3):
        # concurrent requests cannot both start one; the second insert fails → ConflictError.
        Index(
            "uq_process_instance_running_change",
            "business_key",
            unique=True,
            sqlite_where=text(RUNNING_CHANGE),
            postgresql_where=text(RUNNING_CHANGE),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"), index=True)
    process_id: Mapped[str] = mapped_column(String(200), index=True)
    business_key: Mapped[str | None] = mapped_column(String(200), index=True, nullable=True)
    # running | completed | error | terminated | cancelled
    status: Mapped[str] = mapped_column(String(20), index=True)
    # Workflow state without the spec (the spec lives once in process_version.spec_json).
    state_json: Mapped[str] = mapped_column(Text)
    serializer_version: Mapped[str] = mapped_column(String(10))
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False)
    next_timer_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    # Element ids of the tasks that are ready or waiting, for the API and the diagram highlight.
    active_elements: Mapped[list] = mapped_column(JSON, default=list)
    started_by: Mapped[str] = mapped_column(String(80))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    process_version = relationship("ProcessVersion")

    # Optimistic locking: every UPDATE checks and bumps lock_version, so two concurrent
    # operations on one instance cannot both commit.
    __mapper_args__ = {"version_id_col": lock_version}


class HumanTask(db.Model):
    """The inbox: one row per user/manual task that became ready, written with the workflow."""

    __tablename__ = "human_task"
    __table_args__ = (
        Index("ix_human_task_state_role", "state", "candidate_role"),
        # A completion reads its instance's open tasks (engine/task_operations.py): migration 0023
        Index("ix_human_task_instance_state", "instance_id", "state"),
        Index("ix_human_task_state_assignee", "state", "assignee"),
        # "completed by me" (task lists, the inbox's stopped cases): migration 0022
        Index("ix_human_task_completed_by_instance", "completed_by", "instance_id"),
    )

    # The SpiffWorkflow task UUID (stable across save/load).
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    process_id: Mapped[str] = mapped_column(String(200))
    business_key: Mapped[str | None] = mapped_column(String(200), index=True)
    element_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    lane: Mapped[str | None] = mapped_column(String(200))
    candidate_role: Mapped[str | None] = mapped_column(String(50))
    assignee: Mapped[str | None] = mapped_column(String(80))
    # open | completed | cancelled
    state: Mapped[str] = mapped_column(String(20))
    form_file: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    follow_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_by: Mapped[str | None] = mapped_column(String(80))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    instance = relationship("ProcessInstance")


class EventLog(db.Model):
    """Append-only: who did what to which instance/task, when, with the submitted data."""

    __tablename__ = "event_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(80))
    event_type: Mapped[str] = mapped_column(String(50), index=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), index=True)
    task_id: Mapped[str | None] = mapped_column(String(36), index=True)
    element_id: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict] = mapped_column(JSON, default=dict)


@event.listens_for(EventLog, "before_update")
@event.listens_for(EventLog, "before_delete")
def _event_log_is_append_only(mapper, connection, target) -> None:
    raise PermissionError("event_log is append-only")


class Incident(db.Model):
    """A failing service task, script or gateway: the instance waits here until retried."""

    __tablename__ = "incident"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(200))
    error_type: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[str] = mapped_column(Text, default="")
    # open | resolved
    status: Mapped[str] = mapped_column(String(20), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(80))


class MessageSubscription(db.Model):
    """Which instance waits for which message now; rewritten with the instance state."""

    __tablename__ = "message_subscription"

    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), primary_key=True)
    message_name: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)


UNDELIVERED = "delivered_at IS NULL"


class QueuedMessage(db.Model):
    """A message that arrived before any instance waited for it; delivered when one does."""

    __tablename__ = "queued_message"
    __table_args__ = (
        # Delivered messages stay as history; a completion asks only whether any undelivered
        # one correlates with its instance (issue 16): this index holds just those, so the
        # question costs the same however many messages were ever delivered.
        Index(
            "ix_queued_message_undelivered",
            "id",
            sqlite_where=text(UNDELIVERED),
            postgresql_where=text(UNDELIVERED),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    business_key: Mapped[str | None] = mapped_column(String(200), index=True)
    target_instance_id: Mapped[int | None] = mapped_column(Integer, index=True)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    sent_by: Mapped[str] = mapped_column(String(80))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_to: Mapped[int | None] = mapped_column(Integer)
