"""Incident repair (issue 10, "no dead ends"): staff correct the data the failing step reads and
run it again, or send the case back to the user task whose answer must change — each one
transaction under the optimistic lock, written to the event log with who and before/after.

The incident comes from a case of a version deployed before its forms declared their checks
(processes/ without "x-checks", as the instances of issue 10 were): the opening meeting dated in
the future reaches audit.record_opening_meeting, which refuses it (R-8.5.1)."""

import json
import shutil
import threading

import pytest
from sqlalchemy import select

from certflow.db import db
from engine.errors import ConflictError, FormValidationError
from engine.models import EventLog, HumanTask, Incident
from engine.service import Actor
from tests.certification_case import PROCESSES, Case, make_people
from tests.forms.test_form_checks import opening, to_opening_meeting

ADMIN = Actor("ada_admin", frozenset({"admin"}))


def deploy_without_form_checks(engine, tmp_path) -> None:
    from domain.indicators import load_indicator_sets

    legacy = tmp_path / "processes"
    shutil.copytree(PROCESSES, legacy)
    for form in (legacy / "forms").glob("*.json"):
        schema = json.loads(form.read_text(encoding="utf-8"))
        schema.pop("x-checks", None)
        form.write_text(json.dumps(schema, ensure_ascii=False, indent=2), encoding="utf-8")
    owner = Actor("olga_owner", frozenset({"process_owner"}))
    engine.deploy([legacy], actor=owner, comment="before the form checks")
    load_indicator_sets(db.session, legacy / "indicators", owner.username, engine.clock.now())
    db.session.commit()


@pytest.fixture
def blocked(engine, clock, tmp_path):
    """A case whose opening meeting (dated tomorrow) raised an incident."""
    deploy_without_form_checks(engine, tmp_path)
    case = Case(engine, clock, make_people(clock.now()), tmp_path / "uploads")
    to_opening_meeting(case)
    case.at(28)
    task = case.open_task("Task_OpeningMeeting")
    engine.complete_task(task.id, actor=case.people.leader, data=opening(case.day(29)))
    [incident] = engine.open_incidents(case.instance_id)
    assert incident.element_id == "Task_RecordOpeningMeeting"
    assert "R-8.5.1" in incident.message and case.instance().status == "error"
    case.opening_task_id = task.id
    return case, incident


def events(instance_id, kind):
    db.session.rollback()
    return db.session.scalars(
        select(EventLog)
        .where(EventLog.instance_id == instance_id, EventLog.event_type == kind)
        .order_by(EventLog.id)
    ).all()


def test_the_repair_page_offers_what_the_failing_step_reads(engine, blocked):
    case, incident = blocked
    view = engine.repair_view(incident.id)
    assert view.variables["meeting_date"] == case.day(29)
    assert {"audit_id", "attendees", "checklist", "notes"} <= set(view.variables)
    assert "application" not in view.variables  # not read by the failing step: not offered
    assert view.targets[0].element_id == "Task_OpeningMeeting"
    assert view.targets[0].completed_by == "zhang_leader"
    assert view.lock_version == case.instance().lock_version


def test_correct_and_retry_continues_the_case_with_before_and_after_logged(engine, blocked):
    case, incident = blocked
    fixed = engine.correct_and_retry(
        incident.id, actor=ADMIN, changes={"meeting_date": case.day(28)}
    )
    assert fixed.status == "resolved" and fixed.resolved_by == "ada_admin"
    instance = case.instance()
    assert instance.status == "running"
    assert "Task_CollectEvidence" in instance.active_elements
    [corrected] = events(instance.id, "incident_data_corrected")
    assert corrected.actor == "ada_admin"
    assert corrected.data["changes"] == {
        "meeting_date": {"before": case.day(29), "after": case.day(28)}
    }
    assert corrected.data["incident_id"] == incident.id
    assert events(instance.id, "incident_resolved")


