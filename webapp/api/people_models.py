"""Request and answer models of the people resources (issue 11 "People"; R-7.2.2): users and
roles (admin), the auditor register (hr, admin). Pydantic models for spectree."""

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from certflow.roles import ROLE_IDS
from domain.auditor_register import FIELDS, LANGUAGES, LEVELS, RESULTS
from webapp.api.models import Id, RequestBody, Text, optional


def _iso_text(value: object) -> object:
    """A date is an ISO string in JSON; a number (lax pydantic: days since 1970) is refused."""
    if not isinstance(value, str):
        raise ValueError("an ISO date (YYYY-MM-DD) is expected")
    return value


Day = Annotated[
    date,
    Field(strict=False, description="ISO date (China calendar day)."),
    BeforeValidator(_iso_text),
]
RoleId = Literal[tuple(sorted(ROLE_IDS))]  # type: ignore[valid-type]
FieldCode = Literal[FIELDS]  # type: ignore[valid-type]
LanguageCode = Literal[LANGUAGES]  # type: ignore[valid-type]


# -- users (admin) -----------------------------------------------------------------------------
class CreateUser(RequestBody):
    username: Text(80) = Field(description="2–80 letters, digits, '.', '_' or '-'.")
    display_name: Text(200)
    password: Text(200) = Field(description="At least 10 characters.")
    roles: list[RoleId] = Field(min_length=1, max_length=20, description="From GET /roles.")
    organisation_id: Id = optional(
        description="A client user's organisation (required for the client role, R-11)."
    )


class UpdateUser(RequestBody):
    """Only the fields given change."""

    display_name: Text(200) = optional()
    roles: list[RoleId] = optional(description="Replaces the user's roles.")
    organisation_id: Id | None = optional(description="null: no organisation (staff).")
    active: bool = optional(description="false: the user can no longer sign in or use tokens.")


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    roles: list[str]
    organisation_id: int | None
    active: bool
    created_at: datetime


class UserList(BaseModel):
    items: list[UserOut]


class RoleOut(BaseModel):
    id: str
    name_zh: str
    name_en: str


class RoleList(BaseModel):
    items: list[RoleOut] = Field(description="The role catalogue.")


# -- the auditor register (hr, admin) ---------------------------------------------------
class RegisterAuditor(RequestBody):
    name: Text(100)
    is_technical_expert: bool = Field(default=False, description="R-7.2.4: advises only.")
    registration_number: Text(50) = optional(description="Required for auditors.")
    registration_expires_on: Day = optional(
        description="The registration's last valid day; required for auditors."
    )
    level: Literal[LEVELS] = optional(description="Required for auditors.")  # type: ignore
    team_leader_qualified: bool = False
    fields: list[FieldCode] = Field(default_factory=list, max_length=len(FIELDS))
    languages: list[LanguageCode] = Field(
        min_length=1, max_length=len(LANGUAGES), description="Working languages (R-7.2.1(4))."
    )
    username: Text(80) = optional(description="The person's certflow account, if any.")


class RecordEvaluation(RequestBody):
    evaluated_on: Day
    evaluator: Text(200)
    result: Literal[RESULTS]  # type: ignore[valid-type]
    note: Annotated[str, Field(max_length=4000, pattern="^[^\\x00]*$")] = Field(
        default="", description="Required when the result is not_qualified."
    )
    team_leader_qualified: bool = optional(description="What HR found; absent: unchanged.")
    fields: list[FieldCode] = optional(description="What HR found; absent: unchanged.")
    languages: list[LanguageCode] = optional(description="What HR found; absent: unchanged.")


class RenewRegistration(RequestBody):
    expires_on: Day = Field(
        description="The new last valid day: after the current one, within 3 years of the "
        "latest (positive) evaluation (R-7.2.2)."
    )
    registration_number: Text(50) = optional(description="A new number, if it changed.")


class AuditorEventOut(BaseModel):
    id: int
    kind: Literal["registered", "evaluated", "renewed"]
    on_date: date
    result: Literal[RESULTS] | None  # type: ignore[valid-type]
    evaluator: str
    note: str
    expires_before: date | None
    expires_after: date | None
    evaluation_id: int | None = Field(description="The evaluation a renewal rests on.")
    recorded_by: str
    recorded_at: datetime


class AuditorOut(BaseModel):
    id: int
    name: str
    username: str | None
    is_technical_expert: bool
    registration_number: str | None
    registration_expires_on: date | None = Field(description="The last valid day.")
    registration_valid: bool = Field(description="Valid today (China date).")
    level: str | None
    team_leader_qualified: bool
    fields: list[str]
    languages: list[str]
    latest_evaluation: AuditorEventOut | None
    renewal_refused: str | None = Field(
        description="Why a renewal would be refused now (R-7.2.2), or null."
    )


class AuditorDetail(AuditorOut):
    history: list[AuditorEventOut] = Field(description="Oldest first.")


class AuditorList(BaseModel):
    items: list[AuditorOut]


class AuditorQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    expiring: Literal["true", "false"] = optional(
        description="true: only auditors whose registration has lapsed or ends within 90 days."
    )
