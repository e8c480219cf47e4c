"""Issue 16: a finished subprocess (its call activity completed) leaves the running state before
each save (engine/finished_subprocesses.py); what the pages and the migration dry run read of it
is kept with the state: the diagram marks of its elements, the steps it reached.

Real instances through the real diagrams: a surveillance cycle through two surveillances
(tests/lifecycle_simulation.py; R-8.10.1 surveillance audits with nonconformities) and a
certification case through its on-site audit (R-8.7 nonconformities)."""

import json
from datetime import timedelta

import pytest
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

import engine.instance_run as instance_run
from certflow.db import db
from engine.diagram_state import diagram_marks
from engine.finished_subprocesses import (
    StoredRecord,
    finished_record,
    remove_finished_subprocesses,
    stored_entries,
)
from engine.migration import REMOVED
from engine.models import HumanTask, ProcessInstance
from engine.pruning import pruned_task_data
from engine.state_compaction import FINISHED_KEY, INTERNED_KEY, RECORD_KEY, decode_record
from tests.certification_case import Case, deploy_everything, make_people, one_nc, through_onsite
from tests.engine.test_instance_migration_subprocess import (
    deploy_onsite_audit,
    without_opening_meeting,
)
from tests.engine.test_state_compaction import certificate, instances, simulation
from tests.web.test_instance_diagram import marks, staff
from tests.web_support import text


def task_count(workflow) -> int:
    return len(workflow.tasks) + sum(len(sp.tasks) for sp in workflow.subprocesses.values())


def finished_inside(workflow) -> list[str]:
    """Process ids of finished subprocesses (call activity completed) still in the state."""
    return [
        sp.spec.name
        for caller_id, sp in workflow.subprocesses.items()
        if sp.completed and workflow.get_task_from_id(caller_id).state == TaskState.COMPLETED
    ]


def surveillance(engine):
    db.session.rollback()
    [instance] = [i for i in instances("running") if i.process_id == "surveillance"]
    return instance, engine._load(instance)


def test_a_surveillance_cycle_keeps_its_task_count_bounded(app, engine, clock, tmp_path):
    run = simulation(app, clock, tmp_path)  # certified; the surveillance cycle runs
    expires = certificate().expires_on
    counts = []
    for moment in (expires - timedelta(days=2 * 365 - 30), expires - timedelta(days=150)):
        run.run_until(run.at(moment))  # the first, then the second surveillance done
        instance, workflow = surveillance(engine)
        assert finished_inside(workflow) == []
        counts.append(task_count(workflow))
    assert run.figures.by_element["surveillance/Task_OpeningMeeting"] == 2
    # Each surveillance added about 72 tasks before (194-223 after two); now the second adds
    # none that stay: the cycle's state holds its own tasks and what still runs.
    assert counts[1] <= counts[0] + 10, counts
    assert counts[1] < 120, counts
    # The diagram still marks what the finished audits reached.
    kept = stored_entries(json.loads(instance.state_json))
    reached = engine.diagram_marks(instance.id, [])
    for entry in kept.values():
        for process_id, process in entry.items():
            assert set(process["completed"]) <= set(reached[process_id]["completed"]) | set(
                reached[process_id]["active"]
            )
    assert "Task_OpeningMeeting" in reached["onsite_audit"]["completed"]
    # Loaded and saved again without a change, the state is the same text, and the record's
    # text was neither decoded nor encoded (issue 16); read, it has the finished audits' data.
    loaded = engine._load(instance)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(StoredRecord, "decode", lambda self: pytest.fail("record decoded"))
        assert remove_finished_subprocesses(loaded) == 0
        assert engine.serializer.dump_workflow(loaded) == instance.state_json
    record = finished_record(loaded)
    assert record.callers == list(kept)
    task_data = [
        data
        for entry in record.entries.values()
        for p in entry.values()
        for data in p["task_data"].values()
    ]
    assert len(task_data) >= 4 and all(d.resolve() for d in task_data)


def test_a_surveillance_cycle_saved_before_keeps_its_marks_without_its_finished_parts(
    app, engine, clock, tmp_path, monkeypatch
):
    """Two surveillances run as before issue 16 (every finished subprocess kept, nested ones
    too); removing them gives the same diagram marks of every process, and
    the state loaded again has none."""
    monkeypatch.setattr(instance_run, "remove_finished_subprocesses", lambda workflow: 0)
    run = simulation(app, clock, tmp_path)
    run.run_until(run.at(certificate().expires_on - timedelta(days=150)))
    instance, workflow = surveillance(engine)
    old_count, old_marks = task_count(workflow), engine.diagram_marks(instance.id, [])
    assert len(finished_inside(workflow)) >= 6 and old_count > 180, old_count  # 194-223 before

    removed = remove_finished_subprocesses(workflow)
    restored = engine.serializer.load_workflow(
        engine.serializer.dump_workflow(workflow), *engine._spec(instance.process_version)
    )
    assert finished_inside(restored) == [] and task_count(restored) == old_count - removed
    assert diagram_marks(restored, []) == old_marks
    assert {"surveillance_audit", "onsite_audit", "nonconformity"} <= set(old_marks)


