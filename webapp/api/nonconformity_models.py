"""The nonconformity resource's query and answers (issue 11): pydantic models for spectree."""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from webapp.api.models import NoNul, QueryInt, optional

NcStatus = Literal["open", "confirmed", "answered", "rejected", "accepted"]


class NonconformityQuery(BaseModel):
    """Filters of the nonconformity list; an empty parameter counts as absent."""

    model_config = ConfigDict(extra="ignore")

    application: NoNul = optional(description="Application number: the NCs of its audits.")
    certificate: NoNul = optional(
        description="Certificate number: the NCs of its surveillance and special audits."
    )
    audit: QueryInt(1) = optional(description="Audit id.")
    status: NcStatus = optional(description="Only nonconformities in this status.")
    awaiting: Literal["answer", "verification"] = optional(
        description="Only those awaiting the client's answer (open, confirmed, rejected) or a "
        "verification (answered) — the choices of the answer and verification forms (R-8.7)."
    )


class Nonconformity(BaseModel):
    id: int = Field(description="The id the answer and verification forms take as `nc_id`.")
    number: str
    audit_id: int
    audit_kind: str = Field(description="initial, surveillance, recertification, special, ...")
    application_number: str | None
    certificate_number: str | None
    item_code: str = Field(description="The GB/T 27922 indicator item not met.")
    description: str
    evidence: str
    deadline: date | None = Field(description="Last day for the client's answer (R-8.7).")
    status: NcStatus
    confirmed_at: datetime | None
    root_cause: str
    correction: str
    corrective_action: str
    answered_at: datetime | None
    rounds: int = Field(description="Answers given so far.")
    verification_method: Literal["documentary", "on_site"] | None
    verification_note: str
    verified_at: datetime | None


class NonconformityList(BaseModel):
    items: list[Nonconformity] = Field(description="By audit, then number.")
