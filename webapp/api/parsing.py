"""Reading API requests through the models of webapp/api/models.py, as spectree's Flask plugin.

spectree validates each request with the operation's pydantic models before the view runs; this
plugin keeps certflow's rules for what comes before and after the models:

* the body is read as strict JSON whatever its Content-Type (no NaN or Infinity, no NUL anywhere:
  PostgreSQL cannot store it); an empty body counts as `{}`;
* an empty query parameter (`role=`, as an HTML form sends it) counts as absent;
* invalid input is a 422 in the API's error shape, `{"errors": {"a/b": [...]}}`, where "_body"
  is the body as a whole and "required" marks a missing field;
* answers are passed on as the view made them (the response models describe them; the tests
  check them against the document).
"""

import json
import math
from typing import Any

from flask import make_response, request
from pydantic import ValidationError
from spectree.plugins.base import Context
from spectree.plugins.flask_plugin import FlaskPlugin

from webapp.api.auth import ApiError

BODY_INVALID = "the request body is invalid"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:40]} is out of range")
    return value


def _contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_contains_nul(v) for v in value)
    return False


def read_json_body() -> Any:
    """The body as JSON (`{}` when empty); 422 on "_body" when it is no JSON or holds NUL."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float)
    except (ValueError, RecursionError) as err:
        raise ApiError(
            422, "the request body is not valid JSON", errors={"_body": [str(err)[:200]]}
        ) from err
    try:
        has_nul = _contains_nul(body)
    except RecursionError:
        has_nul = True
    if has_nul:
        raise ApiError(422, BODY_INVALID, errors={"_body": ["NUL characters are not allowed"]})
    return body


def query_values() -> dict[str, str]:
    """The query parameters that were given a value (the first of repeated ones)."""
    return {name: value for name, value in request.args.items() if value != ""}


def field_errors(err: ValidationError) -> dict[str, list[str]]:
    """pydantic's errors keyed by slash paths, in the words the API has always used."""
    errors: dict[str, list[str]] = {}
    for error in err.errors(include_url=False, include_context=False, include_input=False):
        path = [str(part) for part in error["loc"]]
        if error["type"] == "extra_forbidden":
            field, message = "/".join(path[:-1]), f"unexpected property {path[-1]!r}"
        elif error["type"] == "missing":
            field, message = "/".join(path), "required"
        else:
            field, message = "/".join(path), error["msg"].removeprefix("Value error, ")
        errors.setdefault(field or "_body", []).append(message)
    return errors


def _validated(model: Any, value: Any, message: str) -> Any:
    try:
        return model.model_validate(value)
    except ValidationError as err:
        raise ApiError(422, message, errors=field_errors(err)) from err


class ApiPlugin(FlaskPlugin):
    """spectree's Flask plugin with certflow's request reading (see the module docstring)."""

    def request_validation(self, request, query, json, form, headers, cookies):  # noqa: A002
        request.context = Context(
            _validated(query, query_values(), "invalid query parameters") if query else None,
            _validated(json, read_json_body(), BODY_INVALID) if json else None,
            None,
            None,
            None,
        )

    def validate_response(self, resp, resp_model, skip_validation, force_resp_serialize):
        return make_response(resp), None


def body() -> Any:
    """The validated body model of this request."""
    return request.context.json  # type: ignore[attr-defined]


def query() -> Any:
    """The validated query model of this request."""
    return request.context.query  # type: ignore[attr-defined]
