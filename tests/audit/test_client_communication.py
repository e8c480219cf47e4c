"""R-8.5.3 / R-8.5.4 through the engine: before the closing meeting the team communicates its
findings to the client's top management (who, when, what) and discusses each deduction with
the client (who attended, the client's view on each one); a disputed deduction is an unresolved
disagreement kept for the closing meeting. Bad data is refused at submit (422), never an
incident."""

import pytest
from sqlalchemy import select

from certflow.db import db
from domain.models import Audit
from tests.certification_case import (
    Case,
    findings_losing,
    one_nc,
)
from tests.forms.test_form_checks import api_complete, no_incident, refused
from tests.helpers import discussed_with_client


@pytest.fixture
def web_case(case, app):
    case.engine_app = app
    return case


def at_conclusion(case: Case) -> None:
    case.apply()
    case.review()
    case.contract()
    case.programme()
    case.appoint()
    case.plan_and_prepare()
    case.opening_meeting()
    case.evidence(findings_losing(80))
    assert "Task_AuditConclusion" in case.active()


def conclusion(case: Case, nonconformities, **changes) -> dict:
    return discussed_with_client(
        {
            "conclusion": "recommend",
            "downgrade_requested": False,
            "nonconformities": nonconformities,
            "follow_up": "跟踪不符合整改",
            "programme_adjustments": "无",
            "disagreements": None,
            **changes,
        },
        case.today(),
    )


def the_audit() -> Audit:
    db.session.rollback()
    return db.session.scalars(select(Audit)).one()


def test_top_management_communication_is_required_before_the_closing_meeting(case):
    """R-8.5.3 2)b): a conclusion without the communication to top management is refused."""
    at_conclusion(case)
    data = conclusion(case, one_nc())
    del data["top_management_communication"]
    errors = refused(case, "Task_AuditConclusion", case.people.leader, data)
    assert "top_management_communication" in errors
    partial = conclusion(case, one_nc())
    partial["top_management_communication"] = {"date": case.today(), "participants": "王总"}
    errors = refused(case, "Task_AuditConclusion", case.people.leader, partial)
    assert "top_management_communication/findings_communicated" in errors
    no_incident(case)


def test_communication_in_the_future_is_refused_at_submit(case):
    """R-8.5.3: the communication happened before the conclusion, not after (form check)."""
    at_conclusion(case)
    data = conclusion(case, one_nc())
    data["top_management_communication"]["date"] = case.day(400)
    errors = refused(case, "Task_AuditConclusion", case.people.leader, data)
    assert "R-8.5.3" in errors["top_management_communication/date"][0]
    no_incident(case)


def test_each_deduction_needs_the_clients_view_and_the_discussion(case):
    """R-8.5.4 3): deductions are discussed with the client — who attended, and per deduction
    whether the client agrees."""
    at_conclusion(case)
    data = conclusion(case, one_nc())
    del data["nonconformities"][0]["client_view"]
    errors = refused(case, "Task_AuditConclusion", case.people.leader, data)
    assert "nonconformities/0/client_view" in errors
    data = conclusion(case, one_nc())
    data["deduction_discussion"] = None  # left empty although there is a deduction
    errors = refused(case, "Task_AuditConclusion", case.people.leader, data)
    assert "deduction_discussion" in errors
    no_incident(case)


def test_a_disputed_deduction_must_be_kept_as_a_disagreement(web_case):
    """R-8.5.4 4): the client disputes a deduction → the unresolved disagreement is written
    down; without it the API answers 422 on `disagreements` (field and rule), nothing lost."""
    case = web_case
    at_conclusion(case)
    disputed = [{**one_nc()[0], "client_view": "disputed", "client_comment": "已有组织架构图"}]
    response = api_complete(
        case, case.people.leader, "Task_AuditConclusion", conclusion(case, disputed)
    )
    assert response.status_code == 422, response.get_json()
    assert "R-8.5.4" in str(response.get_json())
    assert "disagreements" in str(response.get_json())
    assert case.open_task("Task_AuditConclusion").state == "open"
    no_incident(case)


def test_the_communication_and_the_clients_views_are_recorded(case):
    """R-8.5.3, R-8.5.4: what was said, to whom and when, the client's view on each deduction
    and the disputed ones are on the audit's conclusion; the closing meeting shows the
    disagreement to be raised."""
    at_conclusion(case)
    disputed = [{**one_nc()[0], "client_view": "disputed", "client_comment": "已有组织架构图"}]
    data = conclusion(case, disputed, disagreements="客户认为组织架构图已建立")
    case.complete("Task_AuditConclusion", case.people.leader, data)
    notes = the_audit().conclusion_notes
    assert notes["top_management_communication"] == {
        "date": case.today(),
        "participants": "王总（总经理）、审查组长",
        "findings_communicated": "通报审查发现和不符合",
    }
    assert notes["deduction_discussion"] == {
        "date": case.today(),
        "attendees": "王总、质量经理、审查组",
        "disputed": ["5.1.1.1"],
    }
    assert notes["client_views"] == [
        {"item_code": "5.1.1.1", "client_view": "disputed", "client_comment": "已有组织架构图"}
    ]
    assert notes["disagreements"] == "客户认为组织架构图已建立"
    case.complete("Task_ConfirmNcReport", case.people.client, {"confirmed": True, "comments": None})
    assert "Task_ClosingMeeting" in case.active()
