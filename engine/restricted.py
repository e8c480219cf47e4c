"""Restricted evaluation of BPMN scripts, gateway conditions, timer and parameter expressions.

SpiffWorkflow's default environment is plain exec/eval with all builtins, so a diagram could run
shell commands as the server user. Here every source is parsed and checked before it is compiled:
no import, no global/nonlocal, no name or attribute starting with "_", none of the introspection
attributes that lead to frames and globals, and only a whitelist of builtins. The same check runs
at validation time (`certflow validate`) and at run time. This is hardening, not a proof: deploying
definitions stays a privileged action (process_owner).
"""

import ast
import builtins
from collections.abc import Mapping
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment

from certflow.dates import add_months


class ScriptRestrictionError(ValueError):
    """A script or expression uses something the restricted environment refuses."""

    def __init__(self, message: str, lineno: int | None = None) -> None:
        super().__init__(message)
        self.lineno = lineno


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
    "range",
    "reversed",
    "round",
    "set",
    "sorted",
    "str",
    "sum",
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

# Names that would reach the interpreter if a builtin of that name were ever whitelisted.
_FORBIDDEN_NAMES = frozenset(
    [
        "open",
        "exec",
        "eval",
        "compile",
        "getattr",
        "setattr",
        "delattr",
        "globals",
        "locals",
        "vars",
        "dir",
        "type",
        "breakpoint",
        "input",
        "help",
        "memoryview",
        "object",
        "super",
        "classmethod",
        "staticmethod",
        "property",
        "exit",
        "quit",
    ]
)

# Attributes without a leading underscore that still lead to frames, code or globals.
_FORBIDDEN_ATTRIBUTES = frozenset(
    [
        "gi_frame",
        "gi_code",
        "gi_yieldfrom",
        "cr_frame",
        "cr_code",
        "cr_await",
        "ag_frame",
        "ag_code",
        "ag_await",
        "f_back",
        "f_globals",
        "f_locals",
        "f_builtins",
        "f_code",
        "tb_frame",
        "tb_next",
        "co_code",
        "func_globals",
        "mro",
        "format",
        "format_map",
    ]
)


def _parse_date(value: str) -> date:
    return date.fromisoformat(value[:10])


SAFE_BUILTINS: dict[str, Any] = {name: getattr(builtins, name) for name in _ALLOWED_BUILTIN_NAMES}

# Helpers scripts may call: plain functions and value types, none of which exposes the wall clock.
SCRIPT_HELPERS: dict[str, Any] = {
    "timedelta": timedelta,
    "add_months": add_months,
    "parse_date": _parse_date,
}


def check_source(source: str, mode: str = "exec") -> ast.AST:
    """Parse `source` and refuse anything outside the restricted language; returns the AST."""
    try:
        tree = ast.parse(source, mode=mode)
    except SyntaxError as err:
        raise ScriptRestrictionError(f"syntax error: {err.msg}", err.lineno) from err
    for node in ast.walk(tree):
        lineno = getattr(node, "lineno", None)
        if isinstance(node, ast.Import | ast.ImportFrom):
            raise ScriptRestrictionError("import is not allowed in scripts", lineno)
        if isinstance(node, ast.Global | ast.Nonlocal):
            raise ScriptRestrictionError("global/nonlocal is not allowed in scripts", lineno)
        if isinstance(node, ast.Name):
            if node.id.startswith("_"):
                raise ScriptRestrictionError(f"name {node.id!r} starting with '_' refused", lineno)
            if node.id in _FORBIDDEN_NAMES:
                raise ScriptRestrictionError(f"{node.id!r} is not allowed in scripts", lineno)
        if isinstance(node, ast.Attribute):
            if node.attr.startswith("_"):
                raise ScriptRestrictionError(
                    f"attribute {node.attr!r} starting with '_' refused", lineno
                )
            if node.attr in _FORBIDDEN_ATTRIBUTES:
                raise ScriptRestrictionError(f"attribute {node.attr!r} is not allowed", lineno)
        if isinstance(node, ast.ClassDef | ast.AsyncFunctionDef):
            raise ScriptRestrictionError("class and async definitions are not allowed", lineno)
    return tree


@lru_cache(maxsize=4096)
def compile_restricted(source: str, mode: str = "exec"):
    """Check and compile once per distinct source; the same code object serves every instance."""
    tree = check_source(source, mode)
    return compile(tree, "<string>", mode)


class RestrictedEnvironment(TaskDataEnvironment):
    """TaskDataEnvironment whose evaluate/execute run only checked code with safe builtins."""

    def __init__(self, environment_globals: Mapping[str, Any] | None = None) -> None:
        super().__init__({**SCRIPT_HELPERS, **(environment_globals or {})})

    def _globals(self, external_context: Mapping[str, Any] | None) -> dict[str, Any]:
        return {"__builtins__": SAFE_BUILTINS, **self.globals, **(external_context or {})}

    def evaluate(self, expression, context, external_context=None):
        code = compile_restricted(expression.strip(), "eval")
        scope = self._globals(external_context)
        scope.update(context)
        return eval(code, scope)

    def execute(self, script, context, external_context=None):
        code = compile_restricted(script, "exec")
        self.check_for_overwrite(context, external_context or {})
        context.update(self._globals(external_context))
        try:
            exec(code, context)
        finally:
            self._remove_globals_and_functions_from_context(context, external_context)
        return True
