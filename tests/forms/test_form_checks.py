"""No dead ends (issue 10): a rule a later service task enforces on a form's answers is checked
when the form is submitted — 422 on the field naming the rule, from the web page and the API,
on SQLite and PostgreSQL — instead of "task completed" followed by an incident.

Each form declares its checks (`"x-checks"` in processes/forms/*.json); each check calls the
same domain rule function as the service task (domain/checks_*.py)."""

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from certflow.accounts import issue_token
from certflow.db import db
from certflow.models import User
from domain.audit.onsite import OPENING_MEETING_ITEMS
from domain.form_checks import FORM_CHECKS, CheckCase, problems
from domain.models import Application, Audit
from engine.errors import FormValidationError
from engine.models import Incident
from tests.certification_case import NO_SHIFTS, PROCESSES
from tests.web_support import Browser, text


def to_programme(case):
    case.apply()
    case.review()
    case.contract()


def to_training(case):
    to_programme(case)
    case.programme(mystery_shopping=False)
    case.appoint()
    p = case.people
    sites = case.data("Task_AuditPlan")["application"]["sites"]
    case.complete(
        "Task_AuditPlan",
        p.leader,
        {
            "activities": [plan_row(case, i, site["id"]) for i, site in enumerate(sites)],
            **NO_SHIFTS,
        },
    )
    case.at(10)
    case.review_documents(adequate=True)


def plan_row(case, i, site_id, day=None):
    p = case.people
    return {
        "date": day or case.day(28 + i),
        "site": site_id,
        "activity": f"审查 {i}",
        "auditor_id": (p.leader_id, p.auditor_id)[i % 2],
        "start": "09:00",
        "duration_hours": 6,
    }


def to_opening_meeting(case):
    to_training(case)
    case.at(27)
    case.complete("Task_PreAuditTraining", case.people.leader, training(case, case.today()))


def training(case, day):
    p = case.people
    return {
        "training_date": day,
        "trainer": "张组长",
        "attendees": [p.leader_id, p.auditor_id, p.expert_id],
        "laws_standards_confirmed": True,
        "culture_and_requirements_trained": True,
        "content": "法规标准适用性、CTC 文化和审查要求",
    }


def programme(case, review_day):
    return {
        "mystery_shopping": False,
        "random_survey": False,
        "document_review_date": case.day(review_day),
        "initial_audit_start": case.day(28),
        "initial_audit_end": case.day(29),
        "man_days": 3.0,
        "sizing_notes": "规模中等",
        "shift_work_notes": None,
        "shifts": [],
    }


def opening(day):
    return {
        "meeting_date": day,
        "attendees": [{"name": "王总", "organisation": "优服", "role": "总经理"}],
        "checklist": {key: True for key in OPENING_MEETING_ITEMS},
        "notes": None,
    }


def refused(case, element_id, who, data) -> dict[str, list[str]]:
    """Submit through the engine; the errors of the 422 (and the task is still open)."""
    with pytest.raises(FormValidationError) as err:
        case.engine.complete_task(case.open_task(element_id).id, actor=who, data=data)
    assert case.open_task(element_id).state == "open"
    return err.value.errors


def no_incident(case):
    db.session.rollback()
    assert db.session.scalars(select(Incident)).all() == []
    assert case.instance().status == "running"


def api_complete(case, who, element_id, data):
    db.session.rollback()
    user = db.session.scalars(select(User).where(User.username == who.username)).one()
    token = issue_token(db.session, user, case.clock.now(), "test")
    db.session.commit()
    task_id = case.open_task(element_id).id
    with case.engine_app.app_context():
        return case.engine_app.test_client().post(
            f"/api/v1/tasks/{task_id}/complete",
            json={"data": data},
            headers={"Authorization": f"Bearer {token}"},
        )


class FreshBrowser(Browser):
    """Each request in its own app context: the test's own context (the `engine` fixture) would
    otherwise be shared by the requests, with its `g` (signed-in user, CSRF token)."""

    def get(self, url, **kwargs):
        with self.app.app_context():
            return super().get(url, **kwargs)

    def post(self, url, data=None, **kwargs):
        with self.app.app_context():
            return super().post(url, data, **kwargs)


