"""Form checks on completion: the checks a task's form declares (`"x-checks": [names]`) run on
the submitted answers over the instance's data before the task completes, so an answer a later
service task would refuse is a 422 on its field, from the web and the API alike, and never an
incident after "done". The engine is handed the checks in its registry and imports no rules."""

from typing import Any

from engine.errors import EngineError, FormValidationError
from engine.registry import GuardContext

CHECKS_KEY = "x-checks"


def declared_checks(schema: dict[str, Any]) -> list[str]:
    names = schema.get(CHECKS_KEY) or []
    return [name for name in names if isinstance(name, str)]


class FormChecks:
    """Mixin of the engine: run a form's declared checks (needs `registry`)."""

    registry: Any

    def _run_form_checks(self, schema: dict[str, Any], ctx: GuardContext) -> None:
        errors: dict[str, list[str]] = {}
        for name in declared_checks(schema):
            check = self.registry.form_check(name)
            if check is None:
                raise EngineError(f"form check {name!r} is not registered")
            for field, messages in check(ctx).items():
                errors.setdefault(field, []).extend(messages)
        if errors:
            raise FormValidationError(errors)
