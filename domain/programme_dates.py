"""The dates the certification rules count, as pure functions (no database).

Used by `certificate.issue` (the programme cycle after a decision) and later by surveillance and
recertification. Month arithmetic clamps to the end of the month: 31 Jan + 1 month = 28/29 Feb,
29 Feb + 12 months = 28 Feb.

"Today" for the rules is the date in China (UTC+8, no daylight saving since 1991): a decision
taken at 2026-03-09T17:00Z is dated 2026-03-10.
"""

import calendar
from datetime import UTC, date, datetime, time, timedelta, timezone

CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")

CERTIFICATE_VALIDITY_MONTHS = 36  # 3 years
SURVEILLANCE_INTERVAL_MONTHS = 12
SURVEILLANCE_HARD_LIMIT_MONTHS = 15  # never beyond 15 months
RECERTIFICATION_LEAD_MONTHS = 3  # starts 3 months before expiry


def add_months(day: date, months: int) -> date:
    """`day` moved by `months` calendar months (negative: back), clamped to the month's end."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last_day))


def certificate_expiry(issued_on: date) -> date:
    """R-7.1.1/R-9.1: valid 3 years from the issue date (29 Feb → 28 Feb)."""
    return add_months(issued_on, CERTIFICATE_VALIDITY_MONTHS)


def surveillance_1_due(decision_date: date) -> date:
    """R-8.10.1: the first surveillance audit within 12 months of the certification decision."""
    return add_months(decision_date, SURVEILLANCE_INTERVAL_MONTHS)


def surveillance_2_due(s1_end: date) -> date:
    """R-8.10.1/R-7.1.3: the second surveillance within 12 months of the end of the first."""
    return add_months(s1_end, SURVEILLANCE_INTERVAL_MONTHS)


def surveillance_2_hard_limit(s1_end: date) -> date:
    """R-8.10.1/R-7.1.3: an approved extension never goes beyond 15 months after the first."""
    return add_months(s1_end, SURVEILLANCE_HARD_LIMIT_MONTHS)


def recertification_window_opens(expiry: date) -> date:
    """R-8.11: recertification starts 3 months before the certificate expires."""
    return add_months(expiry, -RECERTIFICATION_LEAD_MONTHS)


def china_date(moment: datetime) -> date:
    """The calendar date in China of an aware timestamp (e.g. the app clock's `now`)."""
    if moment.tzinfo is None:
        raise ValueError(f"timestamp {moment!r} has no UTC offset")
    return moment.astimezone(CHINA_TZ).date()


def china_time_in_utc(day: date, hour: int = 9, minute: int = 0) -> datetime:
    """`hour:minute` China time on `day`, as a UTC timestamp (for BPMN timers)."""
    return datetime.combine(day, time(hour, minute), tzinfo=CHINA_TZ).astimezone(UTC)


def iso_utc(moment: datetime) -> str:
    """ISO 8601 with an explicit +00:00 offset, the form BPMN timer expressions need."""
    return moment.astimezone(UTC).isoformat()


def parse_iso_date(value: object) -> date:
    """A date from task data: an ISO string `"2026-03-10"` or a date; ValueError otherwise."""
    if isinstance(value, datetime):
        raise ValueError(f"expected a date, got a timestamp {value!r}")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value.strip())
    raise ValueError(f"expected an ISO date string, got {value!r}")
