"""Run-time guards RestrictedPython's compiled code calls (`_getattr_`, `_getitem_`, ...).

Attribute access is an allowlist per exact type: the plain data scripts see (JSON values, dates,
timedeltas) and only the listed attributes; anything else (classes, functions, generators,
exceptions, frames) has no attributes at all for a script. No name starting with "_" passes,
and neither do `str.format`/`format_map`. Operations that could allocate without bound are
checked against the run's limits (`engine.script_limits`) before they happen.
"""

import operator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from RestrictedPython.Eval import default_guarded_getitem
from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence

from engine.script_limits import MAX_INT_BITS, current_budget, current_limits
from engine.script_policy import ScriptRestrictionError

_STR = frozenset(
    [
        "capitalize",
        "casefold",
        "count",
        "endswith",
        "find",
        "index",
        "isalnum",
        "isalpha",
        "isascii",
        "isdecimal",
        "isdigit",
        "isidentifier",
        "islower",
        "isnumeric",
        "isprintable",
        "isspace",
        "istitle",
        "isupper",
        "lower",
        "lstrip",
        "partition",
        "removeprefix",
        "removesuffix",
        "rfind",
        "rindex",
        "rpartition",
        "rsplit",
        "rstrip",
        "split",
        "splitlines",
        "startswith",
        "strip",
        "swapcase",
        "title",
        "upper",
        "center",
        "ljust",
        "rjust",
        "zfill",
        "join",
        "replace",
    ]
)
_NUMBER = frozenset(
    ["real", "imag", "numerator", "denominator", "bit_length", "is_integer", "conjugate"]
)
# Read-only set methods; `set` adds its mutators (on the script's own sets only, see _write_).
_FROZENSET_METHODS = frozenset(
    [
        "copy",
        "union",
        "intersection",
        "difference",
        "symmetric_difference",
        "issubset",
        "issuperset",
        "isdisjoint",
    ]
)
_DATE = frozenset(
    ["year", "month", "day", "isoformat", "weekday", "isoweekday", "replace", "toordinal"]
)
_ATTRIBUTES: dict[type, frozenset[str]] = {
    str: _STR,
    list: frozenset(
        [
            "append",
            "count",
            "index",
            "copy",
            "extend",
            "insert",
            "pop",
            "remove",
            "reverse",
            "sort",
            "clear",
        ]
    ),
    dict: frozenset(
        [
            "get",
            "items",
            "keys",
            "values",
            "copy",
            "pop",
            "setdefault",
            "update",
            "popitem",
            "clear",
        ]
    ),
    tuple: frozenset(["count", "index"]),
    set: _FROZENSET_METHODS | {"add", "discard", "remove", "pop", "clear", "update"},
    frozenset: _FROZENSET_METHODS,
    int: _NUMBER,
    bool: _NUMBER,
    float: _NUMBER,
    Decimal: frozenset(["is_nan", "is_signed", "quantize", "to_integral_value"]),
    date: _DATE,
    datetime: _DATE | frozenset(["hour", "minute", "second", "microsecond", "date"]),
    timedelta: frozenset(["days", "seconds", "microseconds", "total_seconds"]),
}


def _check_deadline() -> None:
    budget = current_budget()
    if budget is not None:
        budget.check_from_guard()


def _refuse_memory(what: str) -> None:
    budget = current_budget()
    if budget is not None:
        budget.breach_memory()  # an incident like any memory breach
    raise ScriptRestrictionError(f"{what} exceeds the script memory limit")


def _check_bytes(estimate: int, what: str) -> None:
    if estimate > current_limits().memory_bytes:
        _refuse_memory(what)


# Bytes counted per character, not 1-4: one C call (list(s), s.split()) turns each character
# into an 8-byte list slot, so a string may be at most an eighth of the memory limit.
_STR_UNIT = 8