def web_complete(case, username, password, element_id, fields):
    browser = FreshBrowser(case.engine_app)
    assert browser.login(username, password).status_code == 302
    task_id = case.open_task(element_id).id
    page = browser.get(f"/tasks/{task_id}")
    assert page.status_code == 200, text(page)[-3000:]
    return browser.post(f"/tasks/{task_id}", {"action": "complete", **fields})


def errors_of(page: str, field_id: str) -> str:
    match = re.search(rf'id="{field_id}-errors" role="alert">(.*?)</ul>', page, re.S)
    return match.group(1) if match else ""


@pytest.fixture
def web_case(case, app):
    case.engine_app = app
    return case


# -- the three dead ends of issue 10 -------------------------------------------------------------


def test_document_review_on_the_audit_start_day_is_refused_at_submit(web_case):
    case = web_case
    to_programme(case)
    same_day = programme(case, 28)  # the review on the first audit day: wants it before
    errors = refused(case, "Task_BuildProgramme", case.people.scheduler, same_day)
    assert list(errors) == ["document_review_date"]
    assert "R-8.1" in errors["document_review_date"][0]

    response = api_complete(case, case.people.scheduler, "Task_BuildProgramme", same_day)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert "R-8.1" in json.dumps(response.get_json(), ensure_ascii=False)
    assert "document_review_date" in response.get_data(as_text=True)

    page = web_complete(
        case,
        "ji_scheduler",
        "pw",
        "Task_BuildProgramme",
        {
            "f/document_review_date": case.day(28),
            "f/initial_audit_start": case.day(28),
            "f/initial_audit_end": case.day(29),
            "f/man_days": "3",
            "f/sizing_notes": "规模中等",
            "f/shift_work_notes": "",
        },
    )
    assert page.status_code == 422, text(page)[:2000]
    assert "R-8.1" in errors_of(text(page), "f-document_review_date")
    no_incident(case)

    case.complete("Task_BuildProgramme", case.people.scheduler, programme(case, 10))
    no_incident(case)


def test_training_after_the_onsite_start_is_refused_at_submit(web_case):
    case = web_case
    to_training(case)
    case.at(29)  # the day after the on-site start: not in the future, but too late
    late = training(case, case.day(29))
    errors = refused(case, "Task_PreAuditTraining", case.people.leader, late)
    assert list(errors) == ["training_date"] and "R-8.4" in errors["training_date"][0]

    response = api_complete(case, case.people.leader, "Task_PreAuditTraining", late)
    assert response.status_code == 422
    assert "R-8.4" in response.get_data(as_text=True)

    p = case.people
    page = web_complete(
        case,
        "zhang_leader",
        "pw-zhang_leader",
        "Task_PreAuditTraining",
        {
            "f/training_date": case.day(29),
            "f/trainer": "张组长",
            "f/attendees": [str(a) for a in (p.leader_id, p.auditor_id, p.expert_id)],
            "f/laws_standards_confirmed": "1",
            "f/culture_and_requirements_trained": "1",
            "f/content": "培训内容",
        },
    )
    assert page.status_code == 422, text(page)[:2000]
    assert "R-8.4" in errors_of(text(page), "f-training_date")
    no_incident(case)

    case.complete("Task_PreAuditTraining", case.people.leader, training(case, case.day(27)))
    no_incident(case)


