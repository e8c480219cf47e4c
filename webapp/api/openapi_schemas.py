"""The schemas of the OpenAPI document (webapp/api/openapi.py): request and response bodies.

The request-body schemas are also what the routes validate request bodies against
(webapp/api/parsing.py), so the document and the server cannot disagree about them. Response
schemas are checked against real responses in tests/test_api.py and by schemathesis.
"""

from collections.abc import Mapping
from typing import Any

from domain.attachments import ALLOWED_TYPES as ATTACHMENT_TYPES

API_PREFIX = "/api/v1"
MAX_INT32 = 2_147_483_647
MAX_PAGE = 200

# PostgreSQL cannot store NUL in text, so no string the API takes may hold one.
NO_NUL = "^[^\\x00]*$"


def _text(max_length: int, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": max_length, "pattern": NO_NUL, **extra}


# Any JSON object whose keys and strings hold no NUL (recursively); `$ref`s resolve against
# the document's components, which is also how json_body validates against these schemas.
_FREE_OBJECT_REF = {"$ref": "#/components/schemas/FreeObject"}
UPLOAD_TYPES = sorted(ATTACHMENT_TYPES)

# -- request bodies (validated by the routes with engine.forms.validate_form_data) --------------
START_INSTANCE: dict[str, Any] = {
    "type": "object",
    "required": ["process_id"],
    "properties": {
        "process_id": _text(200),
        "business_key": {**_text(200), "type": ["string", "null"]},
        "data": {
            **_FREE_OBJECT_REF,
            "description": "Initial process data, handed to the start event.",
        },
    },
    "additionalProperties": False,
}

COMPLETE_TASK: dict[str, Any] = {
    "type": "object",
    "properties": {
        "data": {
            **_FREE_OBJECT_REF,
            "description": "The form data; validated against the task's form_schema (422).",
        }
    },
    "additionalProperties": False,
}

REASSIGN_TASK: dict[str, Any] = {
    "type": "object",
    "required": ["assignee"],
    "properties": {
        "assignee": _text(
            80, description="Username of the new assignee; must hold the task's candidate role."
        )
    },
    "additionalProperties": False,
}

RETRY_INCIDENT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "data": {
            **_FREE_OBJECT_REF,
            "description": "Data merged into the failed task before it is run again.",
        }
    },
    "additionalProperties": False,
}

SEND_MESSAGE: dict[str, Any] = {
    "type": "object",
    "required": ["name", "correlation"],
    "properties": {
        "name": _text(200),
        "correlation": {
            "type": "object",
            "minProperties": 1,
            "properties": {
                "business_key": _text(200),
                "instance_id": {"type": "integer", "minimum": 1, "maximum": MAX_INT32},
            },
            "additionalProperties": False,
        },
        "payload": _FREE_OBJECT_REF,
    },
    "additionalProperties": False,
}

CHANGE_CLOCK: dict[str, Any] = {
    "type": "object",
    "description": "Exactly one of `set` and `advance`.",
    "minProperties": 1,
    "maxProperties": 1,
    "properties": {
        "set": {
            "type": "string",
            "maxLength": 64,
            "pattern": NO_NUL,
            "description": "ISO 8601 timestamp with a UTC offset, e.g. 2026-03-01T09:00:00+08:00.",
        },
        "advance": {
            "type": "string",
            "maxLength": 64,
            "pattern": NO_NUL,
            "description": "ISO 8601 duration, e.g. P30D, P1M, PT2H.",
        },
    },
    "additionalProperties": False,
}

# -- response bodies ------------------------------------------------------------------------------
_TIMESTAMP: dict[str, Any] = {"type": "string", "format": "date-time"}
_OPTIONAL_TIMESTAMP: dict[str, Any] = {"type": ["string", "null"], "format": "date-time"}
_OPTIONAL_STRING: dict[str, Any] = {"type": ["string", "null"]}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """An object schema whose listed properties are all required."""
    return {"type": "object", "required": list(properties), "properties": properties, **extra}


SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": {
                "type": "string",
                "description": "Kind of error: bad_request, unauthorized, forbidden, not_found, "
                "method_not_allowed, conflict, payload_too_large, validation_error, "
                "internal_error.",
            },
            "message": {"type": "string"},
        },
    },
    "ValidationError": {
        "allOf": [
            _ref("Error"),
            {
                "type": "object",
                "required": ["errors"],
                "properties": {
                    "errors": {
                        "type": "object",
                        "description": "Messages per field (a slash path such as "
                        '"correlation/instance_id"); "_body" holds errors of the body as a '
                        'whole, "required" marks a missing field.',
                        "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    }
                },
            },
        ]
    },
    "Process": _object(
        {
            "process_id": {"type": "string"},
            "name": {"type": "string"},
            "version": {"type": "integer"},
            "sha256": {"type": "string"},
            "deployed_at": _TIMESTAMP,
            "deployed_by": {"type": "string"},
        }
    ),
    "ProcessList": _object({"items": {"type": "array", "items": _ref("Process")}}),
    "Incident": _object(
        {
            "id": {"type": "integer"},
            "instance_id": {"type": "integer"},
            "task_id": {"type": "string"},
            "element_id": {"type": "string"},
            "error_type": {"type": "string"},
            "message": {"type": "string"},
            "attempts": {"type": "integer"},
            "status": {"type": "string", "enum": ["open", "resolved"]},
            "created_at": _TIMESTAMP,
            "resolved_at": _OPTIONAL_TIMESTAMP,
            "resolved_by": _OPTIONAL_STRING,
        }
    ),
    "Instance": _object(
        {
            "id": {"type": "integer"},
            "process_id": {"type": "string"},
            "version": {"type": "integer"},
            "business_key": _OPTIONAL_STRING,
            "status": {
                "type": "string",
                "enum": ["running", "completed", "error", "terminated", "cancelled"],
            },
            "active_element_ids": {"type": "array", "items": {"type": "string"}},
            "next_timer_at": _OPTIONAL_TIMESTAMP,
            "started_at": _TIMESTAMP,
            "started_by": {"type": "string"},
            "ended_at": _OPTIONAL_TIMESTAMP,
            "incidents": {
                "type": "array",
                "description": "The open incidents of the instance.",
                "items": _ref("Incident"),
            },
        }
    ),
    "Task": _object(
        {
            "id": {"type": "string", "description": "The task UUID."},
            "instance_id": {"type": "integer"},
            "process_id": {"type": "string"},
            "business_key": _OPTIONAL_STRING,
            "element_id": {"type": "string"},
            "name": {"type": "string"},
            "lane": _OPTIONAL_STRING,
            "candidate_role": _OPTIONAL_STRING,
            "assignee": _OPTIONAL_STRING,
            "state": {"type": "string", "enum": ["open", "completed", "cancelled"]},
            "form_file": _OPTIONAL_STRING,
            "created_at": _TIMESTAMP,
            "due_at": _OPTIONAL_TIMESTAMP,
            "follow_up_at": _OPTIONAL_TIMESTAMP,
            "completed_by": _OPTIONAL_STRING,
            "completed_at": _OPTIONAL_TIMESTAMP,
            "overdue": {
                "type": "boolean",
                "description": "Open and due_at lies before the application clock's now.",
            },
        }
    ),
    "TaskDetail": {
        "allOf": [
            _ref("Task"),
            _object(
                {
                    "form_schema": {
                        "type": ["object", "null"],
                        "description": "JSON Schema of the task's form; null without a form.",
                    },
                    "documentation": {"type": "string"},
                    "instructions": {
                        "type": "string",
                        "description": "Instructions for the end user (a Jinja template, as "
                        "written in the BPMN).",
                    },
                    "data": {"type": "object", "description": "The task's current data."},
                }
            ),
        ]
    },
    "TaskPage": _object(
        {
            "items": {"type": "array", "items": _ref("Task")},
            "total": {"type": "integer", "description": "Matching tasks over all pages."},
            "limit": {"type": "integer"},
            "offset": {"type": "integer"},
        }
    ),
    "MessageResult": _object(
        {
            "delivered_to": {
                "type": ["integer", "null"],
                "description": "The instance the message was delivered to at once.",
            },
            "queued_id": {
                "type": ["integer", "null"],
                "description": "The queued message, when no instance waited for it yet.",
            },
        }
    ),
    "Clock": _object({"now": _TIMESTAMP, "simulated": {"type": "boolean"}}),
    "ClockChange": _object(
        {
            "now": _TIMESTAMP,
            "simulated": {"type": "boolean"},
            "fired_instances": {
                "type": "array",
                "description": "Instances whose timers fired in the sweep after the change.",
                "items": {"type": "integer"},
            },
        }
    ),
    "Attachment": _object(
        {
            "id": {"type": "integer"},
            "kind": {"type": "string"},
            "filename": {"type": "string"},
            "content_type": {"type": "string"},
            "size": {"type": "integer"},
            "sha256": {"type": "string"},
            "organisation_id": {"type": ["integer", "null"]},
            "uploaded_by": {"type": "string"},
            "uploaded_at": _TIMESTAMP,
        }
    ),
    "JsonValue": {
        "description": "Any JSON value without NUL characters in its strings and keys.",
        "anyOf": [
            {"type": ["null", "boolean", "number"]},
            {"type": "string", "pattern": NO_NUL},
            {"type": "array", "items": _ref("JsonValue")},
            _ref("FreeObject"),
        ],
    },
    "FreeObject": {
        "type": "object",
        "description": "A JSON object without NUL characters in its strings and keys.",
        "propertyNames": {"pattern": NO_NUL},
        "additionalProperties": _ref("JsonValue"),
    },
    "StartInstance": START_INSTANCE,
    "CompleteTask": COMPLETE_TASK,
    "ReassignTask": REASSIGN_TASK,
    "RetryIncident": RETRY_INCIDENT,
    "SendMessage": SEND_MESSAGE,
    "ChangeClock": CHANGE_CLOCK,
}


def with_components(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A request-body schema made standalone: its `$ref`s resolve against the components."""
    return {**schema, "components": {"schemas": SCHEMAS}}
