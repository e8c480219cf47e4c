"""Declared parameters of the application-side operators (application, contract, programme,
team): every declared parameter must be passed by the BPMN service task — a missing one is a
modelling error named `MissingParameter` (a KeyError) — and an id must be a positive integer
(a TypeError otherwise), as these operators have always answered. The values' rules (R-5, R-6,
R-7) are checked in `domain/` with their R-IDs.
"""

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, ValidationInfo, model_validator

from handlers.params import Params


class MissingParameter(KeyError):
    """The BPMN service task does not pass a parameter the operator needs."""

    def __str__(self) -> str:
        return str(self.args[0])


def missing(name: str) -> MissingParameter:
    return MissingParameter(
        f"parameter {name!r} missing: the service task must pass it (docs/initial-certification.md)"
    )


class PassedParams(Params):
    """Every declared parameter is passed (its value may be null where the type allows)."""

    @model_validator(mode="before")
    @classmethod
    def _every_parameter_passed(cls, raw: Any) -> Any:
        if isinstance(raw, Mapping):
            for name in cls.model_fields:
                if name not in raw:
                    raise missing(name)
        return raw


def _row_id(value: Any, info: ValidationInfo) -> Any:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**31:
        raise TypeError(
            f"parameter {info.field_name!r} must be a positive integer id, got {value!r}"
        )
    return value


def _optional_string(value: Any, info: ValidationInfo) -> Any:
    if value is not None and not isinstance(value, str):
        raise TypeError(
            f"parameter {info.field_name!r} must be a string, got {type(value).__name__}"
        )
    return value


# An id of a database row (TypeError, not a rule: a modelling error).
RowId = Annotated[int, BeforeValidator(_row_id)]
# Free text that may be empty or null.
OptionalText = Annotated[str | None, BeforeValidator(_optional_string)]


def rule_checked(kind: str, description: str) -> Any:
    """A parameter whose value a rule checks in domain/ (so the refusal names the R-ID); the
    declaration still tells its JSON type and help text."""
    return Field(description=description, json_schema_extra={"type": kind})
