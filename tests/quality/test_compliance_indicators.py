"""Issue 13 ("Must show"): each compliance indicator finds exactly the breaches of the dataset
and counts exactly its conforming cases. The dataset is driven through the deployed processes on
the simulated clock (scenarios/compliance_dataset.py), plus the breaches the processes refuse to
produce written as legacy rows (domain/compliance/refused_breaches.py). It is built once per
database for this module; its build time is printed (pytest -s)."""

import time
from datetime import date, timedelta

import pytest

from certflow.db import db
from domain.compliance import INDICATORS, Period, measure, measure_one
from scenarios.compliance_dataset import build_compliance_dataset
from tests.conftest import START_TIME, clear_database, make_app

ALL_TIME = Period(date(2020, 1, 1), date(2030, 12, 31))
MEASURED = [key for key, (_, query) in INDICATORS.items() if query is not None]
PROCESS_ORGANISATIONS = ("P", "Q", "R", "S")


@pytest.fixture(scope="module")
def built(migrated_url, tmp_path_factory):
    app = make_app(migrated_url, tmp_path_factory.mktemp("instance"))
    with app.app_context():
        clear_database()
        clock = app.extensions["certflow.clock"]
        clock.set(START_TIME)
        started = time.perf_counter()
        dataset = build_compliance_dataset(
            app, app.extensions["certflow.engine"], clock, tmp_path_factory.mktemp("uploads")
        )
        print(
            f"\ncompliance dataset on {db.engine.dialect.name}: built in "
            f"{time.perf_counter() - started:.1f} s, simulated clock at {dataset.today}"
        )
    yield app, dataset
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def dataset(built):
    app, dataset = built
    with app.app_context():
        yield dataset
        db.session.rollback()


@pytest.mark.parametrize("key", MEASURED)
def test_indicator_finds_exactly_the_dataset_cases(dataset, key):
    result = measure_one(db.session, key, ALL_TIME, dataset.today)
    seeded = dataset.seeded
    assert {c.key for c in result.breaches} == seeded.breaches(key)
    assert {c.key for c in result.cases if c.kept} == seeded.kept(key)
    assert seeded.breaches(key), f"the dataset has no breach of {key}"


def test_the_figures_of_the_dataset(dataset):
    """The numbers the dashboard and the report show for the dataset, written out."""
    figures = {
        r.definition.key: (r.kept, r.broken) for r in measure(db.session, ALL_TIME, dataset.today)
    }
    assert figures == {
        # processes: 子 and 寅 in time, 丑 and 卯 never planned; legacy: 15 in time
        "surveillance_interval": (17, 2),
        # processes: 丑 restored, 卯 withdrawn; legacy: 丙 late, 己 unresolved
        "suspension_resolved": (2, 2),
        "complaint_answered": (1, 2),  # processes: day 10; day 35, never
        # processes: one NC per deduction finding (R-8.7), corrected in time — 子's initial audit
        # 5 (the team's + 4 derived), 丑 寅 卯's 3 each, 子's surveillance 3; 寅's surveillance
        # NC never answered
        "nc_closed_in_time": (17, 1),
        "recertification_in_time": (1, 2),  # legacy: 辛 late, 壬 undecided
        # processes: 4; legacy: 7 initial + 2 recertifications; legacy 乙 by a team member
        "decision_independent": (13, 1),
        # processes: 4 initial + 2 surveillance; legacy: 7 initial + 15 surveillance + 2
        # recertification; legacy 己's initial by 赵 while lapsed (R-7.2.2)
        "registration_valid": (30, 1),
        "auditor_rotation": (0, 0),  # no limit in the rules
        # processes: 4 issues, 3 suspensions, 1 restoration, 1 withdrawal; legacy: 8 issues and
        # 丙's suspension; legacy 己's suspension never announced, 丙's restoration late (R-14)
        "status_published": (18, 2),
    }


