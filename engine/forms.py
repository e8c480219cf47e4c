"""Form schemas (JSON Schema, under processes/forms/) and server-side validation of task data.

The one validation path: `field_errors` checks data against a form's schema and answers, per
field, structured items — the failed rule (jsonschema's `validator` and `validator_value`), the
format checker's own reason (`cause`) and the engine's English text — so that the web words
them in the visitor's language without validating again (webapp/form_errors.py)."""

import re
from dataclasses import dataclass
from typing import Any

from jsonschema import FormatChecker
from jsonschema.validators import validator_for

_REQUIRED = re.compile(r"^'(?P<name>[^']+)' is a required property$")
FORM = "_form"  # errors of the whole form, not of one field


@dataclass(frozen=True)
class FieldError:
    """One finding on one field. `validator` is the JSON Schema keyword that failed (None: a
    domain validator's finding, e.g. R-9.3, whose `message` is for people as written)."""

    path: str
    message: str
    validator: str | None = None
    validator_value: Any = None
    cause: str | None = None  # a format checker's reason (e.g. which character is wrong)

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "validator": self.validator,
            "validator_value": self.validator_value,
            "message": self.message,
        }


def _field_path(path) -> str:
    return "/".join(str(part) for part in path)


def field_errors(
    schema: dict[str, Any], data: Any, format_checker: FormatChecker | None = None
) -> dict[str, list[FieldError]]:
    """Field errors keyed by a slash path ("sites/0/address"); empty when the data is valid."""
    validator_cls = validator_for(schema)
    validator = validator_cls(schema, format_checker=format_checker or FormatChecker())
    errors: dict[str, list[FieldError]] = {}
    for error in validator.iter_errors(data):
        field = _field_path(error.absolute_path)
        cause = None
        if error.validator == "required":
            match = _REQUIRED.match(error.message)
            if match:
                name = match.group("name")
                field = f"{field}/{name}" if field else name
            message = "required"
        elif error.validator == "format" and error.cause is not None:
            cause = message = str(error.cause)
        else:
            message = error.message
        field = field or FORM
        errors.setdefault(field, []).append(
            FieldError(
                path=field,
                message=message,
                validator=str(error.validator),
                validator_value=error.validator_value,
                cause=cause,
            )
        )
    return errors


def messages(errors: dict[str, list[FieldError]]) -> dict[str, list[str]]:
    """The engine's texts per field (FormValidationError.errors)."""
    return {field: [item.message for item in items] for field, items in errors.items()}


def validate_form_data(
    schema: dict[str, Any], data: Any, format_checker: FormatChecker | None = None
) -> dict[str, list[str]]:
    """Field errors as the engine's texts, keyed by a slash path; empty when the data is valid."""
    return messages(field_errors(schema, data, format_checker))


def schema_problem(schema: dict) -> tuple[str, str] | None:
    """(where, what) of the first reason `schema` is not a valid JSON Schema; None when it is.
    The studio's form editor asks here: the form check is the engine's alone."""
    from jsonschema.exceptions import SchemaError

    try:
        validator_for(schema).check_schema(schema)
    except SchemaError as err:
        return "/".join(str(part) for part in err.path) or "(root)", err.message
    return None