def test_opening_meeting_in_the_future_is_refused_at_submit(web_case):
    case = web_case
    to_opening_meeting(case)
    case.at(28)
    tomorrow = opening(case.day(29))  # within the on-site dates, but it has not happened yet
    errors = refused(case, "Task_OpeningMeeting", case.people.leader, tomorrow)
    assert list(errors) == ["meeting_date"]
    assert "R-8.5.1" in errors["meeting_date"][0] and "future" in errors["meeting_date"][0]

    response = api_complete(case, case.people.leader, "Task_OpeningMeeting", tomorrow)
    assert response.status_code == 422
    assert "R-8.5.1" in response.get_data(as_text=True)

    fields = {"f/meeting_date": case.day(29), "f/notes": ""}
    fields |= {
        "f/attendees/0/__row": "1",
        "f/attendees/0/name": "王总",
        "f/attendees/0/organisation": "优服",
        "f/attendees/0/role": "总经理",
    }
    fields |= {f"f/checklist/{key}": "1" for key in OPENING_MEETING_ITEMS}
    page = web_complete(case, "zhang_leader", "pw-zhang_leader", "Task_OpeningMeeting", fields)
    assert page.status_code == 422, text(page)[:2000]
    assert "R-8.5.1" in errors_of(text(page), "f-meeting_date")
    no_incident(case)

    case.complete("Task_OpeningMeeting", case.people.leader, opening(case.today()))
    no_incident(case)


# -- the other declared checks (engine path: the same for web and API) ---------------------


def test_opening_meeting_outside_the_onsite_dates_is_refused(case):
    to_opening_meeting(case)
    case.at(28)
    errors = refused(case, "Task_OpeningMeeting", case.people.leader, opening(case.day(27)))
    assert "R-8.5.1" in errors["meeting_date"][0] and "outside" in errors["meeting_date"][0]


def test_programme_end_before_start_and_shift_work_without_notes_are_refused(case):
    to_programme(case)
    data = programme(case, 10) | {"initial_audit_end": case.day(27)}
    errors = refused(case, "Task_BuildProgramme", case.people.scheduler, data)
    assert "R-7.1.2" in errors["initial_audit_end"][0]
    application = db.session.scalars(select(Application)).one()
    application.shift_work = True
    db.session.commit()
    errors = refused(case, "Task_BuildProgramme", case.people.scheduler, programme(case, 10))
    assert "R-7.1.4" in errors["shift_work_notes"][0]
    notes = programme(case, 10) | {"shift_work_notes": "两班倒，两班均审"}
    errors = refused(case, "Task_BuildProgramme", case.people.scheduler, notes)
    assert "R-7.1.4" in errors["shifts"][0]  # the shifts themselves are named
    shifts = [{"name": "白班", "hours": "08:00–16:00"}, {"name": "夜班", "hours": "16:00–24:00"}]
    case.complete("Task_BuildProgramme", case.people.scheduler, notes | {"shifts": shifts})
    no_incident(case)


def test_audit_plan_outside_the_onsite_dates_or_missing_a_site_is_refused(case):
    to_programme(case)
    case.programme(mystery_shopping=False)
    case.appoint()
    sites = case.data("Task_AuditPlan")["application"]["sites"]
    leader = case.people.leader
    late = [plan_row(case, 0, sites[0]["id"], day=case.day(30)), plan_row(case, 1, sites[1]["id"])]
    errors = refused(case, "Task_AuditPlan", leader, {"activities": late, **NO_SHIFTS})
    assert "R-7.3" in errors["activities/0/date"][0]
    one_site = [plan_row(case, 0, sites[0]["id"])]
    errors = refused(case, "Task_AuditPlan", leader, {"activities": one_site, **NO_SHIFTS})
    assert "R-7.3" in errors["activities"][0] and sites[1]["name"] in errors["activities"][0]
    expert = [plan_row(case, 0, sites[0]["id"]) | {"auditor_id": case.people.expert_id}]
    expert.append(plan_row(case, 1, sites[1]["id"]))
    errors = refused(case, "Task_AuditPlan", leader, {"activities": expert, **NO_SHIFTS})
    assert "R-7.2.4" in errors["activities/0/auditor_id"][0]


