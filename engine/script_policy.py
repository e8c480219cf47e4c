"""What a BPMN script or expression may be: an allowlist of syntax, then RestrictedPython.

Two layers, both at validation (`certflow validate`) and at run time:
1. an allowlist of AST node types with a few rules on the allowed ones (no `_` names, no
   introspection attributes, no lambda defaults, no bare except/finally, constant format specs);
   anything not on the list (match, class, def, async, yield, with, import ...) is refused.
   `match` is the reason this is an allowlist: its class patterns name attributes as strings
   (`case str(format=F)`), which a denylist of `ast.Attribute` nodes never sees.
2. RestrictedPython's compiler, which routes every attribute access, subscript, iteration and
   write through guards (`engine.script_guards`); this module adds guards for the operators that
   can allocate without bound (`+ * ** << %`) and for every f-string value.
"""

import ast
import re
from functools import lru_cache

from RestrictedPython import RestrictingNodeTransformer
from RestrictedPython.compile import _compile_restricted_mode

from engine.script_limits import SCRIPT_FILENAME


class ScriptRestrictionError(ValueError):
    """A script or expression uses something the restricted environment refuses."""

    def __init__(self, message: str, lineno: int | None = None) -> None:
        super().__init__(message)
        self.lineno = lineno


_ALLOWED_NODES: frozenset[type] = frozenset(
    {
        # statements
        ast.Module, ast.Expression, ast.Expr, ast.Assign, ast.AugAssign, ast.Delete, ast.If,
        ast.For, ast.While, ast.Break, ast.Continue, ast.Pass, ast.Raise, ast.Assert, ast.Try,
        ast.ExceptHandler,
        # expressions
        ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Lambda, ast.IfExp, ast.Dict, ast.Set, ast.List,
        ast.Tuple, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.comprehension,
        ast.NamedExpr, ast.Compare, ast.Call, ast.keyword, ast.FormattedValue, ast.JoinedStr,
        ast.Constant, ast.Attribute, ast.Subscript, ast.Slice, ast.Starred, ast.Name,
        ast.arguments, ast.arg, ast.Load, ast.Store, ast.Del,
        # operators (no @)
        ast.And, ast.Or, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow,
        ast.LShift, ast.RShift, ast.BitOr, ast.BitXor, ast.BitAnd, ast.Invert, ast.Not,
        ast.UAdd, ast.USub, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is,
        ast.IsNot, ast.In, ast.NotIn,
    }
)  # fmt: skip

_CONSTANT_TYPES = (str, int, float, bool, type(None))

# Clearer messages for refused syntax people are likely to try.
_REFUSED_MESSAGES: dict[type, str] = {
    ast.Import: "import is not allowed in scripts",
    ast.ImportFrom: "import is not allowed in scripts",
    ast.Global: "global/nonlocal is not allowed in scripts",
    ast.Nonlocal: "global/nonlocal is not allowed in scripts",
    ast.ClassDef: "class and async definitions are not allowed",
    ast.AsyncFunctionDef: "class and async definitions are not allowed",
    ast.FunctionDef: "def is not allowed in scripts; use an expression or a lambda",
    ast.Match: "match statements are not allowed (their patterns name attributes as strings)",
    ast.With: "with statements are not allowed",
    ast.Yield: "yield is not allowed in scripts",
    ast.YieldFrom: "yield is not allowed in scripts",
}

# Builtins that reach the interpreter; named for a clear message (they do not exist at run time).
_FORBIDDEN_NAMES = frozenset(
    [
        "open",
        "exec",
        "eval",
        "compile",
        "getattr",
        "setattr",
        "delattr",
        "hasattr",
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
        "format",
        "id",
        "iter",
        "next",
        "repr",
        "ascii",
        "callable",
        "issubclass",
    ]
)

# Attributes without a leading underscore that lead to frames, code, globals or format strings.
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

_BIG_NUMBER = re.compile(r"\d{4,}")


