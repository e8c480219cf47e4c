"""The OpenAPI 3.1 description of the JSON API v1, written by hand.

The request-body schemas below are also what the routes validate request bodies against, so the
document and the server cannot disagree about them. Response schemas are checked against real
responses in tests/test_api.py.
"""

import copy
from typing import Any

from domain.attachments import KINDS as ATTACHMENT_KINDS

API_PREFIX = "/api/v1"
MAX_INT32 = 2_147_483_647

# -- request bodies (validated by the routes with engine.forms.validate_form_data) --------------
START_INSTANCE: dict[str, Any] = {
    "type": "object",
    "required": ["process_id"],
    "properties": {
        "process_id": {"type": "string", "minLength": 1, "maxLength": 200},
        "business_key": {"type": ["string", "null"], "minLength": 1, "maxLength": 200},
        "data": {
            "type": "object",
            "description": "Initial process data, handed to the start event.",
        },
    },
    "additionalProperties": False,
}

COMPLETE_TASK: dict[str, Any] = {
    "type": "object",
    "properties": {
        "data": {
            "type": "object",
            "description": "The form data; validated against the task's form_schema.",
        }
    },
    "additionalProperties": False,
}

REASSIGN_TASK: dict[str, Any] = {
    "type": "object",
    "required": ["assignee"],
    "properties": {
        "assignee": {
            "type": "string",
            "minLength": 1,
            "maxLength": 80,
            "description": "Username of the new assignee; must hold the task's candidate role.",
        }
    },
    "additionalProperties": False,
}

RETRY_INCIDENT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "data": {
            "type": "object",
            "description": "Data merged into the failed task before it is run again.",
        }
    },
    "additionalProperties": False,
}

SEND_MESSAGE: dict[str, Any] = {
    "type": "object",
    "required": ["name", "correlation"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "correlation": {
            "type": "object",
            "minProperties": 1,
            "properties": {
                "business_key": {"type": "string", "minLength": 1, "maxLength": 200},
                "instance_id": {"type": "integer", "minimum": 1, "maximum": MAX_INT32},
            },
            "additionalProperties": False,
        },
        "payload": {"type": "object"},
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
            "description": "ISO 8601 timestamp with a UTC offset, e.g. 2026-03-01T09:00:00+08:00.",
        },
        "advance": {
            "type": "string",
            "maxLength": 64,
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
                "method_not_allowed, conflict, validation_error, internal_error.",
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
    "StartInstance": START_INSTANCE,
    "CompleteTask": COMPLETE_TASK,
    "ReassignTask": REASSIGN_TASK,
    "RetryIncident": RETRY_INCIDENT,
    "SendMessage": SEND_MESSAGE,
    "ChangeClock": CHANGE_CLOCK,
}


def _error_response(description: str, schema: str = "Error", **extra: Any) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": _ref(schema)}},
        **extra,
    }


RESPONSES: dict[str, Any] = {
    "BadRequest": _error_response("The engine refused the request."),
    "Unauthorized": _error_response(
        "No bearer token, or an invalid or revoked one.",
        headers={
            "WWW-Authenticate": {
                "description": "Always starts with `Bearer`.",
                "schema": {"type": "string"},
            }
        },
    ),
    "Forbidden": _error_response("The user lacks the role this needs."),
    "NotFound": _error_response("No such object, or the user may not see it."),
    "Conflict": _error_response(
        "The object is in the wrong state or was changed concurrently; reload and retry."
    ),
    "ValidationFailed": _error_response(
        "Malformed JSON, or a body or parameter of the wrong shape or type.", "ValidationError"
    ),
}


def _ok(description: str, schema: str, status: str = "200", **extra: Any) -> dict[str, Any]:
    return {
        status: {
            "description": description,
            "content": {"application/json": {"schema": _ref(schema)}},
            **extra,
        }
    }


def _errors(*statuses: int) -> dict[str, Any]:
    names = {
        400: "BadRequest",
        401: "Unauthorized",
        403: "Forbidden",
        404: "NotFound",
        409: "Conflict",
        422: "ValidationFailed",
    }
    return {str(s): {"$ref": f"#/components/responses/{names[s]}"} for s in statuses}


def _body(schema: str, *, required: bool = True) -> dict[str, Any]:
    return {
        "required": required,
        "content": {"application/json": {"schema": _ref(schema)}},
    }


def _path_param(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema,
    }


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


_INSTANCE_ID = _path_param("instance_id", {"type": "integer", "minimum": 1}, "Instance id.")
_TASK_ID = _path_param("task_id", {"type": "string"}, "Task UUID.")
_INCIDENT_ID = _path_param("incident_id", {"type": "integer", "minimum": 1}, "Incident id.")

