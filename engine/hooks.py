"""Hooks: functions the application registers to react to engine events, called by the engine
inside the operation's transaction (so what a hook writes commits or rolls back with it, and a
hook that raises aborts the operation).

    hooks = Hooks()

    @hooks.on(MessageDelivered)
    def link_follow_up(event: MessageDelivered) -> None: ...

The engine is given its hooks (`WorkflowEngine(..., hooks=...)`) and never imports who listens.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class EngineEvent:
    """What every hook learns: the operation's session and time, who acts, which instance."""

    session: Session
    now: datetime
    actor: str
    instance_id: int
    process_id: str
    business_key: str | None


@dataclass(frozen=True)
class InstanceStarted(EngineEvent):
    data: Mapping[str, Any]


@dataclass(frozen=True)
class TaskCompleted(EngineEvent):
    task_id: str
    element_id: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class MessageDelivered(EngineEvent):
    """A message reached the instance (it waited for it, or was started by it)."""

    name: str
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class TaskSentBack(EngineEvent):
    """Staff sent the case back to a completed user task (incident repair): it is open again,
    for `assignee`, and `previous_data` are the answers it was completed with."""

    task_id: str
    element_id: str
    assignee: str | None
    previous_data: Mapping[str, Any]


HOOK_EVENTS: tuple[type[EngineEvent], ...] = (
    InstanceStarted,
    TaskCompleted,
    MessageDelivered,
    TaskSentBack,
)

E = TypeVar("E", bound=EngineEvent)


class Hooks:
    def __init__(self) -> None:
        self._listeners: dict[type[EngineEvent], list[Callable[[Any], None]]] = {
            kind: [] for kind in HOOK_EVENTS
        }

    def on(self, kind: type[E]) -> Callable[[Callable[[E], None]], Callable[[E], None]]:
        """Register the decorated function for events of `kind` (once; order of registration)."""
        if kind not in self._listeners:
            raise ValueError(f"{kind!r} is not an engine event with hooks")

        def register(fn: Callable[[E], None]) -> Callable[[E], None]:
            if fn not in self._listeners[kind]:
                self._listeners[kind].append(fn)
            return fn

        return register

    def remove(self, kind: type[EngineEvent], fn: Callable[[Any], None]) -> None:
        if fn in self._listeners.get(kind, []):
            self._listeners[kind].remove(fn)

    def emit(self, event: EngineEvent) -> None:
        for fn in tuple(self._listeners[type(event)]):
            fn(event)
