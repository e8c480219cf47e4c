"""Domain tables of the certification business (R-6 … R-9): queried by the inbox, case pages and
the public registry, written by the service-task handlers in the same transaction as the
workflow."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from certflow.db import UTCDateTime, db


class Organisation(db.Model):
    """An applicant / certified client (申请组织)."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    uscc: Mapped[str] = mapped_column(String(18), unique=True)  # 统一社会信用代码
    address: Mapped[str] = mapped_column(String(500))
    contact_name: Mapped[str] = mapped_column(String(100))
    contact_phone: Mapped[str] = mapped_column(String(50), default="")
    contact_email: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    sites = relationship("Site", back_populates="organisation", order_by="Site.id")


class Site(db.Model):
    """A service site (服务场所) of an organisation; certificates cover sites."""

    __tablename__ = "site"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    address: Mapped[str] = mapped_column(String(500))
    is_fixed: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    organisation = relationship("Organisation", back_populates="sites")


class Application(db.Model):
    """A certification application (R-6.1) and its acceptance review (R-6.2)."""

    __tablename__ = "application"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="initial")  # initial | recertification
    requested_level: Mapped[int] = mapped_column(Integer)
    scope: Mapped[str] = mapped_column(Text)
    shift_work: Mapped[bool] = mapped_column(Boolean, default=False)
    headcount: Mapped[int] = mapped_column(Integer)
    # submitted | accepted | not_accepted | contracted | certified | refused | terminated
    status: Mapped[str] = mapped_column(String(20), index=True)
    submitted_by: Mapped[str] = mapped_column(String(80))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    review: Mapped[dict] = mapped_column(JSON, default=dict)
    man_days: Mapped[Decimal | None] = mapped_column(Numeric(6, 1))
    reviewed_by: Mapped[str | None] = mapped_column(String(80))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    not_accepted_reason: Mapped[str | None] = mapped_column(Text)

    organisation = relationship("Organisation")


