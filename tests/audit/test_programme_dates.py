"""`domain.programme_dates`: the rules' dates (R-7.1.1, R-7.1.3, R-8.10.1, R-8.11, R-9.1), pure."""

from datetime import UTC, date, datetime

import pytest

from certflow.dates import add_months, china_date, china_time_in_utc, iso_utc
from domain.programme_dates import (
    certificate_expiry,
    parse_iso_date,
    recertification_window_opens,
    surveillance_1_due,
    surveillance_2_due,
    surveillance_2_hard_limit,
    years_to_surveil,
)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # leap year
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 5, 31), -3, date(2026, 2, 28)),
        (date(2026, 1, 15), -1, date(2025, 12, 15)),
        (date(2026, 8, 31), 15, date(2027, 11, 30)),
        (date(2026, 6, 10), 0, date(2026, 6, 10)),
    ],
)
def test_add_months_clamps_to_month_end(day, months, expected) -> None:
    assert add_months(day, months) == expected


@pytest.mark.parametrize(
    ("issued_on", "expected"),
    [
        # issue 11: valid through the day before the corresponding day 3 years later
        (date(2026, 3, 10), date(2029, 3, 9)),
        (date(2028, 2, 29), date(2031, 2, 28)),  # no 29 Feb 2031: through its month's end
        (date(2027, 2, 28), date(2030, 2, 27)),
        (date(2025, 2, 28), date(2028, 2, 27)),  # not moved to the leap day
        (date(2026, 12, 31), date(2029, 12, 30)),
    ],
)
def test_certificate_expiry_three_years(issued_on, expected) -> None:
    assert certificate_expiry(issued_on) == expected


@pytest.mark.parametrize(
    ("decided_on", "expected"),
    [
        (date(2026, 3, 10), date(2027, 3, 9)),
        (date(2028, 2, 29), date(2029, 2, 28)),
        (date(2026, 1, 31), date(2027, 1, 30)),
    ],
)
def test_surveillance_1_due_twelve_months(decided_on, expected) -> None:
    assert surveillance_1_due(decided_on) == expected


@pytest.mark.parametrize(
    ("s1_end", "decided_on", "due", "hard_limit"),
    [
        (date(2027, 3, 10), date(2026, 3, 10), date(2028, 3, 9), date(2028, 6, 9)),
        (date(2027, 2, 28), date(2026, 3, 10), date(2028, 2, 27), date(2028, 5, 27)),
        (date(2028, 2, 29), date(2027, 3, 10), date(2029, 2, 28), date(2029, 5, 28)),
        # calendar-year rule: 2028 needs a surveillance (recertification from
        # September 2029), so 15 months (through 28 Feb 2029) is cut to 31 Dec 2028.
        (date(2027, 11, 30), date(2026, 12, 1), date(2028, 11, 29), date(2028, 12, 31)),
        # Surveillance 1 ended early, in 2026: surveillance 2 must cover 2027 (15 months would
        # end on 29 Feb 2028).
        (date(2026, 11, 30), date(2026, 1, 15), date(2027, 11, 29), date(2027, 12, 31)),
    ],
)
def test_surveillance_2_due_and_hard_limit(s1_end, decided_on, due, hard_limit) -> None:
    expires_on = certificate_expiry(decided_on)
    assert surveillance_2_due(s1_end) == due
    assert surveillance_2_hard_limit(s1_end, decided_on, expires_on) == hard_limit
    assert surveillance_2_due(s1_end) < hard_limit


def test_years_to_surveil_exclude_the_certification_and_recertification_years() -> None:
    """R-8.10.1: 每个日历年（应进行再认证的年份除外）: decided 10 March 2026, recertification
    window from 10 December 2028 → only 2027; decided 1 December 2026, window from September
    2029 → 2027 and 2028."""
    assert years_to_surveil(date(2026, 3, 10), date(2029, 3, 9)) == {2027}
    assert years_to_surveil(date(2026, 12, 1), date(2029, 11, 30)) == {2027, 2028}


@pytest.mark.parametrize(
    ("expiry", "opens"),
    [
        # `expiry` is the last valid day; the window opens 3 months before the day after it
        (date(2029, 3, 9), date(2028, 12, 10)),
        (date(2029, 5, 30), date(2029, 2, 28)),
        (date(2028, 5, 30), date(2028, 2, 29)),
        (date(2029, 1, 14), date(2028, 10, 15)),
    ],
)
def test_recertification_window_opens_three_months_before_expiry(expiry, opens) -> None:
    assert recertification_window_opens(expiry) == opens


def test_china_date_is_utc_plus_eight() -> None:
    assert china_date(datetime(2026, 3, 9, 15, 59, tzinfo=UTC)) == date(2026, 3, 9)
    assert china_date(datetime(2026, 3, 9, 16, 0, tzinfo=UTC)) == date(2026, 3, 10)
    with pytest.raises(ValueError, match="offset"):
        china_date(datetime(2026, 3, 9, 16, 0))


def test_timer_timestamps_are_utc_with_offset() -> None:
    moment = china_time_in_utc(date(2026, 2, 4), 9)
    assert moment == datetime(2026, 2, 4, 1, 0, tzinfo=UTC)
    assert iso_utc(moment) == "2026-02-04T01:00:00+00:00"


def test_parse_iso_date() -> None:
    assert parse_iso_date("2026-03-10") == date(2026, 3, 10)
    assert parse_iso_date(date(2026, 3, 10)) == date(2026, 3, 10)
    for bad in ("10/03/2026", None, 20260310, datetime(2026, 3, 10, tzinfo=UTC)):
        with pytest.raises(ValueError):
            parse_iso_date(bad)
