"""The OpenAPI document of the JSON API v1: spectree's paths and schemas (from the routes'
declarations, webapp/api/openapi.py) plus what the code does not state per route: the API-wide
rules of webapp/api/parsing.py (empty query parameters, optional empty bodies), the headers the
API sends, the Idempotency-Key, the multipart upload and binary download (which spectree cannot
describe) and the recursive free-JSON schemas.

Kept apart from openapi.py (which the route modules import): building the document needs the
routes registered on the blueprint, and importing this module runs the package's __init__
first, which registers them — so no route module imports this one (no import cycle).
"""

import copy
from functools import cache
from typing import Any

from flask import Flask
from pydantic import BaseModel, ValidationError

from domain.attachments import KINDS as ATTACHMENT_KINDS
from webapp.api import models
from webapp.api.blueprint import bp
from webapp.api.models import API_PREFIX, FREE_JSON_SCHEMAS, FREE_OBJECT_MARK
from webapp.api.openapi import TAGS, UPLOAD_TYPES, api_spec

# -- the document -------------------------------------------------------------------------------
# webapp/api/idempotency.py
IDEMPOTENT = ("/instances", "/messages", "/attachments", "/complaints", "/complaints/public")
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Retry safely: the same key from the same user with the same body returns the "
    "first answer (header `Idempotent-Replayed: true`) without doing the work again; the same "
    "key with another body → 422; while the first request runs → 409. Keys expire after 24 h.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
}
UPLOAD_BODY = {
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
}
DOWNLOAD_CONTENT = {
    media_type: {"schema": {"type": "string", "format": "binary"}} for media_type in UPLOAD_TYPES
}
# The event log's downloads (issue 13): XES and CSV text.
EVENT_LOG_CONTENT = {
    "/event-log.xes": {"application/xml": {"schema": {"type": "string"}}},
    "/event-log.csv": {"text/csv": {"schema": {"type": "string"}}},
}
CHALLENGE = {"description": "Always starts with `Bearer`.", "schema": {"type": "string"}}
LOCATION = {"description": "URL of the new instance.", "schema": {"type": "string"}}


def _free_objects(node: Any) -> Any:
    """The models' free-JSON marks as $refs to the FreeObject schema."""
    if isinstance(node, dict):
        if node.get(FREE_OBJECT_MARK):
            return {"$ref": "#/components/schemas/FreeObject", "description": node["description"]}
        return {key: _free_objects(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_free_objects(value) for value in node]
    return node


def _accepts_empty(model: type[BaseModel]) -> bool:
    try:
        model.model_validate({})
    except ValidationError:
        return False
    return True


def _operation(path: str, method: str, op: dict[str, Any]) -> None:
    parameters = [p for p in op.pop("parameters", []) if p["in"] != "path"]
    for parameter in parameters:
        if parameter["in"] == "query":  # parsing.query_values
            parameter["allowEmptyValue"] = True
            parameter["description"] += " Empty means absent."
            parameter["schema"].pop("title", None)
            parameter["schema"].pop("description", None)
    if path in IDEMPOTENT and method == "post":
        parameters.append(IDEMPOTENCY_KEY)  # its 409 and 422 are among the route's answers
    if parameters:
        op["parameters"] = parameters
    if not op["description"]:
        del op["description"]
    body = op.get("requestBody")
    if body:  # parsing.read_json_body: an empty body is `{}`; optional when `{}` is valid
        name = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        body["required"] = not _accepts_empty(models.body_model(name))
    elif not parameters:
        op["responses"].pop("422", None)  # spectree adds it everywhere; nothing to refuse here
    if "401" in op["responses"]:
        op["responses"]["401"]["headers"] = {"WWW-Authenticate": copy.deepcopy(CHALLENGE)}
    if path == "/instances" and method == "post":
        op["responses"]["201"]["headers"] = {"Location": copy.deepcopy(LOCATION)}


def _build(spec: dict[str, Any]) -> dict[str, Any]:
    schemas = {**_free_objects(spec["components"]["schemas"]), **FREE_JSON_SCHEMAS}
    paths: dict[str, Any] = {}
    for full_path, item in spec["paths"].items():
        path = full_path.removeprefix(API_PREFIX)
        operations = {method: _free_objects(op) for method, op in item.items()}
        path_parameters = {
            p["name"]: p
            for op in operations.values()
            for p in op.get("parameters", [])
            if p["in"] == "path"
        }
        for method, op in operations.items():
            _operation(path, method, op)
        paths[path] = operations
        if path_parameters:
            paths[path] = {"parameters": list(path_parameters.values()), **operations}
    paths["/attachments"]["post"]["requestBody"] = copy.deepcopy(UPLOAD_BODY)
    paths["/attachments/{attachment_id}"]["get"]["responses"]["200"]["content"] = copy.deepcopy(
        DOWNLOAD_CONTENT
    )
    for path, content in EVENT_LOG_CONTENT.items():
        paths[path]["get"]["responses"]["200"]["content"] = copy.deepcopy(content)
    return {
        "openapi": spec["openapi"],
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            **spec["info"],
            "summary": "Workflow system of a service-certification body (BPMN on SpiffWorkflow).",
        },
        "servers": [{"url": API_PREFIX}],
        "security": spec["security"],
        "tags": [{"name": tag} for tag in TAGS],
        "paths": dict(sorted(paths.items())),
        "components": {
            "securitySchemes": spec["components"]["securitySchemes"],
            "schemas": dict(sorted(schemas.items())),
        },
    }


@cache
def _document() -> dict[str, Any]:
    app = Flask(__name__)  # spectree reads the routes from an application's URL map
    app.register_blueprint(bp)
    with app.app_context():
        return _build(copy.deepcopy(api_spec.spec))


def document() -> dict[str, Any]:
    """A fresh copy of the OpenAPI document (callers may not change the original)."""
    return copy.deepcopy(_document())
