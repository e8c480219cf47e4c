"""The certificate resource's query and answers (issue 11): pydantic models for spectree, kept
apart from webapp/api/models.py and responses.py so the resource stays in its own modules."""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.certificates import STATUS_LABELS
from webapp.api.models import DEFAULT_PAGE, MAX_PAGE, NoNul, QueryInt, optional

Status = Literal[tuple(STATUS_LABELS)]  # type: ignore[valid-type]


class CertificateQuery(BaseModel):
    """The certificate list's filters; an empty parameter counts as absent."""

    model_config = ConfigDict(extra="ignore")

    number: NoNul = optional(
        description="Part of the certificate number (case and spaces do not matter)."
    )
    organisation: NoNul = optional(description="Part of the certified organisation's name.")
    status: Status = optional(description="Only certificates in this status.")
    limit: QueryInt(1) = Field(
        default=DEFAULT_PAGE,
        description=f"Page size; larger values than {MAX_PAGE} are capped at {MAX_PAGE}.",
    )
    offset: QueryInt(0) = Field(default=0, description="Certificates to skip.")


class CertificateSite(BaseModel):
    id: int
    name: str
    address: str
    is_fixed: bool
    suspended: bool = Field(description="The site's certification is suspended (R-9.5.1).")


class CertificateOrganisation(BaseModel):
    id: int
    name: str = Field(description="The name as printed on the certificate.")
    address: str = Field(description="The address as printed on the certificate.")


class CertificateSummary(BaseModel):
    number: str
    status: Status
    star_level: int = Field(description="Star level 1–5 (GB/T 27922-2011).")
    organisation: CertificateOrganisation
    issued_on: date
    expires_on: date = Field(description="The last day of validity as printed.")
    url: str = Field(description="API URL of this certificate.")


class Certificate(CertificateSummary):
    scope: str
    sites: list[CertificateSite]
    standard: str
    rules: str
    issuing_body: str
    original_issued_on: date
    changed_on: date | None
    status_changed_on: date | None
    mark: str
    mark_use_allowed: bool = Field(description="The client may use the certification mark.")
    replaces: str | None = Field(description="Number of the certificate this one replaced.")
    replaced_by: str | None = Field(description="Number of the certificate that replaced it.")
    links: dict[str, str] = Field(
        description="API URLs of the certificate's history, documents and instances."
    )


class CertificatePage(BaseModel):
    items: list[CertificateSummary]
    total: int = Field(description="Matching certificates over all pages.")
    limit: int
    offset: int


class CertificateEvent(BaseModel):
    event: str = Field(description="What happened: issued, suspended, restored, withdrawn, ...")
    rule: str = Field(description="The rule applied (e.g. R-9.5.1a).")
    reason: str
    status_before: Status | None
    status_after: Status
    sites: list[int] = Field(description="Site ids of a partial suspension.")
    actor: str
    at: datetime
    effective_on: date


class CertificateEventList(BaseModel):
    items: list[CertificateEvent] = Field(description="Oldest first.")


class CaseDocument(BaseModel):
    id: int
    kind: str
    title: str
    body: str = Field(description="The document's text (Markdown).")
    created_at: datetime
    created_by: str


class CaseDocumentList(BaseModel):
    items: list[CaseDocument] = Field(description="Oldest first.")


class InstanceLink(BaseModel):
    id: int
    process_id: str
    business_key: str | None
    status: Literal["running", "completed", "error", "terminated", "cancelled"]
    started_at: datetime
    ended_at: datetime | None
    url: str = Field(description="API URL of the instance.")


class InstanceLinkList(BaseModel):
    items: list[InstanceLink] = Field(description="Oldest first.")
