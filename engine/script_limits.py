"""Time and memory bounds for one script or expression run (issue 9, item 4).

In-process, so a gateway condition costs microseconds rather than a worker round trip:
- time: a `sys.settrace` hook on the script's own frames checks, every few milliseconds, the CPU
  time the run's thread has used (loops jump back to a line, so `while True: pass` is caught
  too). CPU time, not wall time, so a busy machine does not stop a script that is within its
  budget; a wall-clock bound of WALL_FACTOR × the limit, checked on every line, holds
  regardless (a starved run must not hold its database transaction for long either);
- memory: the same hook samples the process RSS growth every few milliseconds (from the first
  sample, 2 ms into the run), and the operation guards (`engine.script_guards`) refuse a single
  allocation above the limit before it happens.
- neither bound counts the interpreter's garbage collections: a collection triggered while the
  script runs scans the whole process heap, not the script's objects, and on a large heap a full
  collection alone can outlast the 2 s budget (a one-name parameter expression once failed that
  way). The collections are timed through `gc.callbacks` and deducted; the script's own lines
  stay charged, and the memory bound still holds.
A breach raises `_Breach` (a BaseException, which no script can catch: bare `except`, `finally`
and non-name handlers are refused by `engine.script_policy`); the environment turns it into
`ScriptLimitExceeded`, an ordinary error the engine records as an incident.

What this cannot bound: one C-level builtin call that does a lot of work without running script
lines, e.g. hashing or printing a structure that nests shared references thousands deep. The
guards keep sizes capped (ranges, repetition, concatenation, padding), which bounds those calls
only indirectly; a strict bound needs a worker process with rlimits.
"""

import gc
import os
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from certflow.settings import Settings

SCRIPT_FILENAME = "<string>"  # SpiffWorkflow looks for this name to report the failing line

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_MEMORY_SAMPLE_SECONDS = 0.002  # also how often the CPU time is read (a system call)
WALL_FACTOR = 10
MAX_INT_BITS = 100_000  # ~30,000 decimal digits; bigger ints only make C-level work slow


class ScriptLimitExceeded(Exception):
    """A script or expression ran too long or allocated too much; the engine makes an incident."""


class _Breach(BaseException):
    """Raised inside the script; BaseException so that `except Exception` does not swallow it."""