def _problem(node: ast.AST) -> str | None:
    """Why an allowed-type node is still refused, or None."""
    if isinstance(node, ast.Name):
        if node.id.startswith("_"):
            return f"name {node.id!r} starting with '_' refused"
        if node.id in _FORBIDDEN_NAMES:
            return f"{node.id!r} is not allowed in scripts"
    elif isinstance(node, ast.Attribute):
        if node.attr.startswith("_"):
            return f"attribute {node.attr!r} starting with '_' refused"
        if node.attr in _FORBIDDEN_ATTRIBUTES:
            return f"attribute {node.attr!r} is not allowed"
        if not isinstance(node.ctx, ast.Load):
            return "assigning or deleting attributes is not allowed"
    elif isinstance(node, ast.Constant):
        if not isinstance(node.value, _CONSTANT_TYPES):
            return f"constants of type {type(node.value).__name__} are not allowed"
    elif isinstance(node, ast.Lambda):
        if node.args.defaults or any(d is not None for d in node.args.kw_defaults):
            return "lambda default arguments are not allowed"
    elif isinstance(node, ast.Try):
        if node.finalbody:
            return "try/finally is not allowed"
    elif isinstance(node, ast.ExceptHandler):
        return _handler_problem(node)
    elif isinstance(node, ast.comprehension) and node.is_async:
        return "async comprehensions are not allowed"
    elif isinstance(node, ast.FormattedValue) and node.format_spec is not None:
        return _format_spec_problem(node.format_spec)
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        left = node.left
        if isinstance(left, ast.JoinedStr) or (
            isinstance(left, ast.Constant) and isinstance(left.value, str)
        ):
            return "%-formatting of strings is not allowed; use + and str()"
    return None


def _handler_problem(node: ast.ExceptHandler) -> str | None:
    # A bare except would catch the time/memory breach; a computed type would run code after it.
    if node.type is None:
        return "a bare except is not allowed; name the exception"
    names = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
    if not all(isinstance(name, ast.Name) for name in names):
        return "except may only name exception classes"
    return None


def _format_spec_problem(spec: ast.AST) -> str | None:
    # A computed spec could ask for any width: f"{x:{n}}"; constant specs are checked here.
    parts = spec.values if isinstance(spec, ast.JoinedStr) else [spec]
    if not all(isinstance(part, ast.Constant) for part in parts):
        return "format specs must be constant (no nested {...})"
    if any(_BIG_NUMBER.search(str(part.value)) for part in parts):
        return "format spec width/precision above 999 is not allowed"
    return None


def check_syntax(tree: ast.AST) -> None:
    """Refuse any node not on the allowlist, or breaking a rule of an allowed node."""
    for node in ast.walk(tree):
        lineno = getattr(node, "lineno", None)
        if type(node) not in _ALLOWED_NODES:
            message = _REFUSED_MESSAGES.get(type(node))
            raise ScriptRestrictionError(
                message or f"{type(node).__name__} is not allowed in scripts", lineno
            )
        problem = _problem(node)
        if problem:
            raise ScriptRestrictionError(problem, lineno)


_GUARDED_OPERATORS: dict[type, str] = {
    ast.Add: "+",
    ast.Mult: "*",
    ast.Pow: "**",
    ast.LShift: "<<",
    ast.Mod: "%",
}


def _call(name: str, args: list[ast.expr], node: ast.AST) -> ast.Call:
    call = ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=args, keywords=[])
    return ast.fix_missing_locations(ast.copy_location(call, node))


class _CertflowPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy plus guards for allocating operators and f-string values."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        node = self.node_contents_visit(node)
        symbol = _GUARDED_OPERATORS.get(type(node.op))
        if symbol is None:
            return node
        return _call("_binop_", [ast.Constant(symbol), node.left, node.right], node)

    def visit_While(self, node: ast.While) -> ast.AST:
        # CPython 3.11 emits no line event for a one-line `while True: pass`; a call per
        # iteration lets the time limit see every loop, even if line tracing was lost.
        node = self.node_contents_visit(node)
        node.body.insert(0, ast.copy_location(ast.Expr(_call("_loop_tick_", [], node)), node))
        return node

    def visit_For(self, node: ast.For) -> ast.AST:
        node = super().visit_For(node)  # RestrictedPython wraps the iterable in _getiter_
        node.body.insert(0, ast.copy_location(ast.Expr(_call("_loop_tick_", [], node)), node))
        return node

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.AST:
        node = self.node_contents_visit(node)
        node.value = _call("_format_value_", [node.value], node.value)
        return node


_RP_LINE = re.compile(r"Line (\d+): (.*)", re.S)


@lru_cache(maxsize=4096)
def compile_checked(source: str, mode: str = "exec"):
    """Check and compile once per distinct source; the same code object serves every instance."""
    try:
        tree = ast.parse(source, mode=mode)
    except SyntaxError as err:
        raise ScriptRestrictionError(f"syntax error: {err.msg}", err.lineno) from err
    check_syntax(tree)
    result = _compile_restricted_mode(tree, SCRIPT_FILENAME, mode, policy=_CertflowPolicy)
    if result.errors:
        match = _RP_LINE.match(result.errors[0])
        if match:
            raise ScriptRestrictionError(match.group(2), int(match.group(1)))
        raise ScriptRestrictionError(result.errors[0])
    return result.code


def check_source(source: str, mode: str = "exec"):
    """Validate `source` as `certflow validate` and the run time do; returns the code object."""
    return compile_checked(source, mode)
