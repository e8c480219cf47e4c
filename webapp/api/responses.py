"""The JSON API's answers as pydantic models, from which the document's response schemas come.

They describe what the serializers of webapp/api/routes.py send; tests/api/test_api.py checks real
answers against the generated schemas and schemathesis checks every answer it provokes.
"""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class Error(BaseModel):
    error: str = Field(
        description="Kind of error: bad_request, unauthorized, forbidden, not_found, "
        "method_not_allowed, conflict, payload_too_large, validation_error, internal_error."
    )
    message: str


class FieldErrorDetail(BaseModel):
    path: str = Field(description="The field's slash path, as the key of `errors`.")
    validator: str | None = Field(
        description="The JSON Schema keyword that failed (required, minimum, format, …); null "
        "for a finding of the process's own rules (e.g. R-9.3)."
    )
    validator_value: Any = Field(description="The keyword's value in the form schema.")
    message: str = Field(description="The engine's text, as in `errors`.")


class ValidationError(Error):
    errors: dict[str, list[str]] = Field(
        description='Messages per field (a slash path such as "correlation/instance_id"); '
        '"_body" holds errors of the body as a whole, "required" marks a missing field.'
    )
    details: dict[str, list[FieldErrorDetail]] | None = Field(
        default=None,
        description="When task data fails the task's form or rules: per field, the failed rule "
        "of each message of `errors`, for wording it in the reader's language.",
    )


class Process(BaseModel):
    process_id: str
    name: str
    version: int
    sha256: str
    deployed_at: datetime
    deployed_by: str


class ProcessList(BaseModel):
    items: list[Process]


class Incident(BaseModel):
    id: int
    instance_id: int
    task_id: str
    element_id: str
    error_type: str
    message: str
    attempts: int
    status: Literal["open", "resolved"]
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None


class Instance(BaseModel):
    id: int
    process_id: str
    version: int
    business_key: str | None
    status: Literal["running", "completed", "error", "terminated", "cancelled"]
    active_element_ids: list[str]
    next_timer_at: datetime | None
    started_at: datetime
    started_by: str
    ended_at: datetime | None
    incidents: list[Incident] = Field(description="The open incidents of the instance.")


class Task(BaseModel):
    id: str = Field(description="The task UUID.")
    instance_id: int
    process_id: str
    business_key: str | None
    element_id: str
    name: str
    lane: str | None
    candidate_role: str | None
    assignee: str | None
    state: Literal["open", "completed", "cancelled"]
    form_file: str | None
    created_at: datetime
    due_at: datetime | None
    follow_up_at: datetime | None
    completed_by: str | None
    completed_at: datetime | None
    overdue: bool = Field(description="Open and due_at lies before the application clock's now.")


class TaskDetail(Task):
    form_schema: dict[str, Any] | None = Field(
        description="JSON Schema of the task's form; null without a form."
    )
    documentation: str
    instructions: str = Field(
        description="Instructions for the end user as markdown, filled with the case's values"
        " (the case number and organisation, the task's data as the caller may see it) — the text"
        " the task page shows; in English with `Accept-Language: en`, like the names and the"
        " form's texts."
    )
    instructions_html: str = Field(
        description="The same instructions rendered as the task page shows them (HTML without"
        " raw HTML from the text or the data)."
    )
    data: dict[str, Any] = Field(description="The task's current data.")


class TaskPage(BaseModel):
    items: list[Task]
    total: int = Field(description="Matching tasks over all pages.")
    limit: int
    offset: int


class MessageResult(BaseModel):
    delivered_to: int | None = Field(
        description="The instance the message was delivered to at once."
    )
    queued_id: int | None = Field(
        description="The queued message, when no instance waited for it yet."
    )


class Clock(BaseModel):
    now: datetime
    simulated: bool


class ClockChange(Clock):
    fired_instances: list[int] = Field(
        description="Instances whose timers fired in the sweep after the change."
    )


class Attachment(BaseModel):
    id: int
    kind: str
    filename: str
    content_type: str
    size: int
    sha256: str
    organisation_id: int | None
    uploaded_by: str
    uploaded_at: datetime


class OpenApiDocument(BaseModel):
    """This document."""
