"""Issue 11: one calendar convention for every date rule (certflow/dates.py, docs/calendar.md).

A period of N days/months that starts with an event on day D includes D; its last day is the day
before the corresponding day (its month's end when there is none); the limit acts on the first
day after, and its timer fires at 09:00 China time that day. For each rule: the day before the
last day and the last day are inside, the day after is not, and the timer fires on the day after
— never on the last day. The engine-level and HTTP tests of the same rules are named in
docs/calendar.md."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

import pytest

from certflow.dates import (
    CHINA_TZ,
    add_months,
    china_date,
    day_number,
    first_day_after,
    is_past,
    last_day_of_days,
    last_day_of_months,
    limit_timer,
)
from domain.complaints import reply_due_on, timer_instants
from domain.nonconformity import Deadlines, response_deadline
from domain.programme_dates import (
    certificate_expiry,
    recertification_window_opens,
    surveillance_1_due,
    surveillance_2_due,
    surveillance_2_hard_limit,
)
from domain.surveillance import limit_problem


def china_noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=CHINA_TZ).astimezone(UTC)


def fires_on(timer: str) -> date:
    """The China date on which a timer instant fires (it must be 09:00 China time)."""
    moment = datetime.fromisoformat(timer)
    assert moment.astimezone(CHINA_TZ).time() == time(9)
    return china_date(moment)


def assert_boundary(last_day: date, timer: str | None = None) -> None:
    """Day before and last day inside, day after outside; the timer fires on the day after."""
    assert not is_past(last_day, last_day - timedelta(days=1))
    assert not is_past(last_day, last_day)
    assert is_past(last_day, last_day + timedelta(days=1))
    if timer is not None:
        assert fires_on(timer) == last_day + timedelta(days=1)


# -- the calendar itself --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("start", "months", "last"),
    [
        (date(2035, 6, 14), 36, date(2038, 6, 13)),  # the example of issue 11
        (date(2026, 1, 31), 1, date(2026, 2, 28)),  # no 31 Feb: through the month's end
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 1, 28), 1, date(2026, 2, 27)),
        (date(2026, 3, 1), 1, date(2026, 3, 31)),
        (date(2028, 2, 29), 12, date(2029, 2, 28)),
        (date(2026, 12, 31), 6, date(2027, 6, 30)),
        (date(2026, 8, 31), 6, date(2027, 2, 28)),
    ],
)
def test_last_day_of_months(start, months, last) -> None:
    assert last_day_of_months(start, months) == last
    assert first_day_after(last) == last + timedelta(days=1)


def test_days_are_counted_from_the_event_as_day_zero() -> None:
    assert last_day_of_days(date(2026, 3, 10), 30) == date(2026, 4, 8)
    assert day_number(date(2026, 3, 10), 30) == date(2026, 4, 9)  # the first day after
    assert last_day_of_days(date(2026, 3, 10), 1) == date(2026, 3, 10)
    for bad in (0, -3):
        with pytest.raises(ValueError):
            last_day_of_days(date(2026, 3, 10), bad)
    with pytest.raises(ValueError):
        last_day_of_months(date(2026, 3, 10), 0)


def test_limit_timer_is_nine_in_china_on_the_day_after() -> None:
    assert limit_timer(date(2038, 6, 13)) == "2038-06-14T01:00:00+00:00"


# -- every date rule: day before, the day, day after ----------------------------------------------
def test_certificate_valid_through_issue_plus_three_years_minus_one_day() -> None:
    # issued 2035-06-14 → valid through 2038-06-13, cancelled on 2038-06-14.
    expiry = certificate_expiry(date(2035, 6, 14))
    assert expiry == date(2038, 6, 13)
    assert_boundary(expiry, limit_timer(expiry))


def test_recertification_prompt_three_months_before_the_validity_ends() -> None:
    # valid through 2038-06-13 → the prompt on 2038-03-14, not on the 13th.
    opens = recertification_window_opens(date(2038, 6, 13))
    assert opens == date(2038, 3, 14)
    assert add_months(opens, 3) == date(2038, 6, 14)  # the day the validity is over


@pytest.mark.parametrize(
    ("planned_end", "problem"),
    [
        (date(2036, 6, 12), None),  # the day before the due date
        (date(2036, 6, 13), None),  # the due date: in time, no extension needed
        (date(2036, 6, 14), "R-8.10.1"),  # the day after: refused, even with a reason
    ],
)
def test_first_surveillance_within_twelve_months(planned_end, problem) -> None:
    # R-8.10.1 (issue 15): decision 2035-06-14 → the first surveillance by 2036-06-13, never
    # extended: its due date is its limit.
    decided = date(2035, 6, 14)
    due = surveillance_1_due(decided)
    assert due == date(2036, 6, 13)
    assert_boundary(due)
    found = limit_problem(planned_end, due, due, extension_reason="客户搬迁")
    assert (found[0] if found else None) == problem


@pytest.mark.parametrize(
    ("planned_end", "problem"),
    [
        (date(2037, 9, 12), None),
        (date(2037, 9, 13), None),  # the last day of the 15 months
        (date(2037, 9, 14), "R-8.10.1"),  # refused even with a reason
    ],
)
def test_fifteen_month_surveillance_limit(planned_end, problem) -> None:
    # surveillance 1 ended 2036-06-14 → the second by 2037-06-13 (12
    # months), never after 2037-09-13 (15 months; the calendar year 2037 it covers ends later).
    s1_end = date(2036, 6, 14)
    cycle = (date(2035, 6, 14), date(2038, 6, 13))
    due, hard = surveillance_2_due(s1_end), surveillance_2_hard_limit(s1_end, *cycle)
    assert (due, hard) == (date(2037, 6, 13), date(2037, 9, 13))
    assert_boundary(hard)
    found = limit_problem(planned_end, due, hard, extension_reason="客户搬迁")
    assert (found[0] if found else None) == problem


@dataclass
class _Act:
    now: datetime
    session: object = None


def test_nc_answer_deadline() -> None:
    # NC report on 2035-06-14 (China), 30 days → answer by 2035-07-13, late on the 14th.
    deadline, reminder_at, deadline_at = response_deadline(
        _Act(china_noon(date(2035, 6, 14))), Deadlines(response_days=30, reminder_days_before=7)
    )
    assert deadline == date(2035, 7, 13)
    assert_boundary(deadline, deadline_at)
    assert fires_on(reminder_at) == date(2035, 7, 6)


def test_complaint_thirty_days_from_receipt() -> None:
    # received 2035-06-14 (day 0) → reply by 2035-07-13 (day 29); reminder day 20,
    # escalation day 25, overdue day 30 = the first day after the 30 days.
    complaint = SimpleNamespace(received_at=china_noon(date(2035, 6, 14)))
    due = reply_due_on(date(2035, 6, 14))
    assert due == date(2035, 7, 13)
    timers = timer_instants(complaint)
    assert_boundary(due, timers["overdue_at"])
    assert fires_on(timers["reminder_at"]) == date(2035, 7, 4)
    assert fires_on(timers["escalate_at"]) == date(2035, 7, 9)


@pytest.mark.parametrize(
    ("days", "last"),
    [(30, date(2035, 7, 13)), (10, date(2035, 6, 23)), (60, date(2035, 8, 12))],
)
def test_day_periods_of_misuse_disclosure_and_suspension_correction(days, last) -> None:
    # R-10.3 (30 days to correct a misuse), R-11 (10 days' notice before a disclosure),
    # R-9.5.1 (60 days to correct a suspension): the same rule as every day period.
    assert last_day_of_days(date(2035, 6, 14), days) == last
    assert_boundary(last, limit_timer(last))


def test_suspension_at_most_six_months() -> None:
    # suspended 2035-06-14 → at most through 2035-12-13, withdrawn on the 14th.
    last = last_day_of_months(date(2035, 6, 14), 6)
    assert last == date(2035, 12, 13)
    assert_boundary(last, limit_timer(last))
