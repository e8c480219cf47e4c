"""Parameter types of the lifecycle operators whose values a rule of the scheme judges.

The declaration (handlers/params.py) says what the process owner passes — its JSON Schema type
and help text, shown by `describe` and later the studio — while the value itself is checked by
the rule in `domain/` (R-…), so a wrong value stays a `RuleViolation` naming that rule instead
of a bare parameter error. Ids, in contrast, are plain `Id`s: a wrong id is a modelling error.
"""

from typing import Annotated, Any

from pydantic import WithJsonSchema

# A text the rule requires (blank → RuleViolation of the rule).
RuleText = Annotated[Any, WithJsonSchema({"type": "string", "minLength": 1})]
# A text that may be empty or null.
OptionalText = Annotated[Any, WithJsonSchema({"type": ["string", "null"]})]
# true or false, judged by the rule.
RuleFlag = Annotated[Any, WithJsonSchema({"type": "boolean"})]
# An ISO date (YYYY-MM-DD), judged by the rule.
RuleDate = Annotated[Any, WithJsonSchema({"type": "string", "format": "date"})]


def rule_choice(*choices: str) -> Any:
    """One of `choices`, judged by the rule (the schema lists them)."""
    return Annotated[Any, WithJsonSchema({"type": "string", "enum": list(choices)})]


# A list of row ids (or null), each judged by the rule.
RuleIdList = Annotated[
    Any, WithJsonSchema({"type": ["array", "null"], "items": {"type": "integer"}})
]
# A whole number, judged by the rule (bounds in `json_schema_extra` where the rule has them).
RuleInt = Annotated[Any, WithJsonSchema({"type": "integer"})]
# A message payload or another handler's result (an object), judged by the rule.
RuleObject = Annotated[Any, WithJsonSchema({"type": ["object", "null"]})]