def test_a_correction_of_the_wrong_type_or_form_is_refused_and_changes_nothing(engine, blocked):
    case, incident = blocked
    lock = case.instance().lock_version
    with pytest.raises(FormValidationError) as err:
        engine.correct_and_retry(incident.id, actor=ADMIN, changes={"meeting_date": 20260301})
    assert "meeting_date" in err.value.errors
    with pytest.raises(FormValidationError) as err:
        engine.correct_and_retry(incident.id, actor=ADMIN, changes={"meeting_date": "soon"})
    assert "meeting_date" in err.value.errors  # the form's JSON Schema: a date
    with pytest.raises(FormValidationError) as err:
        engine.correct_and_retry(incident.id, actor=ADMIN, changes={"certificate_id": 1})
    assert "certificate_id" in err.value.errors  # not read by the failing step
    assert case.instance().lock_version == lock
    assert events(case.instance_id, "incident_data_corrected") == []
    assert engine.open_incidents(case.instance_id)[0].attempts == 1


def test_send_back_reopens_the_user_task_for_its_assignee_with_the_answers(engine, app, blocked):
    from webapp.models import TaskDraft

    case, incident = blocked
    row = engine.send_back(incident.id, actor=ADMIN, task_id=case.opening_task_id)
    assert row.state == "open" and row.assignee == "zhang_leader"
    instance = case.instance()
    assert instance.status == "running"
    assert instance.active_elements == ["Task_OpeningMeeting"]
    assert db.session.get(Incident, incident.id).status == "resolved"
    [sent] = events(instance.id, "task_sent_back")
    assert sent.actor == "ada_admin" and sent.element_id == "Task_OpeningMeeting"
    assert sent.data["previous_data"]["meeting_date"] == case.day(29)
    assert "R-8.5.1" in sent.data["reason"]
    assert events(instance.id, "incident_sent_back")
    draft = db.session.get(TaskDraft, (case.opening_task_id, "zhang_leader"))
    assert draft.data["meeting_date"] == case.day(29)
    # The leader corrects the answer; the case goes on.
    case.complete("Task_OpeningMeeting", case.people.leader, opening(case.day(28)))
    assert "Task_CollectEvidence" in case.active()


def test_a_stale_page_gets_409(engine, blocked):
    case, incident = blocked
    stale = case.instance().lock_version - 1
    with pytest.raises(ConflictError):
        engine.correct_and_retry(
            incident.id, actor=ADMIN, changes={"meeting_date": case.day(28)}, lock_version=stale
        )
    with pytest.raises(ConflictError):
        engine.send_back(incident.id, actor=ADMIN, task_id=case.opening_task_id, lock_version=stale)
    assert engine.open_incidents(case.instance_id)


def test_concurrent_repairs_one_wins_the_other_gets_409(app, engine, blocked):
    case, incident = blocked
    lock = case.instance().lock_version
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(operation):
        with app.app_context():
            barrier.wait()
            try:
                operation()
                outcomes.append("ok")
            except ConflictError:
                outcomes.append("409")
            finally:
                db.session.remove()

    fix = {"meeting_date": case.day(28)}
    threads = [
        threading.Thread(
            target=attempt,
            args=(
                lambda: engine.correct_and_retry(
                    incident.id, actor=ADMIN, changes=fix, lock_version=lock
                ),
            ),
        ),
        threading.Thread(
            target=attempt,
            args=(
                lambda: engine.send_back(
                    incident.id, actor=ADMIN, task_id=case.opening_task_id, lock_version=lock
                ),
            ),
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["409", "ok"]
    db.session.rollback()
    assert db.session.get(Incident, incident.id).status == "resolved"
    assert (
        len(events(case.instance_id, "incident_resolved"))
        + len(events(case.instance_id, "incident_sent_back"))
        == 1
    )
    open_rows = db.session.scalars(
        select(HumanTask).where(
            HumanTask.instance_id == case.instance_id, HumanTask.state == "open"
        )
    ).all()
    assert len(open_rows) == 1  # the evidence task (corrected) or the opening meeting (sent back)
