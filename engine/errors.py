"""Errors the engine raises; each carries the HTTP status the web layer answers with."""

from engine.forms import FieldError


class EngineError(Exception):
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(EngineError):
    status = 404


class ForbiddenError(EngineError):
    status = 403


class ConflictError(EngineError):
    """Someone else changed the instance or task first (optimistic lock, claim, completion)."""

    status = 409


class FormValidationError(EngineError):
    """`errors`: {field: [the engine's texts]}; `details`: {field: [engine.forms.FieldError]},
    the failed rule of each (a domain validator's finding has none)."""

    status = 422

    def __init__(
        self, errors: dict[str, list[str]] | None = None, *, details: dict | None = None
    ) -> None:
        super().__init__("the submitted data does not match the task's form")
        if details is None:  # a domain validator's findings: texts without a rule
            details = {
                field: [FieldError(path=field, message=text) for text in texts]
                for field, texts in (errors or {}).items()
            }
        self.details = details
        self.errors = {field: [item.message for item in items] for field, items in details.items()}


class DeploymentError(EngineError):
    """Validation problems: nothing was deployed."""

    status = 422

    def __init__(self, problems: list) -> None:
        super().__init__(f"{len(problems)} problem(s) in the definitions; nothing deployed")
        self.problems = problems


def root_cause(err: BaseException) -> BaseException:
    """SpiffWorkflow wraps errors (sometimes twice); the incident names the original one."""
    seen = set()
    while id(err) not in seen:
        seen.add(id(err))
        inner = err.__cause__ or err.__context__
        if inner is None:
            break
        err = inner
    return err
