"""Declared parameters of service-task operators (issue 14): one parameter path, one vocabulary.

Each operator declares what its BPMN service task must pass as a pydantic model derived from
`Params`; the registry checks the raw parameters against it before the handler runs, so a handler
receives a typed, validated object and never reads `params.get(...)`. The same declaration tells
`certflow validate` (and later the studio's properties panel) which parameters an operator takes,
their types and their help texts (`Field(description=...)`).

    class RecordPlanParams(Params):
        audit_id: Id
        activities: OptionalList = Field(None, description="R-7.3 plan rows")

    @handler("audit.record_plan", params=RecordPlanParams)
    def record_plan(params: RecordPlanParams, ctx: HandlerContext) -> dict: ...

The parameter types are all defined here, once:
- checked here (a mismatch is a modelling error, `ParameterError`): `Id`, `Flag`, `OptionalText`,
  `OptionalList`, `OptionalObject`, `Checklist`;
- judged by a rule (`Rule…`, `rule_choice`): any value passes the declaration, which only tells
  its JSON type and help text, and the rule in `domain/` refuses a wrong value with a
  `RuleViolation` naming its R-ID.

A mismatch is a `ParameterError`: a ValueError (the engine makes it an incident that names the
operator and every offending parameter) and a TypeError (a value of the wrong type); a parameter
the service task does not pass is a `MissingParameter`, also a KeyError.
"""

from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, WithJsonSchema

# -- checked here -----------------------------------------------------------------------------
# An id of a database row: a positive 32-bit integer (bools and strings refused).
Id = Annotated[int, Field(strict=True, gt=0, lt=2**31)]
Flag = StrictBool
# Free text that may be empty or null (stripped).
OptionalText = str | None
# A list, an object or a checklist (`{"key": true}` or a list of keys) whose items a rule judges.
OptionalList = list[Any] | None
OptionalObject = dict[str, Any] | None
Checklist = dict[str, Any] | list[Any] | None

# -- judged by a rule in domain/ (so the refusal names the R-ID) ------------------------------
# A text the rule requires (blank → RuleViolation of the rule).
RuleText = Annotated[Any, WithJsonSchema({"type": "string", "minLength": 1})]
# true or false; a confirmation counts only when it is a real `true` (domain.checks.is_true).
RuleFlag = Annotated[Any, WithJsonSchema({"type": "boolean"})]
# An ISO date (YYYY-MM-DD).
RuleDate = Annotated[Any, WithJsonSchema({"type": "string", "format": "date"})]
# A whole number (bounds in `json_schema_extra` where the rule has them) and any number.
RuleInt = Annotated[Any, WithJsonSchema({"type": "integer"})]
RuleNumber = Annotated[Any, WithJsonSchema({"type": "number"})]
# A list (e.g. of sites or file ids) and a list of row ids or null.
RuleList = Annotated[Any, WithJsonSchema({"type": "array"})]
RuleIdList = Annotated[
    Any, WithJsonSchema({"type": ["array", "null"], "items": {"type": "integer"}})
]
# A message payload or another handler's result (an object).
RuleObject = Annotated[Any, WithJsonSchema({"type": ["object", "null"]})]


def rule_choice(*choices: str) -> Any:
    """One of `choices`, judged by the rule (the schema lists them)."""
    return Annotated[Any, WithJsonSchema({"type": "string", "enum": list(choices)})]


class Params(BaseModel):
    """Base of every operator's declared parameters: exactly these names, nothing else."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


P = TypeVar("P", bound=Params)
MISSING = "missing: the service task must pass it"


class ParameterError(ValueError, TypeError):
    """The service task's parameters do not fit the operator's declaration."""

    def __init__(self, operator: str, problems: list[tuple[str, str]]) -> None:
        self.operator = operator
        self.problems = problems
        listed = "; ".join(f"{name!r} {message}" for name, message in problems)
        super().__init__(f"operator {operator!r}: parameters do not fit its declaration: {listed}")

    def __str__(self) -> str:
        return str(self.args[0])


class MissingParameter(ParameterError, KeyError):
    """The BPMN service task does not pass a parameter the operator needs."""


def parse_params(operator: str, model: type[P], raw: Mapping[str, Any]) -> P:
    """The raw parameters (name → evaluated value) as the operator's declared model."""
    try:
        return model.model_validate(dict(raw))
    except ValidationError as err:
        problems = [
            (
                ".".join(str(part) for part in error["loc"]) or "(parameters)",
                MISSING if error["type"] == "missing" else f"invalid: {error['msg']}",
            )
            for error in err.errors()
        ]
        missing = any(message == MISSING for _, message in problems)
        raise (MissingParameter if missing else ParameterError)(operator, problems) from None


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