def test_recertification_document_review_must_cover_the_minimum(case):
    to_training(case)  # the review was adequate; a recertification's second round is checked
    # The same rule on a recertification's review: make the application one.
    application = db.session.scalars(select(Application)).one()
    application.kind = "recertification"
    audit = db.session.scalars(select(Audit)).one()
    audit.status = "planned"
    db.session.commit()
    check = FORM_CHECKS["audit.document_review_covers"]
    case_data = {"audit_id": audit.id, "documents_reviewed": ["服务手册"]}
    found = problems(check, CheckCase(db.session, case.clock.now(), case_data))
    assert "R-8.1" in found["documents_reviewed"][0]
    assert "policy_objectives" in found["documents_reviewed"][0]
    documents = ["服务范围", "服务方针和目标", "组织机构和职责", "要求的形成文件的程序"]
    full = {**case_data, "documents_reviewed": documents}
    assert problems(check, CheckCase(db.session, case.clock.now(), full)) == {}


def test_mystery_shopping_in_the_future_or_more_satisfied_than_asked_is_refused(case):
    to_programme(case)
    case.programme(mystery_shopping=True)
    case.appoint()
    sites = case.data("Task_AuditPlan")["application"]["sites"]
    case.complete(
        "Task_AuditPlan",
        case.people.leader,
        {"activities": [plan_row(case, i, s["id"]) for i, s in enumerate(sites)], **NO_SHIFTS},
    )
    case.at(10)
    case.review_documents(adequate=True)
    case.at(20)
    visit = {
        "visit_date": case.day(21),
        "shopper": "安暗访",
        "service_experienced": "报修",
        "observations": "规范",
        "random_survey_done": True,
        "survey_sample_size": 30,
        "satisfied_count": 27,
    }
    shopper = case.people.shopper
    errors = refused(case, "Task_MysteryShopping", shopper, visit)
    assert "R-8.2" in errors["visit_date"][0]
    too_many = visit | {"visit_date": case.day(20), "satisfied_count": 31}
    errors = refused(case, "Task_MysteryShopping", shopper, too_many)
    assert "R-8.3" in errors["satisfied_count"][0]


def test_training_without_the_whole_team_is_refused(case):
    to_training(case)
    case.at(27)
    p = case.people
    data = training(case, case.today()) | {"attendees": [p.leader_id, p.auditor_id]}
    errors = refused(case, "Task_PreAuditTraining", p.leader, data)
    assert "R-8.4" in errors["attendees"][0] and str(p.expert_id) in errors["attendees"][0]


def test_closing_meeting_check_is_the_handlers_rule():
    """The check and the handler share one function: the closing meeting's date rule."""
    from datetime import UTC, datetime

    from domain.audit.onsite import check_closing_meeting_date
    from domain.errors import RuleViolation

    now = datetime(2026, 3, 1, 4, tzinfo=UTC)
    assert check_closing_meeting_date("2026-03-01", now).isoformat() == "2026-03-01"
    with pytest.raises(RuleViolation) as err:
        check_closing_meeting_date((now + timedelta(days=1)).date().isoformat(), now)
    assert err.value.rule == "R-8.5.7" and err.value.field == "meeting_date"


def test_every_declared_check_is_registered_with_the_engine(engine):
    declared = set()
    for path in (PROCESSES / "forms").glob("*.json"):
        declared |= set(json.loads(path.read_text(encoding="utf-8")).get("x-checks", []))
    assert declared  # the forms do declare checks
    assert declared <= engine.registry.form_checks()
    assert declared == set(FORM_CHECKS)


def test_validate_reports_a_form_check_that_is_not_registered(tmp_path):
    import shutil

    from engine.validation import validate_paths
    from handlers.registry import REGISTRY

    shutil.copytree(PROCESSES, tmp_path / "processes")
    form = tmp_path / "processes" / "forms" / "opening_meeting.json"
    schema = json.loads(form.read_text(encoding="utf-8"))
    assert validate_paths([tmp_path / "processes"], registry=REGISTRY) == []
    schema["x-checks"] = ["audit.opening_meeting_fits", "audit.no_such_check"]
    form.write_text(json.dumps(schema, ensure_ascii=False), encoding="utf-8")
    problems = validate_paths([tmp_path / "processes"], registry=REGISTRY)
    assert [p.message for p in problems] == [
        "form 'forms/opening_meeting.json': form check 'audit.no_such_check' is not registered"
    ]