class Attachment(db.Model):
    """An uploaded file (application materials, evidence); the bytes live under instance/."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id"), index=True)
    # legal_status | service_documents | service_flowchart | other_certificates | evidence | ...
    kind: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str] = mapped_column(String(300))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_path: Mapped[str] = mapped_column(String(500))
    uploaded_by: Mapped[str] = mapped_column(String(80))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Contract(db.Model):
    """The signed certification contract (R-6.2.2a): both signatures with dates."""

    __tablename__ = "contract"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), unique=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    client_signatory: Mapped[str] = mapped_column(String(100))
    client_signed_on: Mapped[date] = mapped_column(Date)
    cb_signatory: Mapped[str] = mapped_column(String(100))
    cb_signed_on: Mapped[date] = mapped_column(Date)
    fee: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Auditor(db.Model):
    """A person who can be appointed to audit teams (R-7.2), kept by HR."""

    __tablename__ = "auditor"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    # CCAA registration for service certification; None for technical experts.
    registration_number: Mapped[str | None] = mapped_column(String(50))
    level: Mapped[str | None] = mapped_column(String(20))  # intern | auditor | senior
    registration_expires_on: Mapped[date | None] = mapped_column(Date)
    team_leader_qualified: Mapped[bool] = mapped_column(Boolean, default=False)
    fields: Mapped[list] = mapped_column(JSON, default=list)  # e.g. ["after_sales_service"]
    is_technical_expert: Mapped[bool] = mapped_column(Boolean, default=False)
    languages: Mapped[list] = mapped_column(JSON, default=list)

    user = relationship("User")


class ConflictOfInterest(db.Model):
    """Consulting for or employment at a client; blocks auditing it for 2 years after `until`:
    team.appoint refuses such a member (R-7.2.1(5), CNAS-CC01)."""

    __tablename__ = "conflict_of_interest"

    id: Mapped[int] = mapped_column(primary_key=True)
    auditor_id: Mapped[int] = mapped_column(ForeignKey("auditor.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # consulted | employed
    until: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")


class AuditProgramme(db.Model):
    """One programme per client per 3-year cycle (R-7.1.1, R-7.1.2)."""

    __tablename__ = "audit_programme"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    cycle_start: Mapped[date | None] = mapped_column(Date)  # the decision date
    cycle_end: Mapped[date | None] = mapped_column(Date)
    mystery_shopping: Mapped[bool] = mapped_column(Boolean, default=False)
    random_survey: Mapped[bool] = mapped_column(Boolean, default=False)
    shift_work_notes: Mapped[str] = mapped_column(Text, default="")
    # the client's shifts [{"name", "hours"}], which every audit plan covers or explains.
    shifts: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    sizing_notes: Mapped[str] = mapped_column(Text, default="")
    man_days: Mapped[Decimal] = mapped_column(Numeric(6, 1))
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    activities = relationship(
        "ProgrammeActivity", back_populates="programme", order_by="ProgrammeActivity.id"
    )


class ProgrammeActivity(db.Model):
    """A planned audit activity with its planned date and the latest date the rules allow."""

    __tablename__ = "programme_activity"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("audit_programme.id"), index=True)
    # document_review | initial_audit | surveillance_1 | surveillance_2 | recertification
    kind: Mapped[str] = mapped_column(String(30))
    planned_date: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    hard_limit_date: Mapped[date | None] = mapped_column(Date)
    window_opens_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="planned")
    # an extension beyond 12 months needs a reason and the audit
    # department's approval, and never passes hard_limit_date (15 months).
    extension_requested_to: Mapped[date | None] = mapped_column(Date)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    extension_decided_by: Mapped[str | None] = mapped_column(String(80))
    extension_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    extension_approved: Mapped[bool | None] = mapped_column(Boolean)
    audit_id: Mapped[int | None] = mapped_column(ForeignKey("audit.id"), index=True)

    programme = relationship("AuditProgramme", back_populates="activities")


class Audit(db.Model):
    """One audit (initial, surveillance, recertification, special) and its results."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("audit_programme.id"), index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    # initial | surveillance | extra_surveillance | special | recertification
    kind: Mapped[str] = mapped_column(String(20))
    # The certificate a surveillance or special audit keeps under watch.
    certificate_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"), index=True)
    trigger_reason: Mapped[str | None] = mapped_column(String(40))  # R-8.10.1 (a)–(d)
    objectives: Mapped[str] = mapped_column(Text, default="")
    criteria: Mapped[str] = mapped_column(Text, default="")
    scope: Mapped[str] = mapped_column(Text, default="")
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    # planned | in_progress | completed | terminated
    status: Mapped[str] = mapped_column(String(20), default="planned")
    plan: Mapped[dict] = mapped_column(JSON, default=dict)
    document_review: Mapped[dict] = mapped_column(JSON, default=dict)
    training: Mapped[dict] = mapped_column(JSON, default=dict)
    opening_meeting: Mapped[dict] = mapped_column(JSON, default=dict)
    communications: Mapped[list] = mapped_column(JSON, default=list)
    escalations: Mapped[list] = mapped_column(JSON, default=list)
    closing_meeting: Mapped[dict] = mapped_column(JSON, default=dict)
    indicator_set: Mapped[str | None] = mapped_column(String(60))
    score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    final_score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    special_deductions: Mapped[int] = mapped_column(Integer, default=0)
    star_level_achieved: Mapped[int | None] = mapped_column(Integer)
    # recommend | downgrade | not_recommend
    conclusion: Mapped[str | None] = mapped_column(String(20))
    conclusion_notes: Mapped[dict] = mapped_column(JSON, default=dict)
    concluded_by: Mapped[str | None] = mapped_column(String(80))
    concluded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    termination_reason: Mapped[str | None] = mapped_column(String(40))
    terminated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    report_received_by: Mapped[str | None] = mapped_column(String(100))
    report_received_on: Mapped[date | None] = mapped_column(Date)

    team = relationship("AuditTeamMember", back_populates="audit", order_by="AuditTeamMember.id")
    findings = relationship("Finding", back_populates="audit", order_by="Finding.id")
    nonconformities = relationship(
        "Nonconformity", back_populates="audit", order_by="Nonconformity.id"
    )


