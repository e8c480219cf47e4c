"""R-9.1, R-8.10.1, R-9.5.1: the routine surveillance missed while a certificate was suspended
is caught up after its restoration (domain/surveillance_restoration.py, docs/decisions.md):
within 3 months of the restoration day, no extension, never into the recertification window
(R-8.11), and the calendar-year rule does not refuse the catch-up."""

from datetime import UTC, date, datetime

import pytest

from certflow.db import db
from domain.certificate_status import restore, suspend
from domain.errors import RuleViolation
from domain.surveillance import programme_of, routine_activity
from domain.surveillance_restoration import catch_up
from tests.certificate_factory import OTHER_USCC, call, issued_certificate
from tests.factories import make_organisation


def at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 2, 0, tzinfo=UTC)  # 10:00 China time


def suspend_and_restore(certificate, suspended: datetime, restored: datetime) -> None:
    suspend(
        db.session,
        certificate_id=certificate.id,
        reason="a",
        sites=None,
        detail="第 1 次例行监督未按期进行 surveillance 1 missed",
        correction_days=60,
        max_months=6,
        actor="system",
        now=suspended,
    )
    restore(db.session, certificate_id=certificate.id, note="已核实", actor="dept", now=restored)
    db.session.flush()


def schedule(certificate, number: int, now: datetime) -> dict:
    params = {"certificate_id": certificate.id, "surveillance_number": number}
    return call("surveillance.schedule", params, now, actor="system")


def plan(certificate, start: str, end: str, now: datetime):
    params = {
        "certificate_id": certificate.id,
        "surveillance_number": 1,
        "planned_start": start,
        "planned_end": end,
        "extension_reason": "暂停后补做 caught up after the suspension",
    }
    return call("surveillance.record_plan", params, now, actor="system")


def test_the_missed_first_surveillance_is_due_3_months_after_the_restoration(ctx):
    certificate = issued_certificate()  # decided 2026-03-10: surveillance 1 due by 2027-03-09
    assert schedule(certificate, 1, at(2027, 1, 1))["due"] == "2027-03-09"
    suspend_and_restore(certificate, at(2027, 3, 10), at(2027, 4, 2))
    result = schedule(certificate, 1, at(2027, 4, 2))
    assert (result["due"], result["hard_limit"]) == ("2027-07-01", "2027-07-01")
    assert result["caught_up_after"] == "2027-04-02" and result["needed"] is True
    assert result["planning_at"] == "2027-04-02T01:00:00+00:00"  # at once: 09:00 that day
    assert result["hard_limit_at"] == "2027-07-02T01:00:00+00:00"
    activity = routine_activity(db.session, programme_of(db.session, certificate), 1)
    assert activity.hard_limit_date == date(2027, 7, 1)

    # The plan: its last day is in time, the day after is refused (no extension).
    assert plan(certificate, "2027-06-30", "2027-07-01", at(2027, 4, 3))["due"] == "2027-07-01"
    with pytest.raises(RuleViolation, match="no extension is possible"):
        plan(certificate, "2027-07-01", "2027-07-02", at(2027, 4, 3))


def test_a_restoration_before_the_limit_catches_nothing_up(ctx):
    """A suspension for another reason, over before the surveillance's latest date, changes
    nothing: the ordinary 12-month limit stays."""
    certificate = issued_certificate()
    suspend_and_restore(certificate, at(2026, 9, 1), at(2026, 10, 1))
    result = schedule(certificate, 1, at(2026, 10, 2))
    assert result["due"] == "2027-03-09" and result["caught_up_after"] is None


def test_a_restoration_in_the_recertification_window_leaves_it_to_recertification(ctx):
    """R-8.11: valid through 2029-03-09, the window opens on 2028-12-10; a restoration after that
    catches nothing up (the recertification audit covers everything)."""
    certificate = issued_certificate()
    suspend_and_restore(certificate, at(2028, 12, 1), at(2028, 12, 15))
    late = catch_up(db.session, certificate, None, date(2028, 11, 30))
    assert late is not None and late.needed is False
    # Restored before the window opens: the catch-up is due the day before it at the latest.
    other = issued_certificate(
        organisation=make_organisation(db.session, at(2026, 3, 9), uscc=OTHER_USCC)
    )
    suspend_and_restore(other, at(2028, 11, 1), at(2028, 11, 20))
    early = catch_up(db.session, other, None, date(2028, 10, 31))
    assert (early.needed, early.due) == (True, date(2028, 12, 9))