def test_what_the_processes_did_is_a_breach_of_its_own_kind(dataset):
    """The breaches made by letting time pass are the processes' own records: never planned,
    never answered, answered late — and every status change the processes made is announced."""
    process_orgs = {dataset.seeded.organisations[letter] for letter in PROCESS_ORGANISATIONS}

    def reasons(key):
        result = measure_one(db.session, key, ALL_TIME, dataset.today)
        return sorted(c.reason for c in result.breaches if c.organisation_id in process_orgs)

    assert reasons("surveillance_interval") == ["missing", "missing"]
    assert reasons("complaint_answered") == ["late", "missing"]
    assert reasons("nc_closed_in_time") == ["missing"]
    assert reasons("status_published") == []  # the processes announce every change
    assert reasons("decision_independent") == reasons("registration_valid") == []


def test_the_sweeper_suspends_the_day_after_the_last_day(dataset):
    """R-9.5.1a, docs/calendar.md: a surveillance not done by its last day suspends the
    certificate the day after — the suspension the dataset's breach led to."""
    surveillance = measure_one(db.session, "surveillance_interval", ALL_TIME, dataset.today)
    suspensions = measure_one(db.session, "suspension_resolved", ALL_TIME, dataset.today)
    for letter in ("Q", "S"):
        organisation_id = dataset.seeded.organisations[letter]
        (missed,) = [c for c in surveillance.breaches if c.organisation_id == organisation_id]
        (suspension,) = [c for c in suspensions.cases if c.organisation_id == organisation_id]
        assert suspension.kept
        # the suspension's 6 months start the day after the surveillance's last day
        assert suspension.required > missed.required + timedelta(days=180)


def test_rotation_is_not_measurable_the_rules_set_no_limit(dataset):
    result = measure_one(db.session, "auditor_rotation", ALL_TIME, dataset.today)
    assert result.measurable is False
    assert result.cases == []


def test_cases_still_in_time_are_not_counted_until_their_last_day_passes(dataset):
    last_day = dataset.open_complaint_last_day
    before = measure_one(db.session, "complaint_answered", ALL_TIME, last_day)
    after = measure_one(db.session, "complaint_answered", ALL_TIME, last_day + timedelta(days=1))
    assert (before.kept, before.broken) == (1, 2)
    assert (after.kept, after.broken) == (1, 3)  # the last complaint: day 30 without an answer


def test_period_and_organisation_filters(dataset):
    today = dataset.today
    year_2026 = Period(date(2026, 1, 1), date(2026, 12, 31))
    assert measure_one(db.session, "complaint_answered", year_2026, today).broken == 2
    year_2025 = Period(date(2025, 1, 1), date(2025, 12, 31))
    assert measure_one(db.session, "complaint_answered", year_2025, today).cases == []
    q = dataset.seeded.organisations["Q"]
    surveillance = measure_one(
        db.session, "surveillance_interval", ALL_TIME, today, organisation_id=q
    )
    assert (surveillance.kept, surveillance.broken) == (0, 1)
    only = measure(db.session, ALL_TIME, today, process="complaint")
    assert [r.definition.key for r in only] == ["complaint_answered"]


def test_breaches_name_the_case_and_what_happened(dataset):
    seeded = dataset.seeded
    result = measure_one(db.session, "decision_independent", ALL_TIME, dataset.today)
    (breach,) = result.breaches
    assert breach.organisation_id == seeded.organisations["B"]
    assert breach.organisation_name == "乙电器维修有限公司"
    assert breach.people == ("李审查",)
    (lapsed,) = measure_one(db.session, "registration_valid", ALL_TIME, dataset.today).breaches
    assert lapsed.people == ("赵审查",)
    assert lapsed.organisation_id == seeded.organisations["F"]
    (never,) = measure_one(db.session, "nc_closed_in_time", ALL_TIME, dataset.today).breaches
    assert never.organisation_name == "寅售后服务有限公司"
    assert never.actual is None and never.required < dataset.today
