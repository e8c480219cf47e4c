"""The JSON API's errors: every answer under /api/v1 that is not a success is JSON,
`{"error": kind, "message": ..., ["errors": {field: [...]}]}` (422 always has "errors"; a task's
form or rules refusing its data add "details": {field: [{path, validator, validator_value,
message}]})."""

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from flask import Response, jsonify, request
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed

from engine.errors import EngineError, FormValidationError
from webapp.api.auth import ApiError
from webapp.api.blueprint import bp
from webapp.api.models import API_PREFIX

Body = tuple[Response, int] | tuple[Response, int, dict[str, str]]


# -- errors ---------------------------------------------------------------------------------------
_KINDS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    422: "validation_error",
    500: "internal_error",
}


def error_kind(status: int) -> str:
    if status in _KINDS:
        return _KINDS[status]
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


def error_response(
    status: int,
    message: str,
    errors: Mapping[str, list[str]] | None = None,
    headers: Mapping[str, str] | None = None,
    details: Mapping[str, list[dict[str, Any]]] | None = None,
) -> Body:
    body: dict[str, Any] = {"error": error_kind(status), "message": message}
    if errors is not None or status == 422:
        body["errors"] = dict(errors or {})
    if details is not None:
        body["details"] = dict(details)
    return jsonify(body), status, dict(headers or {})


@bp.errorhandler(ApiError)
def _api_error(err: ApiError) -> Body:
    return error_response(err.status, err.message, err.errors, err.headers)


@bp.errorhandler(EngineError)
def _engine_error(err: EngineError) -> Body:
    if isinstance(err, FormValidationError):
        # The engine's findings with their rules (responses.FieldErrorDetail).
        details = {
            field: [item.as_json() for item in items] for field, items in err.details.items()
        }
        return error_response(err.status, err.message, err.errors, details=details)
    return error_response(err.status, err.message)


@bp.errorhandler(HTTPException)
def _http_error(err: HTTPException) -> Body:
    status = err.code or 500
    headers = {}
    if isinstance(err, MethodNotAllowed) and err.valid_methods:
        headers["Allow"] = ", ".join(err.valid_methods)
    return error_response(status, err.description or HTTPStatus(status).phrase, headers=headers)


@bp.errorhandler(InternalServerError)
def _internal_error(err: InternalServerError) -> Body:
    # Reached for unhandled exceptions (Flask logged them already); never leak their text.
    return error_response(500, "internal server error")


def _under_api(path: str) -> bool:
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


@bp.app_errorhandler(404)
@bp.app_errorhandler(405)
def _routing_error(err: HTTPException) -> Body | HTTPException:
    """URLs under /api/v1 that match no route (or not with this method) still answer JSON."""
    if not _under_api(request.path):
        return err
    return _http_error(err)
