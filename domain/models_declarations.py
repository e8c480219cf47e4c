"""What the applicant declares with its application (R-13, R-11, R-6.2.2b): the signed
attestation of truth and legality, the acknowledgement of what will be public, and each
resubmission after a non-acceptance. Append-only: a resubmission adds rows, the earlier ones
(and the review they answered) stay."""

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from certflow.db import UTCDateTime, db


class ApplicationDeclaration(db.Model):
    """One declaration, kept with the exact text the client saw."""

    __tablename__ = "application_declaration"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    # truth_attestation (R-13) | public_information (R-11) | resubmission (R-6.2.2b)
    kind: Mapped[str] = mapped_column(String(30))
    text: Mapped[str] = mapped_column(Text)
    signatory_name: Mapped[str | None] = mapped_column(String(100))
    signatory_position: Mapped[str | None] = mapped_column(String(100))
    signed_on: Mapped[date | None] = mapped_column(Date)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())

    application = relationship(
        "Application",
        backref=backref("declarations", order_by="ApplicationDeclaration.id"),
    )
