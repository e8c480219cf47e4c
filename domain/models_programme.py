"""The revisions of an audit programme (R-7.1.2 审查方案的确定和任何后续调整): append-only, one
row per change of the programme, numbered from 1 (the programme as established), each with why,
who, when, what changed and the whole programme as it stood after the change."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from certflow.db import UTCDateTime, db


class AuditProgrammeRevision(db.Model):
    """One revision of a programme; (programme, number) is unique, so two concurrent revisions
    never share a number (the second fails and is retried or refused)."""

    __tablename__ = "audit_programme_revision"
    __table_args__ = (UniqueConstraint("programme_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("audit_programme.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    # domain/programme_revisions.py REASON_KINDS
    reason_kind: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(Text, default="")
    # [{"field": …, "activity": kind or None, "before": …, "after": …}]
    changes: Mapped[list] = mapped_column(JSON, default=list)
    snapshot: Mapped[dict] = mapped_column(JSON, default=dict)
    revised_by: Mapped[str] = mapped_column(String(80))
    revised_at: Mapped[datetime] = mapped_column(UTCDateTime())

    programme = relationship(
        "AuditProgramme",
        backref=backref("revisions", order_by="AuditProgrammeRevision.number"),
    )
