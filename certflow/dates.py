"""Calendar rules shared by the engine and the domain: the CB works on China time.

"Today" for the rules is the date in China (Asia/Shanghai, the tz database's zone: UTC+8 with
no daylight saving since 1991): a decision taken at 2026-03-09T17:00Z is dated 2026-03-10.
Timestamps are stored in UTC. Rule timers (reminders, deadlines, limits) fire at
TIMER_HOUR_CHINA o'clock China time on their day.
"""

import calendar
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

CHINA_TZ = ZoneInfo("Asia/Shanghai")
TIMER_HOUR_CHINA = 9


def add_months(day: date, months: int) -> date:
    """`day` moved by `months` calendar months (negative: back), clamped to the month's end."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last_day))


def china_date(moment: datetime) -> date:
    """The calendar date in China of an aware timestamp (e.g. the app clock's `now`)."""
    if moment.tzinfo is None:
        raise ValueError(f"timestamp {moment!r} has no UTC offset")
    return moment.astimezone(CHINA_TZ).date()


def china_time_in_utc(day: date, hour: int = TIMER_HOUR_CHINA, minute: int = 0) -> datetime:
    """`hour:minute` China time on `day`, as a UTC timestamp (for BPMN timers)."""
    return datetime.combine(day, time(hour, minute), tzinfo=CHINA_TZ).astimezone(UTC)


def iso_utc(moment: datetime) -> str:
    """ISO 8601 with an explicit +00:00 offset, the form BPMN timer expressions need."""
    return moment.astimezone(UTC).isoformat()
