"""The dates the certification rules count, as pure functions (no database).

Used by `certificate.issue` (the programme cycle after a decision) and later by surveillance and
recertification. Month arithmetic clamps to the end of the month: 31 Jan + 1 month = 28/29 Feb,
29 Feb + 12 months = 28 Feb.

Every date returned here is the *last day* of its period (the period includes the day it starts
on): the certificate is valid through `certificate_expiry`, a surveillance is in time on its due
date; the limit acts on the day after (certflow/dates.py, docs/calendar.md).

The calendar itself (China time, month arithmetic, timer instants) is certflow/dates.py.
"""

from datetime import date, datetime

from certflow.dates import add_months, first_day_after, last_day_of_months

CERTIFICATE_VALIDITY_MONTHS = 36  # 3 years
SURVEILLANCE_INTERVAL_MONTHS = 12
SURVEILLANCE_HARD_LIMIT_MONTHS = 15  # never beyond 15 months
RECERTIFICATION_LEAD_MONTHS = 3  # starts 3 months before expiry


def certificate_expiry(issued_on: date) -> date:
    """R-7.1.1/R-9.1: the last valid day of 3 years from the issue date: issued 2035-06-14 →
    valid through 2038-06-13, cancelled on 2038-06-14 without recertification."""
    return last_day_of_months(issued_on, CERTIFICATE_VALIDITY_MONTHS)


def surveillance_1_due(decision_date: date) -> date:
    """R-8.10.1: the first surveillance audit within 12 months of the certification decision."""
    return last_day_of_months(decision_date, SURVEILLANCE_INTERVAL_MONTHS)


def surveillance_2_due(s1_end: date) -> date:
    """R-8.10.1/R-7.1.3: the second surveillance within 12 months of the end of the first."""
    return last_day_of_months(s1_end, SURVEILLANCE_INTERVAL_MONTHS)


def surveillance_2_hard_limit(s1_end: date, cycle_start: date, expires_on: date) -> date:
    """R-8.10.1/R-7.1.3: an approved extension never goes beyond the last day of the 15 months
    after the first, nor past the calendar year that still needs its surveillance (see
    `years_to_surveil`). The first surveillance is never extended: its due date is its limit."""
    limit = last_day_of_months(s1_end, SURVEILLANCE_HARD_LIMIT_MONTHS)
    missing = years_to_surveil(cycle_start, expires_on) - {s1_end.year}
    return min(limit, date(max(missing), 12, 31)) if missing else limit


def years_to_surveil(cycle_start: date, expires_on: date) -> set[int]:
    """R-8.10.1: at least one surveillance in each calendar year (应进行再认证的年份除外): the
    years after the certification year, up to the recertification year — the year the
    recertification window opens (R-8.11) — exclusive."""
    return set(range(cycle_start.year + 1, recertification_window_opens(expires_on).year))


def recertification_window_opens(expiry: date) -> date:
    """R-8.11: recertification starts 3 months before the validity ends (`expiry` is the last
    valid day): valid through 2038-06-13 → the window opens on 2038-03-14."""
    return add_months(first_day_after(expiry), -RECERTIFICATION_LEAD_MONTHS)


def parse_iso_date(value: object) -> date:
    """A date from task data: an ISO string `"2026-03-10"` or a date; ValueError otherwise."""
    if isinstance(value, datetime):
        raise ValueError(f"expected a date, got a timestamp {value!r}")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value.strip())
    raise ValueError(f"expected an ISO date string, got {value!r}")
