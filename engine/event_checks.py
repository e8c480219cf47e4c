"""`certflow validate` on message and timer events beyond the script policy (issue 12, the
studio's live validation marks them on the element):

* `spiffworkflow:messageVariable` names the task-data variable a caught message's payload is
  stored in: a plain identifier the restricted script engine can read afterwards (no leading
  underscore, no keyword).
* A timer's value is an expression the script engine evaluates (engine/validation_checks.py
  checks its syntax); when it is a literal, its ISO 8601 text is parsed here exactly as
  SpiffWorkflow 3.2 parses it when the timer is reached (TimerEventDefinition), so a bad date,
  duration or cycle is a problem at save, never an incident months later. An ISO value written
  without quotes (`P5D`) is read as a variable name: reported with the quoted form to write.
"""

import ast
import keyword
import re
from collections.abc import Callable, Iterator
from datetime import datetime

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.validation_document import Document, Problem

# An ISO 8601 duration typed without quotes (P5D, PT4H, P1Y2M): Python reads it as a name.
_BARE_ISO = re.compile(r"^P(?=\w*\d)(?:\d+[YMWD])*(?:T(?:\d+[HMS])+)?$", re.IGNORECASE)


def _duration_ok(value: str) -> bool:
    parsed = TimerEventDefinition.parse_iso_duration(value)
    return bool(parsed) and any(parsed.values())


def _date_ok(value: str) -> bool:
    return isinstance(TimerEventDefinition.parse_time_or_duration(value), datetime)


def _cycle_ok(value: str) -> bool:
    TimerEventDefinition.parse_iso_recurring_interval(value)
    return True


# timer kind → (parser as SpiffWorkflow applies it, what is expected, an example)
_TIMER_KINDS: dict[str, tuple[Callable[[str], bool], str, str]] = {
    "timeDate": (_date_ok, "an ISO 8601 date and time", '"2026-03-01T09:00:00+08:00"'),
    "timeDuration": (_duration_ok, "an ISO 8601 duration", '"P5D"'),
    "timeCycle": (_cycle_ok, "an ISO 8601 repeating interval", '"R3/P1D"'),
}


def message_variable_problem(name: str) -> str | None:
    """None when `name` can hold a caught message's payload in the task data."""
    if name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("_"):
        return None
    return (
        f"message variable '{name}' is not a variable name "
        "(letters, digits and _, not starting with a digit or _)"
    )


def timer_value_problem(kind: str, expression: str) -> str | None:
    """None unless the timer's expression is a literal SpiffWorkflow cannot parse as `kind`,
    or an ISO value written without quotes."""
    parse, expected, example = _TIMER_KINDS[kind]
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError:
        return None  # reported by the script policy check
    body = tree.body
    if isinstance(body, ast.Name) and _BARE_ISO.match(body.id):
        return (
            f"timer {kind}: '{body.id}' is read as a variable name; "
            f'write an ISO 8601 value in quotes ("{body.id}")'
        )
    if not (isinstance(body, ast.Constant) and isinstance(body.value, str)):
        return None  # an expression: its value is known only when the timer is reached
    try:
        valid = parse(body.value.strip())
    except Exception:  # SpiffWorkflow raises bare Exception / ValueError / AttributeError
        valid = False
    if valid:
        return None
    return f"timer {kind}: '{body.value}' is not {expected} (e.g. {example})"


def check_message_variables(doc: Document) -> Iterator[Problem]:
    for elem in doc.xpath(".//spiffworkflow:messageVariable"):
        name = (elem.text or "").strip()
        problem = message_variable_problem(name)
        if problem:
            yield doc.problem(elem, problem)


def check_timer_values(doc: Document) -> Iterator[Problem]:
    for kind in _TIMER_KINDS:
        for elem in doc.xpath(f".//bpmn:timerEventDefinition/bpmn:{kind}"):
            problem = timer_value_problem(kind, elem.text or "") if elem.text else None
            if problem:
                yield doc.problem(elem, problem)


EVENT_CHECKS: tuple[Callable[[Document], Iterator[Problem]], ...] = (
    check_message_variables,
    check_timer_values,
)
