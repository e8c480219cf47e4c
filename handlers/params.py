"""Declared parameters of service-task operators (issue 14): one parameter path.

Each operator declares what its BPMN service task must pass as a pydantic model derived from
`Params`; the registry checks the raw parameters against it before the handler runs, so a handler
receives a typed, validated object and never reads `params.get(...)`. The same declaration tells
`certflow validate` (and later the studio's properties panel) which parameters an operator takes,
their types and their help texts (`Field(description=...)`).

    class RecordPlanParams(Params):
        audit_id: Id
        activities: list[dict[str, Any]] = Field(description="R-7.3 plan rows")

    @handler("audit.record_plan", params=RecordPlanParams)
    def record_plan(params: RecordPlanParams, ctx: HandlerContext) -> dict: ...

A mismatch is a `ParameterError` (a ValueError, so the engine makes it an incident that names
the operator and every offending parameter).
"""

from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

# An id of a database row: a positive 32-bit integer (bools refused).
Id = Annotated[int, Field(strict=True, gt=0, lt=2**31)]
Flag = StrictBool


class Params(BaseModel):
    """Base of every operator's declared parameters: exactly these names, nothing else."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


P = TypeVar("P", bound=Params)


class ParameterError(ValueError):
    """The service task's parameters do not fit the operator's declaration."""

    def __init__(self, operator: str, problems: list[tuple[str, str]]) -> None:
        self.operator = operator
        self.problems = problems
        listed = "; ".join(f"{name}: {message}" for name, message in problems)
        super().__init__(f"operator {operator!r}: parameters do not fit its declaration: {listed}")


def parse_params(operator: str, model: type[P], raw: Mapping[str, Any]) -> P:
    """The raw parameters (name → evaluated value) as the operator's declared model."""
    try:
        return model.model_validate(dict(raw))
    except ValidationError as err:
        problems = [
            (".".join(str(part) for part in error["loc"]) or "(parameters)", error["msg"])
            for error in err.errors()
        ]
        raise ParameterError(operator, problems) from None


def describe(model: type[Params]) -> list[dict[str, Any]]:
    """The declared parameters as rows (name, required, JSON Schema type, description) — for
    validation messages and the studio's properties panel."""
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "required": name in required,
            "schema": spec,
            "description": spec.get("description", ""),
        }
        for name, spec in schema.get("properties", {}).items()
    ]
