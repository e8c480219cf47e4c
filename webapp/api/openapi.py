"""The OpenAPI 3.1 description of the JSON API v1, written by hand.

The schemas live in webapp/api/openapi_schemas.py; the request-body schemas there are also what
the routes validate request bodies against, so the document and the server cannot disagree about
them. Response schemas are checked against real responses in tests/test_api.py and by
schemathesis (tests/test_api_schemathesis.py).
"""

import copy
from typing import Any

from certflow.roles import ROLE_IDS
from domain.attachments import KINDS as ATTACHMENT_KINDS
from webapp.api.openapi_schemas import (  # noqa: F401  (re-exported: the routes use openapi.X)
    API_PREFIX,
    CHANGE_CLOCK,
    COMPLETE_TASK,
    MAX_INT32,
    MAX_PAGE,
    NO_NUL,
    REASSIGN_TASK,
    RETRY_INCIDENT,
    SCHEMAS,
    SEND_MESSAGE,
    START_INSTANCE,
    UPLOAD_TYPES,
    with_components,
)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


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
        "Malformed JSON, or a body or parameter of the wrong shape or type (NUL characters "
        "included).",
        "ValidationError",
    ),
    "PayloadTooLarge": _error_response("The request body is larger than the server accepts."),
}


def _unprocessable(also: str) -> dict[str, Any]:
    """422 for a malformed body and for one more reason the document's schemas cannot express."""
    return {
        "422": _error_response(
            f"Malformed JSON or a body of the wrong shape or type (NUL characters included); "
            f"or {also}",
            "ValidationError",
        )
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
        413: "PayloadTooLarge",
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
    """An optional query parameter; given empty (`role=`, as an HTML form sends it) it is absent."""
    return {
        "name": name,
        "in": "query",
        "required": False,
        "allowEmptyValue": True,
        "description": description + " Empty means absent.",
        "schema": schema,
    }


_ID: dict[str, Any] = {"type": "integer", "minimum": 1, "maximum": MAX_INT32}
_INSTANCE_ID = _path_param("instance_id", _ID, "Instance id.")
_TASK_ID = _path_param("task_id", {"type": "string", "format": "uuid"}, "Task UUID.")
_INCIDENT_ID = _path_param("incident_id", _ID, "Incident id.")
_ATTACHMENT_ID = _path_param("attachment_id", _ID, "Attachment id.")

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
fails the task form's JSON Schema). A missing field reads `"required"`. No string may contain a NUL
character. An empty query parameter (`role=`) counts as absent.

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
        {"name": "attachments"},
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
                "the process is not deployed; 409 when the business key is taken.",
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
                    **_errors(400, 401, 403, 404, 409, 413),
                    **_unprocessable(
                        "the user may not pass a business_key (clients), or the data fails the "
                        "start form."
                    ),
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
                        "1 or true: only tasks assigned to me.",
                    ),
                    _query(
                        "role",
                        {"type": "string", "enum": sorted(ROLE_IDS)},
                        "Only tasks of this candidate role; it must be one of my roles "
                        "(403 otherwise) unless I am admin or quality_manager.",
                    ),
                    _query("instance", _ID, "Instance id."),
                    _query("business_key", {"type": "string", "pattern": NO_NUL}, "Business key."),
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
                        {"type": "integer", "minimum": 1, "maximum": MAX_INT32, "default": 50},
                        f"Page size; larger values than {MAX_PAGE} are capped at {MAX_PAGE}.",
                    ),
                    _query(
                        "offset",
                        {"type": "integer", "minimum": 0, "maximum": MAX_INT32, "default": 0},
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
                    **_errors(400, 401, 403, 404, 409, 413),
                    **_unprocessable("the data fails the task's form_schema (errors per field)."),
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
                    **_errors(400, 401, 403, 404, 409, 413),
                    **_unprocessable(
                        "the assignee is no active user (told to supervisors only; others get 403)."
                    ),
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
                    **_errors(401, 403, 404, 409, 413, 422),
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
                    **_errors(400, 401, 403, 409, 413, 422),
                },
            }
        },
        "/attachments": {
            "post": {
                "operationId": "uploadAttachment",
                "tags": ["attachments"],
                "summary": "Upload a file (multipart/form-data: file, kind); form fields of "
                "format `attachment` then name its id.",
                "description": "At most 20 MB, not empty; PDF, images, text, Office documents "
                "(the file part's Content-Type; a part without one, or with "
                "application/octet-stream, is typed by its filename's extension). Other form "
                "fields are ignored. A client's upload belongs to its organisation.",
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file", "kind"],
                                "properties": {
                                    "file": {"type": "string", "format": "binary", "minLength": 1},
                                    "kind": {"type": "string", "enum": sorted(ATTACHMENT_KINDS)},
                                },
                            },
                            "encoding": {"file": {"contentType": ", ".join(UPLOAD_TYPES)}},
                        }
                    },
                },
                "responses": {
                    **_ok("The stored file.", "Attachment", status="201"),
                    **_errors(401, 409, 413),
                    **_unprocessable(
                        "the file is empty, larger than 20 MB or of a type not accepted."
                    ),
                },
            }
        },
        "/attachments/{attachment_id}": {
            "parameters": [_ATTACHMENT_ID],
            "get": {
                "operationId": "downloadAttachment",
                "tags": ["attachments"],
                "summary": "Download a file: its uploader, its organisation's users, or staff.",
                "responses": {
                    "200": {
                        "description": "The file's bytes, sent with the type it was stored with, "
                        "as an attachment (Content-Disposition) under its filename.",
                        "content": {
                            media_type: {"schema": {"type": "string", "format": "binary"}}
                            for media_type in UPLOAD_TYPES
                        },
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
                    **_errors(401, 403, 409, 413),
                    **_unprocessable(
                        "`set` is no timestamp with an offset, `advance` no ISO 8601 duration, or "
                        "the result lies outside the years 1 to 9999."
                    ),
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