DESCRIPTION = """\
The programmatic interface of certflow: start process instances, work on human tasks, send
messages to waiting instances, retry incidents and (with the simulated clock) move time.

**Authentication.** Every operation except `GET /openapi.json` needs an API token:
`Authorization: Bearer <token>` (tokens are issued per user with `certflow`'s account tools).
Without a valid token the answer is `401` with `WWW-Authenticate: Bearer`. What a user may see and
do follows the roles of the token's user.

**CSRF.** The API authenticates every request by its bearer token alone and never by a cookie or
session, so a browser cannot be tricked into sending authenticated requests: CSRF protection does
not apply to it and no CSRF token is expected.

**Errors.** Every error is JSON: `{"error": "<kind>", "message": "..."}`; `422` adds
`"errors": {field: [messages]}` (malformed JSON, a body of the wrong shape, or task data that
fails the task form's JSON Schema). A missing field reads `"required"`.

**Time.** Timestamps are ISO 8601 in UTC with an explicit offset (`+00:00`). "Now" is the
application clock, which may be simulated.
"""

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
    "info": {
        "title": "certflow API",
        "version": "1.0.0",
        "summary": "Workflow system of a service-certification body (BPMN on SpiffWorkflow).",
        "description": DESCRIPTION,
    },
    "servers": [{"url": API_PREFIX}],
    "security": [{"bearerAuth": []}],
    "tags": [
        {"name": "processes"},
        {"name": "instances"},
        {"name": "tasks"},
        {"name": "incidents"},
        {"name": "messages"},
        {"name": "clock"},
        {"name": "meta"},
    ],
    "paths": {
        "/openapi.json": {
            "get": {
                "operationId": "getOpenApi",
                "tags": ["meta"],
                "summary": "This document.",
                "security": [],
                "responses": {
                    "200": {
                        "description": "The OpenAPI document.",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
        "/processes": {
            "get": {
                "operationId": "listProcesses",
                "tags": ["processes"],
                "summary": "The latest deployed version of every process.",
                "responses": {
                    **_ok("The processes, ordered by process id.", "ProcessList"),
                    **_errors(401),
                },
            }
        },
        "/instances": {
            "post": {
                "operationId": "startInstance",
                "tags": ["instances"],
                "summary": "Start an instance of the latest version of a process.",
                "description": "Needs a role of the start event's lane (403 otherwise); 404 when "
                "the process is not deployed.",
                "requestBody": _body("StartInstance"),
                "responses": {
                    **_ok(
                        "The new instance.",
                        "Instance",
                        "201",
                        headers={
                            "Location": {
                                "description": "URL of the new instance.",
                                "schema": {"type": "string"},
                            }
                        },
                    ),
                    **_errors(400, 401, 403, 404, 422),
                },
            }
        },
        "/instances/{instance_id}": {
            "parameters": [_INSTANCE_ID],
            "get": {
                "operationId": "getInstance",
                "tags": ["instances"],
                "summary": "One instance with its open incidents.",
                "description": "Visible to admin, quality_manager and process_owner, to the user "
                "who started it, and to users who hold the candidate role of, or were assigned or "
                "completed, any of its human tasks. Others get 404.",
                "responses": {**_ok("The instance.", "Instance"), **_errors(401, 404)},
            },
        },
        "/tasks": {
            "get": {
                "operationId": "listTasks",
                "tags": ["tasks"],
                "summary": "Human tasks the user may see, oldest first.",
                "description": "admin and quality_manager see every task; other users see the "
                "tasks of their roles and the tasks assigned to or completed by them.",
                "parameters": [
                    _query(
                        "mine",
                        {"type": "string", "enum": ["1", "0", "true", "false"]},
                        "1: only tasks assigned to me.",
                    ),
                    _query(
                        "role",
                        {"type": "string"},
                        "Only tasks of this candidate role; it must be one of my roles "
                        "(403 otherwise) unless I am admin or quality_manager.",
                    ),
                    _query("instance", {"type": "integer", "minimum": 1}, "Instance id."),
                    _query("business_key", {"type": "string"}, "Business key."),
                    _query(
                        "state",
                        {
                            "type": "string",
                            "enum": ["open", "completed", "cancelled", "all"],
                            "default": "open",
                        },
                        "Task state.",
                    ),
                    _query(
                        "limit",
                        {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
                        "Page size; larger values are capped at 200.",
                    ),
                    _query(
                        "offset",
                        {"type": "integer", "minimum": 0, "default": 0},
                        "Tasks to skip.",
                    ),
                ],
                "responses": {**_ok("One page of tasks.", "TaskPage"), **_errors(401, 403, 422)},
            }
        },
        "/tasks/{task_id}": {
            "parameters": [_TASK_ID],
            "get": {
                "operationId": "getTask",
                "tags": ["tasks"],
                "summary": "One task with its form schema, documentation and data.",
                "responses": {**_ok("The task.", "TaskDetail"), **_errors(401, 404)},
            },
        },
        "/tasks/{task_id}/claim": {
            "parameters": [_TASK_ID],
            "post": {
                "operationId": "claimTask",
                "tags": ["tasks"],
                "summary": "Claim an open task of one of my roles.",
                "responses": {
                    **_ok("The claimed task.", "Task"),
                    **_errors(401, 403, 404, 409),
                },
            },
        },
        "/tasks/{task_id}/unclaim": {
            "parameters": [_TASK_ID],
            "post": {
                "operationId": "unclaimTask",
                "tags": ["tasks"],
                "summary": "Give a claimed task back to its role (assignee or admin).",
                "responses": {
                    **_ok("The task, now unassigned.", "Task"),
                    **_errors(401, 403, 404, 409),
                },
            },
        },
        "/tasks/{task_id}/complete": {
            "parameters": [_TASK_ID],
            "post": {
                "operationId": "completeTask",
                "tags": ["tasks"],
                "summary": "Complete a task with its form data; the instance moves on.",
                "description": "422 with field errors when the data fails the form's JSON "
                "Schema; 409 when the task is no longer open or is claimed by someone else; 403 "
                "without the task's candidate role.",
                "requestBody": _body("CompleteTask", required=False),
                "responses": {
                    **_ok("The instance after the task.", "Instance"),
                    **_errors(400, 401, 403, 404, 409, 422),
                },
            },
        },
        "/tasks/{task_id}/reassign": {
            "parameters": [_TASK_ID],
            "post": {
                "operationId": "reassignTask",
                "tags": ["tasks"],
                "summary": "Assign a task to another user (supervisors only).",
                "description": "403 unless admin; 422 when the user is unknown; 400 when the "
                "user lacks the task's candidate role.",
                "requestBody": _body("ReassignTask"),
                "responses": {
                    **_ok("The reassigned task.", "Task"),
                    **_errors(400, 401, 403, 404, 409, 422),
                },
            },
        },
        "/incidents/{incident_id}/retry": {
            "parameters": [_INCIDENT_ID],
            "post": {
                "operationId": "retryIncident",
                "tags": ["incidents"],
                "summary": "Run a failed task again (admin, process_owner).",
                "description": "Answers 200 also when the task fails again: the incident then "
                "stays open with one more attempt.",
                "requestBody": _body("RetryIncident", required=False),
                "responses": {
                    **_ok("The incident after the retry.", "Incident"),
                    **_errors(401, 403, 404, 409, 422),
                },
            },
        },
        "/messages": {
            "post": {
                "operationId": "sendMessage",
                "tags": ["messages"],
                "summary": "Send a BPMN message to the instance that waits for it.",
                "description": "Delivered at once to the first running instance that waits for "
                "the message and matches the correlation; otherwise queued until one does. Any "
                "staff role may send (clients get 403).",
                "requestBody": _body("SendMessage"),
                "responses": {
                    **_ok("Delivered or queued.", "MessageResult", "202"),
                    **_errors(400, 401, 403, 422),
                },
            }
        },
        "/attachments": {
            "post": {
                "operationId": "uploadAttachment",
                "tags": ["attachments"],
                "summary": "Upload a file (multipart/form-data: file, kind); form fields of "
                "format `attachment` then name its id.",
                "description": "At most 20 MB; PDF, images, text, Office documents. A client's "
                "upload belongs to its organisation.",
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file", "kind"],
                                "properties": {
                                    "file": {"type": "string", "format": "binary"},
                                    "kind": {
                                        "type": "string",
                                        "enum": sorted(ATTACHMENT_KINDS),
                                    },
                                },
                            }
                        }
                    },
                },
                "responses": {
                    **_ok("The stored file.", "Attachment", status="201"),
                    **_errors(401, 422),
                },
            }
        },
        "/attachments/{attachment_id}": {
            "parameters": [_path_param("attachment_id", {"type": "integer"}, "The attachment id.")],
            "get": {
                "operationId": "downloadAttachment",
                "tags": ["attachments"],
                "summary": "Download a file: its uploader, its organisation's users, or staff.",
                "responses": {
                    "200": {
                        "description": "The file's bytes.",
                        "content": {"application/octet-stream": {}},
                    },
                    **_errors(401, 404),
                },
            },
        },
        "/clock": {
            "get": {
                "operationId": "getClock",
                "tags": ["clock"],
                "summary": "The application clock.",
                "responses": {**_ok("Now.", "Clock"), **_errors(401)},
            },
            "post": {
                "operationId": "changeClock",
                "tags": ["clock"],
                "summary": "Set or advance the simulated clock (admin), then fire due timers.",
                "description": "409 when the application runs on the real clock.",
                "requestBody": _body("ChangeClock"),
                "responses": {
                    **_ok("The new time and the instances whose timers fired.", "ClockChange"),
                    **_errors(401, 403, 409, 422),
                },
            },
        },
    },
    "components": {
        "securitySchemes": {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "description": "A certflow API token.",
            }
        },
        "schemas": SCHEMAS,
        "responses": RESPONSES,
    },
}


# Idempotency-Key on the creating requests (webapp/api/idempotency.py).
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Retry safely: the same key from the same user with the same body returns the "
    "first answer (header `Idempotent-Replayed: true`) without doing the work again; the same "
    "key with another body → 422; while the first request runs → 409. Keys expire after 24 h.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
}
for _path in ("/instances", "/messages", "/attachments"):
    _operation = DOCUMENT["paths"][_path]["post"]
    _operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY)
    _operation["responses"].update({**_errors(409, 422)})


def document() -> dict[str, Any]:
    """A fresh copy of the OpenAPI document (callers may not change the original)."""
    return copy.deepcopy(DOCUMENT)
