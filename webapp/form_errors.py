"""Field errors of a task form in the visitor's language.

A JSON Schema error is worded by the rule that failed — jsonschema's `validator` and its
`validator_value` (required, minLength, maximum, format, enum, …) — through the message catalog,
never by reading jsonschema's English text. Errors the schema does not explain (a domain
validator's finding, e.g. R-9.3, or which character of a credit code is wrong) are shown as their
author wrote them.

One validation path, the engine's: `complete_task` raises FormValidationError whose `details`
carry, per field, the failed rule; `engine.form_errors` makes the same check without completing
(when some inputs did not parse). This module only words them (`worded`); it never validates.
"""

from collections.abc import Callable, Mapping
from typing import Any

from flask_babel import gettext as _

from domain.said import SaidText, in_language
from engine.forms import FieldError
from webapp.i18n import current_language


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


def rule_message(item: FieldError) -> str:
    """One of the engine's findings in the visitor's language, by its rule."""
    if isinstance(item.message, SaidText):
        return in_language(item.message, current_language())  # worded in both by the rules
    if item.validator is None:
        return _(item.message)  # a domain validator's finding, as its author wrote it
    if item.validator == "format" and item.cause is not None:
        return item.cause  # the checker's own reason (e.g. a credit code's check digit)
    wording = RULE_MESSAGES.get(item.validator)
    return wording(item.validator_value) if wording else _("The value is not valid.")


def worded(details: Mapping[str, list[FieldError]]) -> dict[str, list[str]]:
    """The engine's field errors (FormValidationError.details, engine.form_errors), each once
    per field, keyed by field path ("sites/0/name"; a missing property under its own path)."""
    found: dict[str, list[str]] = {}
    for field, items in details.items():
        bucket = found.setdefault(field, [])
        for item in items:
            message = rule_message(item)
            if message not in bucket:
                bucket.append(message)
    return found


def parser_errors(errors: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """The form parser's messages (catalog entries, webapp.form_schema) in the visitor's
    language; an upload's reason is already worded."""
    return {field: [_(m) for m in messages] for field, messages in errors.items()}
