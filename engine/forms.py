"""Form schemas (JSON Schema, under processes/forms/) and server-side validation of task data."""

import re
from typing import Any

from jsonschema import FormatChecker
from jsonschema.validators import validator_for

_REQUIRED = re.compile(r"^'(?P<name>[^']+)' is a required property$")


def _field_path(path) -> str:
    return "/".join(str(part) for part in path)


def validate_form_data(
    schema: dict[str, Any], data: Any, format_checker: FormatChecker | None = None
) -> dict[str, list[str]]:
    """Field errors keyed by a slash path ("sites/0/address"); empty when the data is valid."""
    validator_cls = validator_for(schema)
    validator = validator_cls(schema, format_checker=format_checker or FormatChecker())
    errors: dict[str, list[str]] = {}
    for error in validator.iter_errors(data):
        field = _field_path(error.absolute_path)
        if error.validator == "required":
            match = _REQUIRED.match(error.message)
            if match:
                name = match.group("name")
                field = f"{field}/{name}" if field else name
            message = "required"
        elif error.validator == "format" and error.cause is not None:
            message = str(error.cause)  # e.g. which character of a credit code is wrong
        else:
            message = error.message
        errors.setdefault(field or "_form", []).append(message)
    return errors