@dataclass(frozen=True)
class ScriptLimits:
    """Per-run limits; defaults 2 s and 64 MB (CERTFLOW_SCRIPT_TIMEOUT_SECONDS/_MEMORY_MB)."""

    timeout_seconds: float = 2.0
    memory_mb: float = 64.0

    @classmethod
    def from_settings(cls, settings: "Settings") -> "ScriptLimits":
        """From the one settings object (certflow/settings.py), validated at start."""
        return cls(settings.script_timeout_seconds, settings.script_memory_mb)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "ScriptLimits":
        return cls(
            timeout_seconds=_positive(environ, "CERTFLOW_SCRIPT_TIMEOUT_SECONDS", 2.0),
            memory_mb=_positive(environ, "CERTFLOW_SCRIPT_MEMORY_MB", 64.0),
        )

    @property
    def memory_bytes(self) -> int:
        return int(self.memory_mb * 1024 * 1024)

    @property
    def max_items(self) -> int:
        """Longest range/list a guarded operation may create (~64 bytes per item with objects)."""
        return max(self.memory_bytes // 64, 1000)


def _positive(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a positive number, not {raw!r}") from None
    if not value > 0:
        raise ValueError(f"{name} must be a positive number, not {raw!r}")
    return value


class _Rss:
    """Resident set size from /proc/self/statm, fd kept open (reopened after a fork)."""

    def __init__(self) -> None:
        self._pid = -1
        self._fd = -1

    def __call__(self) -> int:
        try:
            if self._pid != os.getpid():
                self._fd = os.open("/proc/self/statm", os.O_RDONLY)
                self._pid = os.getpid()
            return int(os.pread(self._fd, 128, 0).split()[1]) * _PAGE_SIZE
        except OSError:
            return 0  # not Linux: only the operation guards bound memory


current_rss = _Rss()
_local = threading.local()


def current_budget() -> "Budget | None":
    return getattr(_local, "budget", None)


def current_limits() -> ScriptLimits:
    budget = current_budget()
    return budget.limits if budget is not None else ScriptLimits()


class Budget:
    """Bounds one run: `with Budget(limits): exec(...)`; `breached` says why it was stopped."""

    def __init__(self, limits: ScriptLimits) -> None:
        self.limits = limits
        self.breached: str | None = None

    def __enter__(self) -> "Budget":
        self._gc_cpu = self._gc_wall = 0.0  # seconds spent in collections during the run
        self._gc_started: tuple[float, float] | None = None
        now = time.monotonic()
        self._wall_deadline = now + self.limits.timeout_seconds * WALL_FACTOR
        self._cpu_deadline = time.thread_time() + self.limits.timeout_seconds
        # The RSS baseline is read at the first sample, not here: most runs end within
        # microseconds and never pay the system call (what they allocate meanwhile is bounded
        # by the operation guards alone).
        self._next_sample = now + _MEMORY_SAMPLE_SECONDS
        self._rss_start: int | None = None
        self._outer = current_budget()
        self._previous_trace = sys.gettrace()
        _local.budget = self
        sys.settrace(self._trace_call)
        return self

    def __exit__(self, *exc_info) -> None:
        sys.settrace(self._previous_trace)
        _local.budget = self._outer
        if self._outer is not None:  # the outer run is not charged for these collections either
            self._outer._gc_cpu += self._gc_cpu
            self._outer._gc_wall += self._gc_wall

    def _trace_call(self, frame, event, arg):
        # Only the script's own frames (and its lambdas/comprehensions) pay for line tracing.
        if frame.f_code.co_filename != SCRIPT_FILENAME:
            return None
        self.check()
        return self._trace_line

    def _trace_line(self, frame, event, arg):
        self.check()
        return self._trace_line

    def check(self) -> None:
        """Raise `_Breach` once the deadline or the memory cap is passed (and ever after)."""
        if self.breached:
            raise _Breach(self.breached)
        now = time.monotonic()
        # Collections are deducted only when a deadline looks passed: checks run on every line.
        if now > self._wall_deadline and now - self._collections()[1] > self._wall_deadline:
            self.breach_time()
        if now >= self._next_sample:
            self._next_sample = now + _MEMORY_SAMPLE_SECONDS
            cpu = time.thread_time()
            if cpu > self._cpu_deadline and cpu - self._collections()[0] > self._cpu_deadline:
                self.breach_time()
            rss = current_rss()
            if self._rss_start is None:
                self._rss_start = rss
            elif rss - self._rss_start > self.limits.memory_bytes:
                self.breach_memory()

    def _collections(self) -> tuple[float, float]:
        """CPU and wall seconds of this run spent in garbage collections, one in progress too
        (finalizers run inside a collection and may reach a check)."""
        if self._gc_started is None:
            return self._gc_cpu, self._gc_wall
        cpu, wall = self._gc_started
        return (
            self._gc_cpu + time.thread_time() - cpu,
            self._gc_wall + time.monotonic() - wall,
        )

    def gc_phase(self, phase: str) -> None:
        if phase == "start":
            self._gc_started = (time.thread_time(), time.monotonic())
        elif self._gc_started is not None:
            self._gc_cpu, self._gc_wall = self._collections()
            self._gc_started = None

    def check_from_guard(self) -> None:
        """`check`, plus: line tracing must still be on. CPython switches it off for good when the
        trace function itself fails (deep recursion); then the run is stopped rather than left
        without its time limit."""
        if sys.gettrace() != self._trace_call:
            self.breach("lost its time limit (recursion too deep)")
        self.check()

    def breach_time(self) -> None:
        self.breach(
            f"ran longer than {self.limits.timeout_seconds:g} s (CERTFLOW_SCRIPT_TIMEOUT_SECONDS)"
        )

    def breach_memory(self) -> None:
        self.breach(f"used more than {self.limits.memory_mb:g} MB (CERTFLOW_SCRIPT_MEMORY_MB)")

    def breach(self, reason: str) -> None:
        self.breached = reason
        raise _Breach(reason)


def _on_collection(phase: str, info: dict) -> None:
    """gc callback: a collection runs in the thread that triggered it, so it belongs to that
    thread's running budget, if any."""
    budget = getattr(_local, "budget", None)
    if budget is not None:
        budget.gc_phase(phase)


gc.callbacks.append(_on_collection)


def run_bounded(limits: ScriptLimits, run):
    """Call `run()` under a Budget; a breach comes out as ScriptLimitExceeded (no chained cause)."""
    budget = Budget(limits)
    try:
        with budget:
            return run()
    except BaseException:
        if not budget.breached:
            raise
    # Raised outside the except block so the incident names ScriptLimitExceeded, not _Breach.
    raise ScriptLimitExceeded(f"script limit exceeded: the script {budget.breached}")
