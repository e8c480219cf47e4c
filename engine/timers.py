"""BPMN timers follow the application clock.

SpiffWorkflow's timer code calls `datetime.now(timezone.utc)` on the `datetime` name imported in
its timer module. We replace that one name with a datetime subclass whose `now()` returns the
instant of the engine operation in progress (set by `operation_time`), so simulated time moves
timers too. Outside an operation it falls back to the wall clock, exactly as before.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta, tzinfo

from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

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