def guarded_getattr(obj: Any, name: str) -> Any:
    """`obj.name` in a script: only allowlisted attributes of allowlisted types."""
    _check_deadline()
    if not isinstance(name, str) or name.startswith("_"):
        raise ScriptRestrictionError(f"attribute {name!r} is not allowed")
    if name not in _ATTRIBUTES.get(type(obj), ()):
        raise ScriptRestrictionError(
            f"attribute {name!r} of {type(obj).__name__} is not allowed in scripts"
        )
    value = getattr(obj, name)
    if type(obj) is str and name in _SIZED_STR_METHODS:
        return _SIZED_STR_METHODS[name](obj)
    if type(obj) is list and name == "extend":
        return _list_extend(obj)
    return value


def _padded(name: str):
    def bind(text: str):
        method = getattr(text, name)

        def padded(width, *args):
            if isinstance(width, int):
                _check_bytes(width * _STR_UNIT, f"str.{name}")
            return method(width, *args)

        return padded

    return bind


def _replace(text: str):
    def replace(old, new, count=-1):
        if isinstance(old, str) and isinstance(new, str):
            hits = text.count(old) if count < 0 else min(count, text.count(old))
            grown = len(text) + hits * max(len(new) - len(old), 0)
            _check_bytes(grown * _STR_UNIT, "str.replace")
        return text.replace(old, new, count)

    return replace


def _join(separator: str):
    def join(iterable):
        items = list(iterable)
        total = sum(len(item) for item in items if isinstance(item, str))
        _check_bytes((total + len(separator) * len(items)) * _STR_UNIT, "str.join")
        return separator.join(items)

    return join


_SIZED_STR_METHODS = {
    "center": _padded("center"),
    "ljust": _padded("ljust"),
    "rjust": _padded("rjust"),
    "zfill": _padded("zfill"),
    "replace": _replace,
    "join": _join,
}


def _list_extend(target: list):
    def extend(iterable):
        items = iterable if isinstance(iterable, list | tuple) else list(iterable)
        _check_items(len(target) + len(items), "list.extend")
        target.extend(items)

    return extend


def _check_items(count: int, what: str) -> None:
    if count > current_limits().max_items:
        _refuse_memory(what)


def _sized(value: Any) -> int | None:
    """Bytes a repeated/concatenated value costs per unit of length, None when not a sequence."""
    if isinstance(value, str):
        return _STR_UNIT
    if isinstance(value, bytes):
        return 1
    if isinstance(value, list | tuple):
        return 64
    return None


def _check_int(bits: int, what: str) -> None:
    if bits > MAX_INT_BITS:
        raise ScriptRestrictionError(f"{what}: integers above {MAX_INT_BITS} bits are refused")


_SMALL = 4096  # operands this short cannot produce anything near a limit with + or *
_SEQUENCE_TYPES = (str, list, tuple, bytes)


def _check_binop(symbol: str, left: Any, right: Any) -> None:
    # Fast paths first: gateway conditions and payloads add small strings and numbers.
    if symbol == "+":
        sequences = isinstance(left, _SEQUENCE_TYPES) and isinstance(right, _SEQUENCE_TYPES)
        if sequences and len(left) + len(right) > _SMALL:
            _check_bytes((len(left) + len(right)) * _sized(left), "concatenation")
        return
    if symbol == "%" and isinstance(left, str | bytes):
        raise ScriptRestrictionError("%-formatting of strings is not allowed; use + and str()")
    if symbol == "*":
        for seq, times in ((left, right), (right, left)):
            unit = _sized(seq)
            if unit is not None and isinstance(times, int):
                _check_bytes(len(seq) * max(times, 0) * unit, "sequence repetition")
        if isinstance(left, int) and isinstance(right, int):
            _check_int(left.bit_length() + right.bit_length(), "multiplication")
    elif symbol == "**" and isinstance(left, int) and isinstance(right, int):
        if right > 0 and abs(left) > 1:
            _check_int(left.bit_length() * right, "power")
    elif symbol == "<<" and isinstance(left, int) and isinstance(right, int) and left:
        _check_int(left.bit_length() + max(right, 0), "shift")


