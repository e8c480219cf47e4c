"""Errors of the certification rules."""


class RuleViolation(Exception):
    """A handler found a rule of the certification scheme broken; the message names the R-ID.

    `field` names the form field whose value breaks the rule, when one does: a form check
    (domain/form_checks.py) reports the refusal on that field (422) before the task completes."""

    def __init__(self, rule: str, message: str, *, field: str | None = None) -> None:
        super().__init__(f"{rule}: {message}")
        self.rule = rule
        self.detail = message
        self.field = field
