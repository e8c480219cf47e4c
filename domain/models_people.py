"""The HR record of an auditor over time (R-7.2.2, 由人力资源部评价): registration, evaluations
and renewals, one row per event, never changed afterwards (the auditor's history)."""

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from certflow.db import UTCDateTime, db


class AuditorEvent(db.Model):
    """One event of an auditor's HR record: `registered`, `evaluated` (with its result) or
    `renewed` (which consumes one positive evaluation: `evaluation_id` is unique, so of two
    renewals on the same evaluation only one can be stored)."""

    __tablename__ = "auditor_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    auditor_id: Mapped[int] = mapped_column(ForeignKey("auditor.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # registered | evaluated | renewed
    on_date: Mapped[date] = mapped_column(Date)  # the day it happened (China date)
    # evaluated: qualified | not_qualified; others: None
    result: Mapped[str | None] = mapped_column(String(20))
    evaluator: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    expires_before: Mapped[date | None] = mapped_column(Date)
    expires_after: Mapped[date | None] = mapped_column(Date)
    evaluation_id: Mapped[int | None] = mapped_column(ForeignKey("auditor_event.id"), unique=True)
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())

    auditor = relationship(
        "Auditor",  # domain.models (which imports this module at its end)
        backref=backref("events", order_by="AuditorEvent.id", cascade="all, delete-orphan"),
    )
