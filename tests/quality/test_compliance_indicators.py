"""Issue 13: each compliance indicator finds exactly the seeded breaches, and counts exactly the
seeded conforming cases (domain/compliance/seed.py lists each case with its verdict)."""

from datetime import date

import pytest

from certflow.db import db
from domain.compliance import INDICATORS, Period, measure, measure_one
from domain.compliance.seed import EARLIEST_OPEN_LIMIT, SEED_TODAY, seed_compliance

ALL_TIME = Period(date(2020, 1, 1), date(2030, 12, 31))
MEASURED = [key for key, (_, query) in INDICATORS.items() if query is not None]


@pytest.fixture
def seeded(ctx):
    return seed_compliance(db.session)


@pytest.mark.parametrize("key", MEASURED)
def test_indicator_finds_exactly_the_seeded_cases(seeded, key):
    result = measure_one(db.session, key, ALL_TIME, SEED_TODAY)
    assert {c.key for c in result.breaches} == seeded.breaches(key)
    assert {c.key for c in result.cases if c.kept} == seeded.kept(key)
    assert seeded.breaches(key), f"the seed has no breach of {key}"


def test_the_figures_of_the_seed(seeded):
    """The numbers the dashboard and the report show for the seed, written out."""
    figures = {
        r.definition.key: (r.kept, r.broken) for r in measure(db.session, ALL_TIME, SEED_TODAY)
    }
    assert figures == {
        "surveillance_interval": (12, 2),  # 6 cycles × 2; 乙: first late, second missing
        "suspension_resolved": (2, 2),  # 丙 late, 己 unresolved
        "complaint_answered": (1, 2),  # day 30, never answered
        "nc_closed_in_time": (2, 2),  # 甲 NC-02 late, 乙 NC-01 not accepted
        "recertification_in_time": (1, 2),  # 辛 late, 壬 undecided
        "decision_independent": (10, 1),  # 9 + 2 recertifications; 乙 by a team member
        "registration_valid": (23, 1),  # 9 + 13 + 2 audits; 己's by 赵 while lapsed
        "auditor_rotation": (0, 0),  # no limit in the rules
        "status_published": (15, 2),  # 9 issues + 8 changes; 己 never, 丙 late
    }


def test_rotation_is_not_measurable_the_rules_set_no_limit(seeded):
    result = measure_one(db.session, "auditor_rotation", ALL_TIME, SEED_TODAY)
    assert result.measurable is False
    assert result.cases == []


def test_cases_still_in_time_are_not_counted_until_their_last_day_passes(seeded):
    before = measure_one(db.session, "complaint_answered", ALL_TIME, EARLIEST_OPEN_LIMIT)
    after = measure_one(
        db.session,
        "complaint_answered",
        ALL_TIME,
        date.fromordinal(EARLIEST_OPEN_LIMIT.toordinal() + 1),
    )
    assert (before.kept, before.broken) == (1, 2)
    assert (after.kept, after.broken) == (1, 3)  # complaint 4: day 30 without an answer


def test_period_and_organisation_filters(seeded):
    year_2026 = Period(date(2026, 1, 1), date(2026, 12, 31))
    complaints = measure_one(db.session, "complaint_answered", year_2026, SEED_TODAY)
    assert complaints.broken == 2
    first_half_2025 = Period(date(2025, 1, 1), date(2025, 6, 30))
    assert measure_one(db.session, "complaint_answered", first_half_2025, SEED_TODAY).cases == []
    b = seeded.organisations["B"]
    surveillance = measure_one(
        db.session, "surveillance_interval", ALL_TIME, SEED_TODAY, organisation_id=b
    )
    assert (surveillance.kept, surveillance.broken) == (0, 2)
    assert {c.reason for c in surveillance.breaches} == {"late", "missing"}
    only = measure(db.session, ALL_TIME, SEED_TODAY, process="complaint")
    assert [r.definition.key for r in only] == ["complaint_answered"]


def test_breaches_name_the_case_and_what_happened(seeded):
    result = measure_one(db.session, "decision_independent", ALL_TIME, SEED_TODAY)
    (breach,) = result.breaches
    assert breach.organisation_id == seeded.organisations["B"]
    assert breach.organisation_name == "乙电器维修有限公司"
    assert breach.people == ("李审查",)
    (lapsed,) = measure_one(db.session, "registration_valid", ALL_TIME, SEED_TODAY).breaches
    assert lapsed.people == ("赵审查",)
    assert lapsed.organisation_id == seeded.organisations["F"]
