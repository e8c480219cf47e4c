"""Known Python sandbox escapes, as a process owner could type them into a script (issue 9).

`line` is the script line the refusal points at. `guards_alone` says that RestrictedPython and
our run-time guards stop the escape even with the syntax allowlist switched off (defence in
depth); the others are syntax only the allowlist refuses (match, def, with ...).
"""

from dataclasses import dataclass

SECRET_PATH_PLACEHOLDER = "SECRET_PATH"


@dataclass(frozen=True)
class Escape:
    id: str
    source: str
    line: int = 1
    guards_alone: bool = True


STATIC_ESCAPES: list[Escape] = [
    Escape("subclasses", "x = ().__class__.__bases__[0].__subclasses__()"),
    Escape("getattr-concat", "x = getattr(1, '__cl' + 'ass__')"),
    Escape("str-format-attribute", 'x = "{0.__class__}".format(1)'),
    Escape("str-format-globals", 'x = "{.__globals__}".format(add_months)'),
    Escape("format-map", 'x = "{a.__class__}".format_map({"a": 1})'),
    Escape("str-format-unbound", 'x = str.format("{0.__class__}", 1)'),
    Escape("fstring-attribute", 'x = f"{add_months.__globals__}"'),
    Escape("fstring-nested-spec", 'width = "9" * 9\nx = f"{1:>{width}}"', 2, False),
    Escape("fstring-huge-width", 'x = f"{1:>999999999}"', 1, False),
    Escape("generator-frame", "g = (i for i in [1])\nx = g.gi_frame.f_back.f_globals", 2),
    Escape("type-call", "x = type(1).__subclasses__"),
    Escape("type-new-class", "x = type('X', (), {})"),
    Escape("vars", "x = vars()"),
    Escape("dir", "x = dir()"),
    Escape("globals", "x = globals()['__builtins__']"),
    Escape("builtins-name", "x = __builtins__"),
    Escape("dict-get-builtins", "x = dict.get(__builtins__, 'open')"),
    Escape("decorator", "@add_months\ndef f():\n    pass\nx = f", 2, False),
    Escape("lambda-default", "f = lambda g=add_months: g\nx = f()", 1, False),
    Escape("lambda-code", "x = (lambda: 0).__code__"),
    Escape(
        "traceback-frame",
        "try:\n    1 / 0\nexcept ZeroDivisionError as e:\n"
        "    x = e.__traceback__.tb_frame.f_back.f_globals",
        4,
    ),
    Escape("reduce-ex", "x = (1).__reduce_ex__(2)"),
    Escape("mro", "x = [].__class__.mro()"),
    Escape("attrgetter", "import operator\nx = operator.attrgetter('__class__')(1)"),
    Escape("format-builtin", "x = format(1, '>999999999')"),
    Escape("percent-mapping", 'x = "%(a)s" % {"a": 1}', 1, False),
    Escape(
        "match-class-format",
        'match "s":\n    case str(format=F):\n        x = F("{0.__class__}", 1)',
        1,
        False,
    ),
    Escape(
        "match-class-dunder", "match ():\n    case tuple(__class__=C):\n        x = C", 1, False
    ),
    Escape(
        "match-mapping", 'match {"a": 1}:\n    case {"a": v, **rest}:\n        x = rest', 1, False
    ),
    Escape("helper-globals", "x = parse_date.__globals__['__builtins__']['open']"),
    Escape("dunder-import", "x = __import__('os').environ"),
    Escape("import-os-environ", "import os\nx = dict(os.environ)"),
    Escape("open-secret-key", f"x = open('{SECRET_PATH_PLACEHOLDER}').read()"),
    Escape("eval", "x = eval('1')"),
    Escape("exec", "exec('x = 1')"),
    Escape("class-def", "class A:\n    pass\nx = A", 1, False),
    Escape("with-open", "with open('/etc/passwd') as f:\n    x = f.read()", 1, False),
    Escape("bare-except-swallows-limits", "try:\n    x = 1\nexcept:\n    x = 2", 3, False),
    Escape("finally-runs-after-limits", "try:\n    x = 1\nfinally:\n    x = 2", 1, False),
    Escape(
        "computed-except", "try:\n    x = 1\nexcept (lambda: ValueError)():\n    x = 2", 3, False
    ),
    Escape("attribute-write", "y = []\ny.append = 1\nx = y", 2),
    Escape("async-def", "async def f():\n    pass\nx = f", 1, False),
    Escape("bytes-constant", "x = b'payload'", 1, False),
]

# Valid syntax on data the checker cannot type statically; only the run-time guards refuse these.
RUNTIME_ESCAPES: list[Escape] = [
    Escape(
        "exception-method",
        "try:\n    1 / 0\nexcept ZeroDivisionError as e:\n    x = e.with_traceback",
    ),
    Escape("generator-method", "g = (i for i in [1])\nx = g.send"),
    Escape("function-attribute", "x = add_months.keywords"),
    Escape("class-attribute", "x = str.maketrans"),
    Escape("timedelta-class-attribute", "x = timedelta.max"),
    Escape("percent-on-variable", 'template = "%(a)s"\nx = template % {"a": 1}'),
    Escape("fstring-of-function", 'x = f"{add_months}"'),
    Escape("sum-of-lists", "x = sum([[1], [2]], [])"),
    Escape("huge-power", "x = 10 ** 10 ** 8"),
    Escape("huge-shift", "x = 1 << 10 ** 9"),
]

# Gateway conditions (eval mode).
CONDITION_ESCAPES: list[Escape] = [
    Escape("condition-subclasses", "len(().__class__.__bases__[0].__subclasses__()) > 0"),
    Escape("condition-format", '"{0.__class__}".format(1) != ""'),
    Escape("condition-open", f"open('{SECRET_PATH_PLACEHOLDER}').read() != ''"),
    Escape("condition-lambda-default", "(lambda f=add_months: f)() is None"),
    Escape("condition-walrus-generator", "[(g := (i for i in [1])).gi_frame for _ in [0]] != []"),
]
