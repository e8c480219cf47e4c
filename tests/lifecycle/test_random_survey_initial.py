"""Issue 15, R-8.3: a random customer-satisfaction survey the programme plans for an initial
certification is carried out — in the mystery shopping or during the on-site audit — before the
audit report is issued; when neither recorded it, the team leader records the on-site survey
(certification.bpmn: Task_CheckRandomSurvey → Gateway_SurveyOutstanding →
Task_OnsiteRandomSurvey)."""

from sqlalchemy import select

from certflow.db import db
from domain.models import Document
from tests.certification_case import (
    Case,
    findings_losing,
    through_onsite,
)
from tests.forms.test_form_checks import refused


def records(kind):
    db.session.rollback()
    return db.session.scalars(select(Document).where(Document.kind == kind)).all()


def planned_without_mystery_shopping(case: Case) -> None:
    """The programme plans the survey but no mystery shopping; the on-site findings record no
    survey either."""
    case.apply()
    case.review()
    case.contract()
    case.programme(mystery_shopping=False, random_survey=True)
    case.appoint()
    case.plan_and_prepare(mystery_shopping=False)
    case.opening_meeting()
    case.evidence(findings_losing(80))
    case.conclude("recommend", [])


def test_a_planned_survey_not_recorded_stops_the_report_until_the_leader_records_it(case):
    planned_without_mystery_shopping(case)
    assert case.active() == ["Task_OnsiteRandomSurvey"]
    assert records("audit_report") == []
    survey = {
        "survey_date": case.day(28),  # the first on-site day
        "method": "现场随机询问 12 位顾客 customers asked at random on site",
        "survey_sample_size": 12,
        "satisfied_count": 11,
    }
    case.complete("Task_OnsiteRandomSurvey", case.people.leader, survey)
    [record] = records("random_survey_record")
    assert record.data["random_survey"] == {"done": True, "sample_size": 12, "satisfied_count": 11}
    assert record.data["survey_date"] == case.day(28)
    assert record.data["recorded_by"] == case.people.leader.username
    assert "12" in record.body and "11" in record.body
    assert len(records("audit_report")) == 1
    assert case.active() == ["Task_ConfirmReportReceipt"]


def test_the_on_site_survey_is_dated_within_the_on_site_audit_and_counts_fit(case):
    planned_without_mystery_shopping(case)
    leader = case.people.leader
    good = {
        "survey_date": case.day(29),
        "method": "电话回访 calls",
        "survey_sample_size": 10,
        "satisfied_count": 9,
    }
    errors = refused(case, "Task_OnsiteRandomSurvey", leader, good | {"survey_date": case.day(20)})
    assert "R-8.3" in errors["survey_date"][0]
    errors = refused(case, "Task_OnsiteRandomSurvey", leader, good | {"satisfied_count": 11})
    assert "R-8.3" in errors["satisfied_count"][0]
    case.complete("Task_OnsiteRandomSurvey", leader, good)
    assert case.active() == ["Task_ConfirmReportReceipt"]


def test_a_survey_made_in_the_mystery_shopping_goes_straight_to_the_report(case):
    through_onsite(case, points_lost=80)  # programme: mystery shopping with the survey
    assert records("random_survey_record") == []
    assert case.active() == ["Task_ConfirmReportReceipt"]


def test_no_survey_planned_no_survey_asked(case):
    case.apply()
    case.review()
    case.contract()
    case.programme(mystery_shopping=False, random_survey=False)
    case.appoint()
    case.plan_and_prepare(mystery_shopping=False)
    case.opening_meeting()
    case.evidence(findings_losing(80))
    case.conclude("recommend", [])
    assert case.active() == ["Task_ConfirmReportReceipt"]
