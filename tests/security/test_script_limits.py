"""Time and memory bounds of one script run, without the database (issue 9, item 4)."""

import time

import pytest

from engine.restricted import RestrictedEnvironment, ScriptLimitExceeded, ScriptRestrictionError
from engine.script_limits import WALL_FACTOR, ScriptLimits

LIMITS = ScriptLimits(timeout_seconds=0.3, memory_mb=32)


def run(script: str, data: dict | None = None) -> dict:
    context = dict(data or {})
    RestrictedEnvironment(limits=LIMITS).execute(script, context)
    return context


def test_limits_come_from_the_environment_with_documented_defaults():
    assert ScriptLimits.from_env({}) == ScriptLimits(timeout_seconds=2.0, memory_mb=64.0)
    limits = ScriptLimits.from_env(
        {"CERTFLOW_SCRIPT_TIMEOUT_SECONDS": "0.25", "CERTFLOW_SCRIPT_MEMORY_MB": "16"}
    )
    assert (limits.timeout_seconds, limits.memory_bytes) == (0.25, 16 * 1024 * 1024)


@pytest.mark.parametrize("value", ["0", "-1", "two", "nan"])
def test_a_bad_limit_setting_names_the_variable(value):
    with pytest.raises(ValueError, match="CERTFLOW_SCRIPT_TIMEOUT_SECONDS must be a positive"):
        ScriptLimits.from_env({"CERTFLOW_SCRIPT_TIMEOUT_SECONDS": value})


@pytest.mark.parametrize(
    "script",
    [
        "while True: pass",  # one line: CPython 3.11 emits no line event for this loop
        "while True:\n    pass",
        "n = 0\nwhile n >= 0:\n    n = n + 1",
        "x = [i for i in range(10**5) for j in range(10**5)]",
        "x = sum(1 for i in range(10**5) for j in range(10**5))",
        "x = sorted(range(10**5), key=lambda i: sum(j for j in range(10**5)))",
        "try:\n    while True:\n        pass\nexcept Exception:\n    caught = True",
        "for i in range(10**5):\n    try:\n        while True: pass\n"
        "    except Exception:\n        pass",
        # Deep recursion can switch line tracing off; loops still call the guards.
        "f = lambda n: f(n + 1)\ntry:\n    f(0)\nexcept Exception:\n    pass\n"
        "x = [0 for i in range(10**5) for j in range(10**5)]",
    ],
    ids=[
        "one-line",
        "two-lines",
        "counter",
        "listcomp",
        "genexp",
        "lambda",
        "caught",
        "nested",
        "after-recursion",
    ],
)
def test_endless_work_stops_at_the_time_limit(script):
    started = time.monotonic()
    with pytest.raises(ScriptLimitExceeded, match="ran longer than 0.3 s"):
        run(script)
    # Bounded, not a speed figure: the hard wall-clock bound is WALL_FACTOR × the limit.
    assert time.monotonic() - started < 0.3 * WALL_FACTOR + 10


@pytest.mark.parametrize(
    "script",
    [
        "x = 'a' * 10**10",
        "x = [0] * 10**10",
        "x = range(10**12)",
        "x = 'x'.ljust(10**10)",
        "x = 'x'.zfill(10**10)",
        "x = ('a' * 1000).replace('a', 'b' * 10**6)",
        "x = ','.join(['a' * 10**6] * 100)",
        "x = [1]\nwhile True:\n    x.extend(x)",
        "x = 'a'\nwhile True:\n    x = x + x",
        "x = [1]\nwhile True:\n    x *= 2",
        "chunks = []\nwhile True:\n    chunks.append('x' * 100000 + str(len(chunks)))",
    ],
)
def test_allocation_without_end_stops_at_the_memory_limit(script):
    started = time.monotonic()
    with pytest.raises(ScriptLimitExceeded, match="used more than 32 MB"):
        RestrictedEnvironment(limits=ScriptLimits(timeout_seconds=10, memory_mb=32)).execute(
            script, {}
        )
    assert time.monotonic() - started < 10 * WALL_FACTOR


