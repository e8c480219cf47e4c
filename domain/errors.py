"""Errors of the certification rules."""


class RuleViolation(Exception):
    """A handler found a rule of the certification scheme broken; the message names the R-ID."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(f"{rule}: {message}")
        self.rule = rule
        self.detail = message
