"""Calendar rules shared by the engine and the domain: the CB works on China time.

"Today" for the rules is the date in China (Asia/Shanghai, the tz database's zone: UTC+8 with
no daylight saving since 1991): a decision taken at 2026-03-09T17:00Z is dated 2026-03-10.
Timestamps are stored in UTC. Rule timers (reminders, deadlines, limits) fire at
TIMER_HOUR_CHINA o'clock China time on their day.
"""

import calendar
from datetime import UTC, date, datetime, time, timedelta
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


# -- the one convention for periods and limits (issue 11) -----------------------------------------
# A period of N days/months/years that starts with an event on day D (China date) *includes* D
# and ends on its last day, the day before the corresponding day N units later:
#   valid 3 years from issue 2035-06-14 → valid through 2038-06-13;
#   within 30 days of 2026-03-10 → by 2026-04-08 (day 29 counted from the event as day 0).
# Every limit acts on the first day after the period (the corresponding day, "day N"): the
# certificate is cancelled, the complaint is overdue, the NC answer is late on that day — at
# TIMER_HOUR_CHINA China time for the timers, from 00:00 for what is computed from today's date.
# docs/calendar.md explains the choice.


def last_day_of_months(start: date, months: int) -> date:
    """The last day of a period of `months` calendar months that starts on `start`: the day
    before the corresponding day; when that month has no corresponding day (31 Jan, 29 Feb),
    its last day (31 Jan + 1 month → through 28 Feb, the limit acts on 1 Mar)."""
    if months < 1:
        raise ValueError(f"a period lasts at least one month, not {months}")
    corresponding = add_months(start, months)
    if corresponding.day != start.day:  # clamped: no corresponding day in that month
        return corresponding
    return corresponding - timedelta(days=1)


def last_day_of_days(start: date, days: int) -> date:
    """The last day of a period of `days` days that starts on (and includes) `start`."""
    if days < 1:
        raise ValueError(f"a period lasts at least one day, not {days}")
    return start + timedelta(days=days - 1)


def day_number(start: date, number: int) -> date:
    """Day `number` counted from the event on `start` (day 0): day 30 of a 30-day period is the
    first day after it."""
    return start + timedelta(days=number)


def first_day_after(last_day: date) -> date:
    """The day a limit acts: the first day after the period's last day."""
    return last_day + timedelta(days=1)


def is_past(last_day: date, today: date) -> bool:
    """Whether a period whose last day is `last_day` is over on `today` (the limit acts)."""
    return today > last_day


def timer_on(day: date) -> str:
    """The ISO instant (UTC offset) a rule timer fires on `day`: TIMER_HOUR_CHINA China time."""
    return iso_utc(china_time_in_utc(day, TIMER_HOUR_CHINA))


def limit_timer(last_day: date) -> str:
    """The timer instant of a limit whose period ends on `last_day`: on the first day after."""
    return timer_on(first_day_after(last_day))