@pytest.mark.parametrize(
    "script",
    [
        "x = 10 ** 10 ** 8",
        "x = 1 << 10**9",
        "x = 2 ** 200000",
        "x = sum([[1]], [])",
        "x = round(5, -10**8)",
    ],
)
def test_huge_integers_and_list_sums_are_refused(script):
    with pytest.raises(ScriptRestrictionError):
        run(script)


def test_a_breach_leaves_the_task_data_as_they_were():
    data = {"items": [1, 2], "meta": {"count": 2}}
    context = {"items": [1, 2], "meta": {"count": 2}}
    script = "items.append(3)\nmeta['count'] = 3\nfresh = 1\nwhile True:\n    pass"
    with pytest.raises(ScriptLimitExceeded):
        RestrictedEnvironment(limits=LIMITS).execute(script, context)
    assert context == data


def test_ordinary_scripts_run_and_see_their_helpers():
    result = run(
        "due = add_months(parse_date(start), 1).isoformat()\n"
        "late = (parse_date('2026-03-01') - parse_date(start)).days > 20\n"
        "total = 0\n"
        "for score in scores:\n"
        "    total += score\n"
        "names = ', '.join(sorted(n.upper() for n in owners))\n"
        "label = f'{total:>5}|{late!r}'\n"
        "rounded = round(2.675, 2) + round(7)\n"
        "lookup = {'a': 1}\n"
        "lookup['b'] = lookup.get('a', 0) + 1\n"
        "del lookup['a']",
        {"start": "2026-01-31", "scores": [70, 85], "owners": ["li", "wang"]},
    )
    assert result["due"] == "2026-02-28"
    assert result["late"] is True
    assert result["total"] == 155
    assert result["names"] == "LI, WANG"
    assert result["label"] == "  155|True"
    assert result["rounded"] == 2.67 + 7
    assert result["lookup"] == {"b": 2}


def test_the_limit_applies_per_run_not_per_engine():
    env = RestrictedEnvironment(limits=LIMITS)
    for _ in range(3):
        context: dict = {}
        env.execute("n = 0\nfor i in range(20000):\n    n = n + i", context)
        assert context["n"] == sum(range(20000))
    assert env.evaluate("a + 1", {"a": 1}) == 2


def test_a_run_whose_line_tracing_was_switched_off_is_stopped_at_the_next_guard():
    # CPython drops the trace function for good if it fails (e.g. RecursionError inside it);
    # the guards then stop the run instead of letting it continue without a time limit.
    import sys

    from engine.script_guards import guarded_getiter
    from engine.script_limits import _Breach, run_bounded

    def lose_tracing_then_loop():
        sys.settrace(None)
        guarded_getiter([1])

    with pytest.raises(ScriptLimitExceeded, match="lost its time limit"):
        run_bounded(LIMITS, lose_tracing_then_loop)
    assert _Breach.__mro__[1] is BaseException  # scripts' `except Exception` cannot catch it


@pytest.fixture(scope="module")
def large_heap():
    """Enough tracked containers that one full collection takes longer than a small budget."""
    import gc

    gc.disable()  # building it would otherwise trigger ever longer collections
    try:
        heap = [[i] for i in range(2_000_000)]
    finally:
        gc.enable()
    start = time.thread_time()
    gc.collect()
    assert time.thread_time() - start > 0.05, "the heap is too small to make the point"
    yield heap


def test_a_garbage_collection_during_a_run_is_not_charged_to_the_script(large_heap):
    """A collection scans the whole heap, not the script's objects: on a large heap a full one
    outlasted the budget of a one-name expression (a service-task parameter) in a full test run."""
    import gc

    environment = RestrictedEnvironment(limits=ScriptLimits(timeout_seconds=0.05, memory_mb=256))
    assert environment.evaluate("collect() + org_name", {"org_name": 1}, {"collect": gc.collect})


def test_a_script_that_loops_is_still_stopped_after_a_collection(large_heap):
    import gc

    environment = RestrictedEnvironment(limits=ScriptLimits(timeout_seconds=0.05, memory_mb=256))
    with pytest.raises(ScriptLimitExceeded, match="ran longer than"):
        environment.execute("collect()\nwhile True:\n    pass", {}, {"collect": gc.collect})
