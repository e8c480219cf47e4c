"""BPMN timers follow the application clock.

SpiffWorkflow's timer code calls `datetime.now(timezone.utc)` on the `datetime` name imported in
its timer module. We replace that one name with a datetime subclass whose `now()` returns the
instant of the engine operation in progress (set by `operation_time`), so simulated time moves
timers too. Outside an operation it falls back to the wall clock, exactly as before.

A timer is due AT its instant (issue 9 item 14): SpiffWorkflow 3.2.0 fires only when the clock is
strictly past it (`due < now`), so `certflow clock advance P1D` missed a timer due exactly one day
later. The three comparisons of its timer definitions are replaced below by `due <= now`; the
sweep's due-instance query (engine/service.py) uses the same rule, `is_due`.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta, tzinfo

from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)

_operation_now: ContextVar[datetime | None] = ContextVar("certflow_operation_now", default=None)


class _ClockedDatetime(datetime):
    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
        current = _operation_now.get()
        if current is None:
            return datetime.now(tz)
        return (
            current.astimezone(tz) if tz is not None else current.astimezone().replace(tzinfo=None)
        )


spiff_timer.datetime = _ClockedDatetime


def is_due(due: datetime, now: datetime) -> bool:
    """The one boundary rule: a timer due at T fires when the clock reads T."""
    return due <= now


def _now() -> datetime:
    return _ClockedDatetime.now(UTC)


# SpiffWorkflow 3.2.0's has_fired / cycle_complete with `is_due` in place of its strict `<`
# (the rest is its code unchanged; pyproject pins spiffworkflow==3.2.0).
def _time_date_has_fired(self, my_task) -> bool:
    event_value = my_task._get_internal_data("event_value")
    if event_value is None:
        event_value = my_task.workflow.script_engine.evaluate(my_task, self.expression)
        my_task._set_internal_data(event_value=event_value)
    if is_due(TimerEventDefinition.parse_time_or_duration(event_value), _now()):
        my_task._set_internal_data(event_fired=True)
    return my_task._get_internal_data("event_fired", False)


def _duration_has_fired(self, my_task) -> bool:
    event_value = my_task._get_internal_data("event_value")
    if event_value is None:
        expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
        parsed = TimerEventDefinition.parse_iso_duration(expression)
        start = _now()
        event_value = (
            start + TimerEventDefinition.get_timedelta_from_start(parsed, start)
        ).isoformat()
        my_task._set_internal_data(event_value=event_value)
    if is_due(TimerEventDefinition.get_datetime(event_value), _now()):
        my_task._set_internal_data(event_fired=True)
    return my_task._get_internal_data("event_fired", False)


def _cycle_complete(self, my_task) -> bool:
    event_value = my_task._get_internal_data("event_value")
    if event_value is None:
        expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
        cycles, start, duration = TimerEventDefinition.parse_iso_recurring_interval(expression)
        event_value = {
            "cycles": cycles,
            "next": start.isoformat(),
            "duration": duration.total_seconds(),
        }
    ready = False
    if event_value["cycles"] != 0:
        next_event = datetime.fromisoformat(event_value["next"])
        if is_due(next_event, _now()):
            event_value["next"] = (
                next_event + timedelta(seconds=event_value["duration"])
            ).isoformat()
            event_value["cycles"] -= 1
            ready = True
    else:
        my_task.internal_data.pop("event_value", None)
        my_task.internal_data["event_fired"] = True
    my_task._set_internal_data(event_value=event_value)
    return ready


TimeDateEventDefinition.has_fired = _time_date_has_fired
DurationTimerEventDefinition.has_fired = _duration_has_fired
CycleTimerEventDefinition.cycle_complete = _cycle_complete


@contextmanager
def operation_time(now: datetime) -> Iterator[datetime]:
    """Run the enclosed engine work at the instant `now` (timezone-aware)."""
    if now.tzinfo is None:
        raise ValueError("operation time must be timezone-aware")
    token = _operation_now.set(now.astimezone(UTC))
    try:
        yield now
    finally:
        _operation_now.reset(token)


def timer_due_at(value: str) -> datetime:
    """A timer's stored event value (ISO string) as an aware UTC datetime."""
    return datetime.fromisoformat(str(TimerEventDefinition.get_datetime(value).isoformat()))


def parse_duration(value: str, start: datetime) -> timedelta:
    """An ISO 8601 duration (P1M, P30D, PT2H) as a timedelta from `start` (months vary)."""
    try:
        parsed = TimerEventDefinition.parse_iso_duration(value)
    except Exception as err:  # SpiffWorkflow raises a bare Exception
        raise ValueError(f"{value!r} is not an ISO 8601 duration") from err
    return TimerEventDefinition.get_timedelta_from_start(parsed, start)
