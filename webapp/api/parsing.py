"""Reading API requests: JSON bodies and query parameters, exactly as the OpenAPI document says.

Bodies are validated against the document's own request schemas (webapp/api/openapi.py), query
parameters take exactly the documented values, and anything else is a 422 with the field.
"""

import json
import math
import re
from collections.abc import Collection, Mapping
from typing import Any

from flask import request

from engine.forms import validate_form_data
from webapp.api import openapi
from webapp.api.auth import ApiError

_INTEGER = re.compile(r"-?[0-9]+")  # what the document's integer parameters look like on the wire
_FLAGS = {"1": True, "true": True, "0": False, "false": False}


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


def _integers_as_int(schema: Mapping[str, Any], value: Any) -> Any:
    """JSON Schema counts 1.0 as an integer; hand the engine an int for the fields typed so."""
    if schema.get("type") == "integer" and isinstance(value, float) and value.is_integer():
        return int(value)
    properties = schema.get("properties")
    if isinstance(properties, Mapping) and isinstance(value, dict):
        return {
            key: _integers_as_int(properties[key], item) if key in properties else item
            for key, item in value.items()
        }
    return value


def json_body(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The request body as a JSON object valid against `schema`; 422 with field errors if not.

    `schema` is one of the request-body schemas of the OpenAPI document, validated with the
    document's components (so its `$ref`s resolve). An empty body counts as `{}`, so optional
    bodies may be left out.
    """
    raw = request.get_data(cache=True)
    if not raw.strip():
        body: Any = {}
    else:
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
    if has_nul:  # PostgreSQL cannot store NUL in text; refuse it here instead of failing later
        raise ApiError(
            422, "the request body is invalid", errors={"_body": ["NUL characters are not allowed"]}
        )
    try:
        errors = validate_form_data(openapi.with_components(schema), body)
    except RecursionError:
        errors = {"_body": ["nested too deeply"]}
    if errors:
        renamed = {("_body" if key == "_form" else key): msgs for key, msgs in errors.items()}
        raise ApiError(422, "the request body is invalid", errors=renamed)
    return _integers_as_int(schema, body)


# Query parameters take exactly the values the OpenAPI document declares; an empty one (`role=`,
# as an HTML form sends it) counts as absent.
def int_arg(
    errors: dict[str, list[str]], name: str, default: int | None, minimum: int, maximum: int
) -> int | None:
    text = request.args.get(name)
    if not text:
        return default
    if not _INTEGER.fullmatch(text):
        errors[name] = ["must be an integer"]
        return default
    value = int(text)
    if value < minimum or value > maximum:
        errors[name] = [f"must be between {minimum} and {maximum}"]
        return default
    return value


def text_arg(errors: dict[str, list[str]], name: str) -> str | None:
    text = request.args.get(name)
    if not text:
        return None
    if "\x00" in text:
        errors[name] = ["NUL characters are not allowed"]
        return None
    return text


def choice_arg(
    errors: dict[str, list[str]], name: str, choices: Collection[str], default: str | None
) -> str | None:
    text = request.args.get(name)
    if not text:
        return default
    if text not in choices:
        errors[name] = [f"must be one of {', '.join(sorted(choices))}"]
        return default
    return text


def flag_arg(errors: dict[str, list[str]], name: str) -> bool:
    text = request.args.get(name)
    if not text:
        return False
    if text not in _FLAGS:
        errors[name] = [f"must be one of {', '.join(_FLAGS)}"]
        return False
    return _FLAGS[text]
