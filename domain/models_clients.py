"""Tables of client self-service (issue 10, R-11): link requests of people signing up for an
organisation that already has users, and the cases a client started for its organisation."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from certflow.db import UTCDateTime, db


class LinkRequest(db.Model):
    """A sign-up whose unified social credit code already belongs to an organisation (R-11):
    never linked automatically; a user of the market role approves or refuses it."""

    __tablename__ = "link_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    stated_name: Mapped[str] = mapped_column(String(300))  # the organisation name as typed
    contact_name: Mapped[str] = mapped_column(String(100))
    contact_phone: Mapped[str] = mapped_column(String(50), default="")
    contact_email: Mapped[str] = mapped_column(String(200), default="")
    # pending | approved | refused
    status: Mapped[str] = mapped_column(String(20), index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text, default="")


class CaseBinding(db.Model):
    """A process instance a client started for its own organisation: the instance is that
    organisation's case from its start, before any application exists (R-11)."""

    __tablename__ = "case_binding"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    process_id: Mapped[str] = mapped_column(String(100))
    started_by: Mapped[str] = mapped_column(String(80))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
