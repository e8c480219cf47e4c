"""Tables of the web inbox: drafts, comments, follow-up dates, and the access log."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from certflow.db import UTCDateTime, db


class TaskDraft(db.Model):
    """Form data a user saved without completing the task (one draft per user and task)."""

    __tablename__ = "task_draft"

    task_id: Mapped[str] = mapped_column(ForeignKey("human_task.id"), primary_key=True)
    username: Mapped[str] = mapped_column(String(80), primary_key=True)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TaskComment(db.Model):
    __tablename__ = "task_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("human_task.id"), index=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    author: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # R-11 (issue 10): "internal" — staff only, the default for a staff member's comment;
    # "client" — written to (or by) the client. A client sees only "client" comments.
    visibility: Mapped[str] = mapped_column(
        String(10), default="internal", server_default="internal"
    )


class TaskFollowUp(db.Model):
    """A user's own follow-up date on a task (Camunda-style), besides the task's due date."""

    __tablename__ = "task_follow_up"

    task_id: Mapped[str] = mapped_column(ForeignKey("human_task.id"), primary_key=True)
    username: Mapped[str] = mapped_column(String(80), primary_key=True)
    follow_up_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AccessLog(db.Model):
    """Refused attempts (403/404 on protected objects) and sign-ins, for the quality manager."""

    __tablename__ = "access_log"
    __table_args__ = (Index("ix_access_log_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    username: Mapped[str | None] = mapped_column(String(80), index=True)
    event: Mapped[str] = mapped_column(String(40))  # denied | login | login_failed | logout
    method: Mapped[str] = mapped_column(String(10), default="")
    path: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[int | None] = mapped_column()
    detail: Mapped[str] = mapped_column(Text, default="")
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)


class RateCounter(db.Model):
    """One fixed-window counter of the throttles (webapp/throttle.py): sign-in failures per
    (account, address) and per address, public complaints per address. In the database so that
    every app process sees the same counts."""

    __tablename__ = "rate_counter"

    bucket: Mapped[str] = mapped_column(String(100), primary_key=True)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    count: Mapped[int] = mapped_column(default=0)


class WebSession(db.Model):
    """A signed-in browser session, server side: sign-out ends it, so a copied cookie stops
    working (webapp/auth.py). Only the sha256 of the random id in the cookie is stored."""

    __tablename__ = "web_session"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class IdempotencyKey(db.Model):
    """The first answer to a JSON API request sent with an `Idempotency-Key` header
    (webapp/api/idempotency.py). `status` is NULL while the first request is still running."""

    __tablename__ = "idempotency_key"

    username: Mapped[str] = mapped_column(String(80), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    status: Mapped[int | None] = mapped_column(nullable=True)
    response_body: Mapped[str | None] = mapped_column(Text, nullable=True)
    response_headers: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