@pytest.fixture
def audited(engine, clock, tmp_path, monkeypatch):
    """A certification through its on-site audit with one NC, saved as before issue 16 (the
    finished `onsite_audit` subprocess still inside its state)."""
    monkeypatch.setattr(instance_run, "remove_finished_subprocesses", lambda workflow: 0)
    deploy_everything(engine)
    case = Case(engine, clock, make_people(clock.now()), tmp_path / "uploads")
    through_onsite(case, points_lost=80, nonconformities=one_nc())
    monkeypatch.undo()
    db.session.rollback()
    assert "onsite_audit" in finished_inside(engine._load(case.instance()))
    return case


def test_old_states_load_and_leave_their_finished_subprocesses_at_the_next_save(
    audited, app, engine
):
    instance = audited.instance()
    old = engine._load(instance)
    old_count, old_marks = task_count(old), engine.diagram_marks(instance.id, [])
    meeting = db.session.scalars(
        select(HumanTask).where(
            HumanTask.instance_id == instance.id, HumanTask.element_id == "Task_OpeningMeeting"
        )
    ).one()
    assert meeting.state == "completed"
    old_data = engine.task_data(meeting)
    browser = staff(app)
    task_page_before = text(browser.get(f"/tasks/{meeting.id}"))
    page_before = marks(text(browser.get(f"/instances/{instance.id}?process=onsite_audit")))
    assert "Task_OpeningMeeting" in page_before["completed"]

    audited.receive_report()  # the next operation saves the state

    db.session.rollback()
    instance = audited.instance()
    stored = json.loads(instance.state_json)
    [entry] = [e for e in stored_entries(stored).values() if "onsite_audit" in e]
    assert "Task_OpeningMeeting" in entry["onsite_audit"]["completed"]
    workflow = engine._load(instance)
    assert "onsite_audit" not in finished_inside(workflow)
    assert task_count(workflow) < old_count
    assert engine.diagram_marks(instance.id, [])["onsite_audit"] == old_marks["onsite_audit"]
    page_after = marks(text(browser.get(f"/instances/{instance.id}?process=onsite_audit")))
    assert page_after == page_before
    # A completed task of the removed subprocess: its data as it completed are kept (the task
    # page, the API and what a client may see of them read them, R-11).
    assert engine.task_data(meeting) == old_data
    assert "onsite" in old_data or len(old_data) > 5, old_data  # the case data, not just answers
    assert engine.task_data(meeting) != pruned_task_data(db.session, instance.id, meeting.id)
    assert text(browser.get(f"/tasks/{meeting.id}")) == task_page_before


def test_the_removal_keeps_every_mark_and_the_dry_run(audited, engine, clock):
    """The same state with and without its finished subprocesses: same diagram marks of every
    process, same migration dry run (the removed reached element still refuses it)."""
    instance = audited.instance()
    old_version = deploy_onsite_audit(engine, clock, without_opening_meeting)
    [before] = engine.migration_candidates("certification", old_version + 1)
    assert (before.refusal, before.element_id) == (REMOVED, "Task_OpeningMeeting")
    workflow = engine._load(instance)
    old_marks = engine.diagram_marks(instance.id, [])

    assert remove_finished_subprocesses(workflow) > 0
    instance = db.session.get(ProcessInstance, instance.id)
    instance.state_json = engine.serializer.dump_workflow(workflow)  # as the next save writes
    db.session.commit()

    assert "onsite_audit" not in finished_inside(engine._load(instance))
    assert engine.diagram_marks(instance.id, []) == old_marks
    [after] = engine.migration_candidates("certification", old_version + 1)
    assert (after.refusal, after.element_id, after.element_name) == (
        before.refusal,
        before.element_id,
        before.element_name,
    )
    assert after.changes == before.changes
    assert any(c.element_id == "Task_OpeningMeeting" and c.reached for c in after.changes)


def as_written_before(state: dict) -> dict:
    """The same state as serializer -i1 wrote it: the record a mapping under FINISHED_KEY, its
    task data references into the state's own value table."""
    state = json.loads(json.dumps(state))
    entries, values = decode_record(state.pop(RECORD_KEY)["text"])
    offset = len(state[INTERNED_KEY])
    state[INTERNED_KEY] += values
    for entry in entries.values():
        for kept in entry.values():
            kept["task_data"] = {
                task_id: {key: ref + offset for key, ref in refs.items()}
                for task_id, refs in kept["task_data"].items()
            }
    state[FINISHED_KEY] = entries
    return state


def resolved(entries: dict) -> dict:
    return {
        caller: {
            process_id: {
                **kept,
                "task_data": {t: d.resolve() for t, d in kept["task_data"].items()},
            }
            for process_id, kept in entry.items()
        }
        for caller, entry in entries.items()
    }


def test_a_record_stored_as_a_mapping_before_loads_and_is_written_as_text(audited, engine):
    """States saved before the record became a text of its own (-i1) load with the same record,
    marks and task data, and their next save writes the text."""
    audited.receive_report()  # the onsite audit leaves the state: the record has an entry
    db.session.rollback()
    instance = audited.instance()
    spec = engine._spec(instance.process_version)
    before = json.dumps(as_written_before(json.loads(instance.state_json)))
    assert RECORD_KEY not in json.loads(before)
    old, new = engine.serializer.load_workflow(before, *spec), engine._load(instance)
    assert finished_record(new).callers
    assert resolved(finished_record(old).entries) == resolved(finished_record(new).entries)
    assert "onsite_audit" in diagram_marks(old, [])
    assert diagram_marks(old, []) == diagram_marks(new, [])
    assert engine.serializer.dump_workflow(old) == instance.state_json