_OPERATORS = {
    "+": operator.add,
    "*": operator.mul,
    "**": operator.pow,
    "<<": operator.lshift,
    "%": operator.mod,
}


def guarded_binop(symbol: str, left: Any, right: Any) -> Any:
    _check_binop(symbol, left, right)
    return _OPERATORS[symbol](left, right)


_INPLACE = {
    "+=": operator.iadd,
    "-=": operator.isub,
    "*=": operator.imul,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
    "**=": operator.ipow,
    "<<=": operator.ilshift,
    ">>=": operator.irshift,
    "|=": operator.ior,
    "^=": operator.ixor,
    "&=": operator.iand,
}


def guarded_inplacevar(op: str, target: Any, value: Any) -> Any:
    """`x += y` (RestrictedPython allows augmented assignment of names only)."""
    if op not in _INPLACE:
        raise ScriptRestrictionError(f"operator {op} is not allowed")
    _check_binop(op[:-1], target, value)
    return _INPLACE[op](target, value)


def guarded_format_value(value: Any) -> Any:
    """Each f-string value: plain data only (a foreign `__format__` could do anything)."""
    if type(value) not in _ATTRIBUTES and value is not None:
        raise ScriptRestrictionError(
            f"f-strings may format plain values only, not {type(value).__name__}"
        )
    return value


class _ItemWriter:
    """What `_write_` hands out: item assignment and deletion, never attribute assignment."""

    __slots__ = ("_target",)

    def __init__(self, target: dict | list) -> None:
        object.__setattr__(self, "_target", target)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._target[key] = value

    def __delitem__(self, key: Any) -> None:
        del self._target[key]

    def __setattr__(self, name: str, value: Any) -> None:
        raise ScriptRestrictionError("assigning attributes is not allowed")

    def __delattr__(self, name: str) -> None:
        raise ScriptRestrictionError("deleting attributes is not allowed")


def guarded_write(obj: Any) -> Any:
    """`obj[key] = ...` / `del obj[key]`: only on the script's own dicts and lists."""
    if type(obj) in (dict, list):
        return _ItemWriter(obj)
    raise ScriptRestrictionError(f"writing into {type(obj).__name__} is not allowed")


def guarded_getiter(obj: Any) -> Any:
    _check_deadline()
    return iter(obj)


def guarded_apply(func: Any, *args: Any, **kwargs: Any) -> Any:
    return func(*args, **kwargs)


def guarded_range(*args: int) -> range:
    span = range(*args)
    _check_items(len(span), "range")
    return span


def guarded_sum(iterable: Any, start: Any = 0) -> Any:
    # Summing lists or tuples concatenates in C, quadratically and without a guard.
    if not isinstance(start, int | float | Decimal | timedelta):
        raise ScriptRestrictionError("sum() adds numbers only")
    return sum(iterable, start)


def guarded_round(number: Any, ndigits: int | None = None) -> Any:
    # round(5, -10**8) computes 10**(10**8) in C before it answers.
    if isinstance(ndigits, int) and abs(ndigits) > 1000:
        raise ScriptRestrictionError("round() to more than 1000 digits is refused")
    return round(number) if ndigits is None else round(number, ndigits)


GUARDS: dict[str, Any] = {
    "_getattr_": guarded_getattr,
    "_getitem_": default_guarded_getitem,
    "_getiter_": guarded_getiter,
    "_write_": guarded_write,
    "_inplacevar_": guarded_inplacevar,
    "_apply_": guarded_apply,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_binop_": guarded_binop,
    "_format_value_": guarded_format_value,
    "_loop_tick_": _check_deadline,
}

GUARDED_BUILTINS: dict[str, Any] = {
    "range": guarded_range,
    "sum": guarded_sum,
    "round": guarded_round,
}
