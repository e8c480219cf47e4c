"""The instance list's query and answers (issue 11): pydantic models for spectree."""

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from webapp.api.models import DEFAULT_PAGE, MAX_PAGE, NoNul, QueryInt, optional
from webapp.api.responses import Instance

InstanceStatus = Literal["running", "completed", "error", "terminated", "cancelled"]
_TIME = "ISO 8601 timestamp with a UTC offset (URL-encode the `+`)"


# RFC 3339 date-time, as the document's `format: date-time` says (pydantic alone would also take
# a number of seconds since 1970).
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def _rfc3339(value: Any) -> Any:
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError("an ISO 8601 timestamp with a UTC offset, e.g. 2026-03-01T09:00:00+08:00")
    return value


def _in_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError as err:  # e.g. 0001-01-01T00:00+01:00
        raise ValueError("the time lies outside the years 1 to 9999 in UTC") from err


UtcTime = Annotated[AwareDatetime, BeforeValidator(_rfc3339), AfterValidator(_in_utc)]


class InstanceQuery(BaseModel):
    """The instance list's filters; an empty parameter counts as absent. Ranges include their
    ends."""

    model_config = ConfigDict(extra="ignore")

    process: NoNul = optional(description="Process id.")
    business_key: NoNul = optional(description="Business key (exact).")
    status: InstanceStatus = optional(description="Instance status.")
    organisation: QueryInt(1) = optional(
        description="Organisation id: only the instances of its case."
    )
    started_from: UtcTime = optional(description=f"Started at or after; {_TIME}.")
    started_to: UtcTime = optional(description=f"Started at or before; {_TIME}.")
    ended_from: UtcTime = optional(description=f"Ended at or after; {_TIME}.")
    ended_to: UtcTime = optional(description=f"Ended at or before; {_TIME}.")
    limit: QueryInt(1) = Field(
        default=DEFAULT_PAGE,
        description=f"Page size; larger values than {MAX_PAGE} are capped at {MAX_PAGE}.",
    )
    offset: QueryInt(0) = Field(default=0, description="Instances to skip.")


class InstancePage(BaseModel):
    items: list[Instance]
    total: int = Field(description="Matching instances over all pages.")
    limit: int
    offset: int


class InstanceVariables(BaseModel):
    task_id: str | None = Field(
        description="The task whose data these are: the caller's latest visible task of the "
        "instance (open tasks first); null when the caller sees none."
    )
    element_id: str | None
    variables: dict[str, Any] = Field(
        description="The process variables at that task, as far as the caller may see them: "
        "staff all, a client its own form's fields and the variables declared for the task "
        "(processes/client_data.yaml, R-11)."
    )
