"""The engine library's own share of a simulation (issue 16's lower bound).

Every change of an instance — a task completed, a timer fired, a message delivered — restores the
workflow (unless its process kept it), runs SpiffWorkflow's steps and serializes the state
again. That much any engine built on SpiffWorkflow 3.2 pays whatever its database, web layer or
handlers do. `EngineFloor` times exactly that during a simulation: the outermost call of
SpiffWorkflow's entry points and of the engine's state serializer (the compact one, cheaper than
the library's own), minus the time spent in the handlers that service tasks call. What it leaves
out (our task index, event log, forms, the database) is not part of the floor, so the figure is a
lower bound of the time a change costs, not an estimate of it.

Installed by the lifecycle benchmark (it replaces methods on the classes of the process it runs
in) and, for one completion, by its own test; no other test runs with it."""

import functools
from time import perf_counter

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import Task

from engine.core import EngineCore
from engine.scripting import CertflowScriptEngine
from engine.serialization import WorkflowSerializer

# (class, method): the library's work in a change, and our state serializer
INCLUDED = (
    (BpmnWorkflow, "do_engine_steps"),
    (BpmnWorkflow, "send_event"),
    (BpmnWorkflow, "refresh_timers"),
    (Task, "run"),
    (EngineCore, "_load_to_change"),  # a change's restore (a page's own copy is not counted)
    (WorkflowSerializer, "dump_workflow"),
)
PARTS = {"_load_to_change": "restore", "dump_workflow": "serialize"}  # the rest: "steps"
HANDLERS = "handlers"  # a part of its own, outside the floor: the time left out
FLOOR_PARTS = ("steps", "restore", "serialize")
# the handlers a service task calls: our domain's work, not the library's
EXCLUDED = ((CertflowScriptEngine, "call_service"),)


def floor_seconds(parts: dict[str, float]) -> float:
    """The floor: its parts added up, the handlers' time not among them."""
    return sum(parts.get(part, 0.0) for part in FLOOR_PARTS)


class EngineFloor:
    """Seconds spent in `INCLUDED` (outermost calls) minus `EXCLUDED` (outermost, inside them),
    by part."""

    def __init__(self) -> None:
        # seconds by part of the floor (FLOOR_PARTS), and the handlers' time left out of it
        self.parts: dict[str, float] = {}
        self._inside = False  # within an included call (an inner one is counted by it)
        self._in_excluded = False
        self._excluded = 0.0  # seconds in excluded calls since the outermost included one began
        self._originals: list[tuple[type, str, object]] = []

    def install(self) -> "EngineFloor":
        for owner, name in INCLUDED:
            self._replace(owner, name, self._included)
        for owner, name in EXCLUDED:
            self._replace(owner, name, self._excluded_call)
        return self

    def uninstall(self) -> None:
        for owner, name, original in reversed(self._originals):
            setattr(owner, name, original)
        self._originals.clear()

    def take(self) -> dict[str, float]:
        """The seconds counted since the last call, by part (counting starts again)."""
        taken, self.parts = self.parts, {}
        return taken

    def _replace(self, owner: type, name: str, timing) -> None:
        original = owner.__dict__[name]
        self._originals.append((owner, name, original))
        part = PARTS.get(name, "steps")

        @functools.wraps(original)
        def timed(*args, **kwargs):
            return timing(original, part, args, kwargs)

        setattr(owner, name, timed)

    def _included(self, original, part: str, args, kwargs):
        if self._inside:
            return original(*args, **kwargs)  # counted by the outermost call
        self._inside, self._excluded = True, 0.0
        started = perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            seconds = perf_counter() - started - self._excluded
            self.parts[part] = self.parts.get(part, 0.0) + seconds
            self._inside = False

    def _excluded_call(self, original, _part: str, args, kwargs):
        if not self._inside or self._in_excluded:
            return original(*args, **kwargs)
        self._in_excluded = True
        started = perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            seconds = perf_counter() - started
            self._excluded += seconds
            self.parts[HANDLERS] = self.parts.get(HANDLERS, 0.0) + seconds
            self._in_excluded = False
