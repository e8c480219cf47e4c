"""Field errors of a task form in the visitor's language.

A JSON Schema error is worded by the rule that failed — jsonschema's `validator` and its
`validator_value` (required, minLength, maximum, format, enum, …) — through the message catalog,
never by reading jsonschema's English text. Errors the schema does not explain (a domain
validator's finding, e.g. R-9.3, or which character of a credit code is wrong) are shown as their
author wrote them.

The engine decides (`complete_task` raises FormValidationError with the fields); the page words
the schema's part of that answer with `schema_errors` on the same schema, data and format checker.
"""

from collections.abc import Callable, Mapping
from typing import Any

from flask_babel import gettext as _
from jsonschema import FormatChecker, ValidationError
from jsonschema.validators import validator_for

FORM = "_form"  # errors of the whole form, not of one field


def _too_short(value: Any) -> str:
    return _("Too short or too few entries.")


def _too_long(value: Any) -> str:
    return _("Too long or too many entries.")


def _choice(value: Any) -> str:
    return _("Choose one of the options.")


def _format(value: Any) -> str:
    if value == "date":
        return _("Enter a date (YYYY-MM-DD).")
    if value == "email":
        return _("Enter an e-mail address.")
    return _("The value has the wrong format.")


def _const(value: Any) -> str:
    # `const: true` is a confirmation box (forms_render's "confirm" field).
    return _("Please confirm.") if value is True else _("Choose one of the options.")


# validator → the message for its validator_value (R-… rules live in the schemas and the engine).
RULE_MESSAGES: dict[str, Callable[[Any], str]] = {
    "required": lambda value: _("This field is required."),
    "const": _const,
    "minLength": _too_short,
    "minItems": _too_short,
    "minProperties": _too_short,
    "maxLength": _too_long,
    "maxItems": _too_long,
    "maxProperties": _too_long,
    "format": _format,
    "type": lambda value: _("The value has the wrong type."),
    "minimum": lambda value: _("Must be at least %(limit)s.", limit=value),
    "exclusiveMinimum": lambda value: _("Must be more than %(limit)s.", limit=value),
    "maximum": lambda value: _("Must be at most %(limit)s.", limit=value),
    "exclusiveMaximum": lambda value: _("Must be less than %(limit)s.", limit=value),
    "multipleOf": lambda value: _("Must be a multiple of %(limit)s.", limit=value),
    "pattern": lambda value: _("The value has the wrong format."),
    "enum": _choice,
    "oneOf": _choice,
    "anyOf": _choice,
    "uniqueItems": lambda value: _("Each entry may appear only once."),
    "additionalProperties": lambda value: _("The form contains unexpected fields."),
}


def rule_message(error: ValidationError) -> str:
    """One schema error in the visitor's language, by its rule."""
    if error.validator == "format" and error.cause is not None:
        return str(error.cause)  # the checker's own reason (e.g. a credit code's check digit)
    wording = RULE_MESSAGES.get(str(error.validator))
    return wording(error.validator_value) if wording else _("The value is not valid.")


def _path(parts: Any) -> str:
    return "/".join(str(part) for part in parts)


def schema_errors(
    schema: Mapping[str, Any], data: Any, format_checker: FormatChecker | None = None
) -> dict[str, list[str]]:
    """The schema's errors of `data`, worded, keyed by field path like the engine's
    FormValidationError ("sites/0/name"; a missing property under its own path)."""
    validator = validator_for(schema)(schema, format_checker=format_checker or FormatChecker())
    found: dict[str, list[str]] = {}
    for error in validator.iter_errors(data):
        if error.validator == "required":
            present = error.instance if isinstance(error.instance, Mapping) else {}
            fields = [
                _path([*error.absolute_path, name])
                for name in error.validator_value
                if name not in present
            ]
        else:
            fields = [_path(error.absolute_path) or FORM]
        message = rule_message(error)
        for field in fields:
            bucket = found.setdefault(field, [])
            if message not in bucket:
                bucket.append(message)
    return found


def engine_errors(
    reported: Mapping[str, list[str]], worded: Mapping[str, list[str]]
) -> dict[str, list[str]]:
    """The engine's FormValidationError fields, each worded by the schema where the schema
    explains it, else as the engine's validator wrote it (catalog entries are translated)."""
    return {
        field: list(worded[field]) if worded.get(field) else [_(m) for m in messages]
        for field, messages in reported.items()
    }


def parser_errors(errors: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """The form parser's messages (catalog entries, webapp.form_schema) in the visitor's
    language; an upload's reason is already worded."""
    return {field: [_(m) for m in messages] for field, messages in errors.items()}
