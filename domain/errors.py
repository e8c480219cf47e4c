"""Errors of the certification rules."""

from collections.abc import Mapping
from typing import Any


class RuleViolation(Exception):
    """A handler found a rule of the certification scheme broken; the message names the R-ID.

    `field` names the form field whose value breaks the rule, when one does: a form check
    (domain/form_checks.py) reports the refusal on that field (422) before the task completes.
    `said` is the refusal worded in both languages (domain/said.py), when its author has it: the
    page then shows it in the reader's language."""

    def __init__(
        self,
        rule: str,
        message: str,
        *,
        field: str | None = None,
        said: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{rule}: {message}")
        self.rule = rule
        self.detail = message
        self.field = field
        self.said = said
