"""The JSON API's request and response bodies as pydantic models: the one place of their shape.

The OpenAPI document (webapp/api/openapi.py) is generated from these models by spectree, and the
routes validate requests with them (webapp/api/parsing.py). Every limit (lengths, bounds, the NUL
rule) is declared here once. Responses are described, not re-validated at run time: tests
(tests/api/test_api.py's assert_schema, schemathesis) check real answers against the document.
"""

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from certflow.roles import ROLE_IDS
from domain.complaints import KINDS as COMPLAINT_KINDS
from domain.complaints import MAX_LENGTHS as COMPLAINT_LENGTHS

API_PREFIX = "/api/v1"
MAX_INT32 = 2_147_483_647  # ids beyond the integer columns cannot exist
MAX_PAGE = 200  # larger page sizes are valid and capped
DEFAULT_PAGE = 50

# PostgreSQL cannot store NUL in text, so no string the API takes may hold one.
NO_NUL = "^[^\\x00]*$"
NoNul = Annotated[str, StringConstraints(pattern=NO_NUL)]


def Text(max_length: int) -> Any:  # noqa: N802  (reads as a type)
    return Annotated[str, StringConstraints(min_length=1, max_length=max_length, pattern=NO_NUL)]


def _integral_float_as_int(value: Any) -> Any:
    """JSON Schema counts 1.0 as an integer; hand the engine an int (strings stay refused)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Id = Annotated[int, Field(strict=True, ge=1, le=MAX_INT32), BeforeValidator(_integral_float_as_int)]


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def optional(**kwargs: Any) -> Any:
    """A field that may be left out (not null): the document shows no `null` default."""
    return Field(default=None, json_schema_extra=_no_default, **kwargs)


# -- free JSON data (process data, message payloads) -------------------------------------------
_JSON_VALUE = {
    "description": "Any JSON value without NUL characters in its strings and keys.",
    "anyOf": [
        {"type": ["null", "boolean", "number"]},
        {"type": "string", "pattern": NO_NUL},
        {"type": "array", "items": {"$ref": "#/components/schemas/JsonValue"}},
        {"$ref": "#/components/schemas/FreeObject"},
    ],
}
_FREE_OBJECT = {
    "type": "object",
    "description": "A JSON object without NUL characters in its strings and keys.",
    "propertyNames": {"pattern": NO_NUL},
    "additionalProperties": {"$ref": "#/components/schemas/JsonValue"},
}
# Component schemas the FreeObject type refers to (recursive, so described by hand once).
FREE_JSON_SCHEMAS = {"JsonValue": _JSON_VALUE, "FreeObject": _FREE_OBJECT}


FREE_OBJECT_MARK = "x-certflow-free-object"  # replaced by a $ref to FreeObject in the document


def _free_object(description: str) -> Any:
    # NUL anywhere in the body is refused before the model runs (parsing.read_json_body). The
    # schema is a mark that openapi.py turns into a $ref (pydantic resolves every $ref itself).
    return Annotated[
        dict[str, Any],
        Field(strict=True),
        WithJsonSchema({FREE_OBJECT_MARK: True, "description": description}),
    ]


# -- request bodies -----------------------------------------------------------------------------
class RequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


def body_model(name: str) -> type[RequestBody]:
    """A request body model by its schema name, here or in a resource's models module."""
    found: list[type[RequestBody]] = [RequestBody]
    for cls in found:
        found.extend(cls.__subclasses__())
    return next(cls for cls in found if cls.__name__ == name)


class StartInstance(RequestBody):
    process_id: Text(200)
    business_key: Text(200) | None = optional()
    data: _free_object("Initial process data, handed to the start event.") = optional()


class CompleteTask(RequestBody):
    data: _free_object("The form data; validated against the task's form_schema (422).") = (
        optional()
    )


class ReassignTask(RequestBody):
    assignee: Text(80) = Field(
        description="Username of the new assignee; must hold the task's candidate role."
    )