class AuditTeamMember(db.Model):
    """An appointment (审查委任) of one person to an audit team (R-7.2)."""

    __tablename__ = "audit_team_member"
    __table_args__ = (UniqueConstraint("audit_id", "auditor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audit.id"), index=True)
    auditor_id: Mapped[int] = mapped_column(ForeignKey("auditor.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))  # leader | auditor | tech_expert
    flags: Mapped[list] = mapped_column(JSON, default=list)
    appointed_by: Mapped[str] = mapped_column(String(80))
    appointed_at: Mapped[datetime] = mapped_column(UTCDateTime())

    audit = relationship("Audit", back_populates="team")
    auditor = relationship("Auditor")


class Finding(db.Model):
    """Evidence against one indicator item (R-8.5.2, R-8.5.4)."""

    __tablename__ = "finding"

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audit.id"), index=True)
    item_code: Mapped[str] = mapped_column(String(20))
    method: Mapped[str] = mapped_column(String(20))  # interview | observation | records
    result: Mapped[str] = mapped_column(String(20))  # conform|nonconform|not_applicable|sampled
    sample_size: Mapped[int | None] = mapped_column(Integer)
    failures: Mapped[int | None] = mapped_column(Integer)
    evidence: Mapped[str] = mapped_column(Text, default="")
    improvement_opportunity: Mapped[str] = mapped_column(Text, default="")
    # Attachment ids of the files supporting the finding (evidence checklist, R-8.5.4).
    evidence_files: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())

    audit = relationship("Audit", back_populates="findings")


class Nonconformity(db.Model):
    """A nonconformity and its correction cycle (R-8.7)."""

    __tablename__ = "nonconformity"

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audit.id"), index=True)
    number: Mapped[str] = mapped_column(String(20))
    item_code: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text, default="")
    # the deduction finding this NC was derived from (domain/audit/deduction_ncs.py);
    # None for an NC the team raised itself
    finding_id: Mapped[int | None] = mapped_column(ForeignKey("finding.id"), index=True)
    # §8.7.2: the nature (general | serious) sets the deadline (domain/nc_natures.py)
    nature: Mapped[str] = mapped_column(String(20), default="general", server_default="general")
    deadline: Mapped[date | None] = mapped_column(Date)
    # open | confirmed | answered | rejected | accepted
    status: Mapped[str] = mapped_column(String(20), default="open")
    confirmed_by: Mapped[str | None] = mapped_column(String(80))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    root_cause: Mapped[str] = mapped_column(Text, default="")
    correction: Mapped[str] = mapped_column(Text, default="")
    corrective_action: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # §8.7.3: attachment ids of the evidence sent with the latest answer (证实性材料)
    evidence_files: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    rounds: Mapped[int] = mapped_column(Integer, default=0)
    verification_method: Mapped[str | None] = mapped_column(String(20))  # documentary|on_site
    verification_note: Mapped[str] = mapped_column(Text, default="")
    verified_by: Mapped[str | None] = mapped_column(String(80))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    audit = relationship("Audit", back_populates="nonconformities")


class Decision(db.Model):
    """A certification decision (R-8.8), by whom and when (R-13)."""

    __tablename__ = "decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audit.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(20))  # grant | refuse
    star_level: Mapped[int | None] = mapped_column(Integer)
    reasons: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(String(80))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_on: Mapped[date] = mapped_column(Date)


