"""Domain tables of the after-certification cases (R-9.3, R-9.4, R-10.3, R-11, R-12):
complaints and appeals, change requests, mark misuse and disclosures. Re-exported by
domain.models, where the other tables are."""

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from certflow.db import UTCDateTime, db


class Complaint(db.Model):
    """A complaint or appeal (R-12): about a certified client's service, or about the CB or its
    auditors (incl. an appeal against a certification decision). Answered in writing within
    30 days; the complainant may escalate to CNCA."""

    __tablename__ = "complaint"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)  # e.g. TS-2026-0001
    # about_client | about_cb | appeal
    kind: Mapped[str] = mapped_column(String(20), index=True)
    channel: Mapped[str] = mapped_column(String(20))  # public | portal | staff
    complainant_name: Mapped[str] = mapped_column(String(200))
    complainant_contact: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    certificate_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"), index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id"), index=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), index=True)
    # received | investigating | decided | answered | closed
    status: Mapped[str] = mapped_column(String(20), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reply_due_on: Mapped[date] = mapped_column(Date)
    overdue: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    handler: Mapped[str | None] = mapped_column(String(80))
    substantiated: Mapped[bool | None] = mapped_column(Boolean)
    findings: Mapped[str] = mapped_column(Text, default="")
    decision: Mapped[str] = mapped_column(Text, default="")
    # none | extra_surveillance | special_audit | suspension
    follow_up: Mapped[str | None] = mapped_column(String(30))
    follow_up_instance_id: Mapped[int | None] = mapped_column(Integer)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reply_document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"), index=True)


class ChangeRequest(db.Model):
    """A certificate change (R-9.3) or scope change (R-9.4): name, address, scope text, a
    downgrade on request, a new site (extension) or a dropped site (reduction)."""

    __tablename__ = "change_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)  # BG-2026-0001
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    # name | address | scope_text | downgrade | add_site | remove_site
    kind: Mapped[str] = mapped_column(String(20))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    requested_by: Mapped[str] = mapped_column(String(80))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # requested | approved | refused | completed
    status: Mapped[str] = mapped_column(String(20))
    evaluated_by: Mapped[str | None] = mapped_column(String(80))
    evaluated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    evaluation: Mapped[str] = mapped_column(Text, default="")
    audit_id: Mapped[int | None] = mapped_column(ForeignKey("audit.id"), index=True)
    new_certificate_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"), index=True)


class MisuseCase(db.Model):
    """Reported misuse of a certificate or mark (R-10.3)."""

    __tablename__ = "misuse_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)  # WY-2026-0001
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id"), index=True)
    reported_by: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # reported | investigating | corrective_action | closed | withdrawn | suspended
    status: Mapped[str] = mapped_column(String(20))
    confirmed: Mapped[bool | None] = mapped_column(Boolean)
    investigation: Mapped[str] = mapped_column(Text, default="")
    # corrective_action | suspension | withdrawal
    action: Mapped[str | None] = mapped_column(String(30))
    deadline: Mapped[date | None] = mapped_column(Date)
    legal_follow_up: Mapped[str] = mapped_column(Text, default="")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Disclosure(db.Model):
    """Client information given to a third party (R-11): the client is told in advance what
    and why, unless the law requires otherwise (recorded as such)."""

    __tablename__ = "disclosure"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str | None] = mapped_column(String(40), unique=True)  # PL-0001
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(300))
    information: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(Text)
    legal_basis_no_notice: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(80))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    notice_document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"), index=True)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disclosed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disclosed_by: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20))  # requested | notified | disclosed | refused
