"""Restricted evaluation of BPMN scripts, gateway conditions, timer and parameter expressions.

SpiffWorkflow's default environment is plain exec/eval with all builtins, so a diagram could run
shell commands as the server user. Here every source passes `engine.script_policy` (an allowlist
of syntax, then RestrictedPython's compiler) both in `certflow validate` and at run time; the
compiled code runs with an allowlist of builtins and helpers, with RestrictedPython's guards
wired to `engine.script_guards` (attribute allowlist per type, allocation checks), and bounded in
time and memory by `engine.script_limits`. A script that fails or breaches a limit leaves the
task data as it was. Deploying definitions stays a privileged action (process_owner) too.
"""

import builtins
import copy
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment

from certflow.dates import add_months
from engine.script_guards import GUARDED_BUILTINS, GUARDS
from engine.script_limits import ScriptLimitExceeded, ScriptLimits, run_bounded
from engine.script_policy import ScriptRestrictionError, check_source, compile_checked

__all__ = [
    "RestrictedEnvironment",
    "SAFE_BUILTINS",
    "SCRIPT_HELPERS",
    "ScriptLimitExceeded",
    "ScriptLimits",
    "ScriptRestrictionError",
    "check_source",
]

_ALLOWED_BUILTIN_NAMES = [
    "abs",
    "all",
    "any",
    "bool",
    "dict",
    "divmod",
    "enumerate",
    "filter",
    "float",
    "frozenset",
    "int",
    "isinstance",
    "len",
    "list",
    "map",
    "max",
    "min",
    "reversed",
    "round",
    "set",
    "sorted",
    "str",
    "tuple",
    "zip",
    "ArithmeticError",
    "Exception",
    "KeyError",
    "LookupError",
    "TypeError",
    "ValueError",
    "ZeroDivisionError",
]


def _parse_date(value: str) -> date:
    return date.fromisoformat(value[:10])


SAFE_BUILTINS: dict[str, Any] = {
    **{name: getattr(builtins, name) for name in _ALLOWED_BUILTIN_NAMES},
    **GUARDED_BUILTINS,
    **GUARDS,  # RestrictedPython's compiled code looks its guards up as globals/builtins
}

# Helpers scripts may call: plain functions and value types, none of which exposes the wall clock.
SCRIPT_HELPERS: dict[str, Any] = {
    "timedelta": timedelta,
    "add_months": add_months,
    "parse_date": _parse_date,
}


class RestrictedEnvironment(TaskDataEnvironment):
    """TaskDataEnvironment whose evaluate/execute run only checked, bounded code."""

    def __init__(
        self,
        environment_globals: Mapping[str, Any] | None = None,
        limits: ScriptLimits | None = None,
    ) -> None:
        super().__init__({**SCRIPT_HELPERS, **(environment_globals or {})})
        self.limits = limits or ScriptLimits.from_env()

    def _globals(self, external_context: Mapping[str, Any] | None) -> dict[str, Any]:
        return {"__builtins__": SAFE_BUILTINS, **self.globals, **(external_context or {})}

    def evaluate(self, expression, context, external_context=None):
        code = compile_checked(expression.strip(), "eval")
        scope = self._globals(external_context)
        scope.update(context)
        return run_bounded(self.limits, lambda: eval(code, scope))

    def execute(self, script, context, external_context=None):
        code = compile_checked(script, "exec")
        self.check_for_overwrite(context, external_context or {})
        # The script works on a copy: if it fails or breaches a limit the task data is untouched.
        scope = copy.deepcopy(context)
        scope.update(self._globals(external_context))
        run_bounded(self.limits, lambda: exec(code, scope))
        self._remove_globals_and_functions_from_context(scope, external_context)
        context.clear()
        context.update(scope)
        return True