class RetryIncident(RequestBody):
    data: _free_object("Data merged into the failed task before it is run again.") = optional()


class Correlation(RequestBody):
    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    business_key: Text(200) = optional()
    instance_id: Id = optional()

    @model_validator(mode="after")
    def _one_at_least(self) -> "Correlation":
        if self.business_key is None and self.instance_id is None:
            raise ValueError("give business_key or instance_id")
        return self


class SendMessage(RequestBody):
    name: Text(200)
    correlation: Correlation
    payload: _free_object("The message payload, handed to the waiting instance.") = optional()


class RegisterComplaint(RequestBody):
    """A complaint or appeal (R-12), registered as on the web (webapp/api/complaints.py)."""

    kind: Literal[COMPLAINT_KINDS] = Field(  # type: ignore[valid-type]
        description="about_client (a certified organisation's service; names its certificate), "
        "about_cb (the certification body or its auditors), appeal (against a decision). "
        "A client may register about_cb and appeal only."
    )
    complainant_name: Text(COMPLAINT_LENGTHS["complainant_name"])
    complainant_contact: Text(COMPLAINT_LENGTHS["complainant_contact"])
    subject: Text(COMPLAINT_LENGTHS["subject"])
    description: Text(COMPLAINT_LENGTHS["description"])
    certificate_number: Text(COMPLAINT_LENGTHS["certificate_number"]) = optional(
        description="The certificate concerned (required for about_client)."
    )


_CLOCK_TEXT = Annotated[str, StringConstraints(max_length=64, pattern=NO_NUL)]


class ChangeClock(RequestBody):
    """Exactly one of `set` and `advance`."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1, "maxProperties": 1})

    set: _CLOCK_TEXT = optional(
        description="ISO 8601 timestamp with a UTC offset, e.g. 2026-03-01T09:00:00+08:00."
    )
    advance: _CLOCK_TEXT = optional(description="ISO 8601 duration, e.g. P30D, P1M, PT2H.")

    @model_validator(mode="after")
    def _exactly_one(self) -> "ChangeClock":
        if (self.set is None) == (self.advance is None):
            raise ValueError("give exactly one of set and advance")
        return self


# -- query parameters ---------------------------------------------------------------------------
_QUERY_INTEGER = re.compile(r"-?[0-9]+(?:\.0+)?")


def _query_integer(value: Any) -> Any:
    """Query integers are plain decimal digits — not ' 1', '+1' or other scripts' digits — and,
    as in JSON Schema (where 2.0 is an integer), may end in a zero fraction."""
    if isinstance(value, str) and _QUERY_INTEGER.fullmatch(value):
        return int(value.split(".")[0])
    return value


def QueryInt(minimum: int) -> Any:  # noqa: N802  (reads as a type)
    return Annotated[
        int, Field(strict=True, ge=minimum, le=MAX_INT32), BeforeValidator(_query_integer)
    ]


class TaskQuery(BaseModel):
    """The task list's filters; an empty parameter (`role=`) counts as absent."""

    model_config = ConfigDict(extra="ignore")

    mine: Literal["1", "0", "true", "false"] = optional(
        description="1 or true: only tasks assigned to me."
    )
    role: Literal[tuple(sorted(ROLE_IDS))] = optional(  # type: ignore[valid-type]
        description="Only tasks of this candidate role; it must be one of my roles "
        "(403 otherwise) unless I am admin or quality_manager."
    )
    instance: QueryInt(1) = optional(description="Instance id.")
    business_key: NoNul = optional(description="Business key.")
    state: Literal["open", "completed", "cancelled", "all"] = Field(
        default="open", description="Task state."
    )
    limit: QueryInt(1) = Field(
        default=DEFAULT_PAGE,
        description=f"Page size; larger values than {MAX_PAGE} are capped at {MAX_PAGE}.",
    )
    offset: QueryInt(0) = Field(default=0, description="Tasks to skip.")

    @property
    def only_mine(self) -> bool:
        return self.mine in ("1", "true")