class Certificate(db.Model):
    """A certificate (R-9.1, R-9.2); a reissue links to the one it replaces (R-9.3)."""

    __tablename__ = "certificate"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id"), index=True)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decision.id"), index=True)
    organisation_name: Mapped[str] = mapped_column(String(300))
    organisation_address: Mapped[str] = mapped_column(String(500))
    sites: Mapped[list] = mapped_column(JSON, default=list)
    scope: Mapped[str] = mapped_column(Text)
    star_level: Mapped[int] = mapped_column(Integer)
    standard: Mapped[str] = mapped_column(String(100))
    rules: Mapped[str] = mapped_column(String(200))
    issuing_body: Mapped[str] = mapped_column(String(200))
    signatory: Mapped[str] = mapped_column(String(100))
    # the signatory's title, from the settings with the name (issue 10).
    signatory_title: Mapped[str] = mapped_column(String(100), default="", server_default="")
    issued_on: Mapped[date] = mapped_column(Date)
    original_issued_on: Mapped[date] = mapped_column(Date)
    changed_on: Mapped[date | None] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    # valid | suspended | withdrawn | cancelled | superseded
    status: Mapped[str] = mapped_column(String(20), index=True)
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"), index=True)
    mark: Mapped[str] = mapped_column(String(100))
    # Partial suspension: the sites whose certification is suspended.
    suspended_sites: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    mark_use_allowed: Mapped[bool] = mapped_column(  # R-10.1e
        Boolean, default=True, server_default=true()
    )
    status_changed_on: Mapped[date | None] = mapped_column(Date)


class CertificateEvent(db.Model):
    """Every change of a certificate's status or content: what, why (the rule), who, when
    (R-9.3, R-9.5, R-13); the registry shows them as the status history."""

    __tablename__ = "certificate_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id"), index=True)
    # issued | maintained | downgraded | suspended | restored | withdrawn | cancelled |
    # superseded | reissued | surveillance_extended
    event: Mapped[str] = mapped_column(String(30))
    rule: Mapped[str] = mapped_column(String(20))  # e.g. R-9.5.1a
    reason: Mapped[str] = mapped_column(Text, default="")
    status_before: Mapped[str | None] = mapped_column(String(20))
    status_after: Mapped[str] = mapped_column(String(20))
    sites: Mapped[list] = mapped_column(JSON, default=list)  # partial suspension
    actor: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    effective_on: Mapped[date] = mapped_column(Date)
    data: Mapped[dict] = mapped_column(JSON, default=dict)


class Announcement(db.Model):
    """A public announcement (R-14): certified, suspended, restored, withdrawn, cancelled,
    downgraded organisations, on the public registry."""

    __tablename__ = "announcement"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    organisation_name: Mapped[str] = mapped_column(String(300))
    certificate_number: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    published_on: Mapped[date] = mapped_column(Date, index=True)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Document(db.Model):
    """A generated written notice or report kept with the case (R-6.2.2b, R-8.6, R-8.8 …).
    `organisation_id` is empty only for the letters of a public complaint that names no
    organisation (R-12): they belong to no case page, `data` names the complaint."""

    __tablename__ = "document"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id"), index=True)
    audit_id: Mapped[int | None] = mapped_column(ForeignKey("audit.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IndicatorSetVersion(db.Model):
    """A deployed version of the GB/T 27922 indicator set (data a process owner edits)."""

    __tablename__ = "indicator_set_version"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60))
    version: Mapped[str] = mapped_column(String(30))
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[dict] = mapped_column(JSON)
    loaded_by: Mapped[str] = mapped_column(String(80))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime())


# The after-certification case tables live in their own module (size); importable from here.
from domain.models_cases import (  # noqa: E402, F401
    ChangeRequest,
    Complaint,
    Disclosure,
    MisuseCase,
)
from domain.models_clients import CaseBinding, LinkRequest  # noqa: E402, F401
from domain.models_declarations import ApplicationDeclaration  # noqa: E402, F401
from domain.models_fees import ContractInvoice, ContractPayment  # noqa: E402, F401
from domain.models_marks import MarkArtworkDownload, MarkPlaque  # noqa: E402, F401
from domain.models_people import AuditorEvent  # noqa: E402, F401
from domain.models_programme import AuditProgrammeRevision  # noqa: E402, F401
from domain.models_studio import ProcessDraft  # noqa: E402, F401
