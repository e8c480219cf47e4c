"""A running certification inside its called process (the on-site audit, `onsite_audit`) moves
to a version in which only the called process changed (issue 12): the dry run lists the change,
the migration swaps the running subprocess's definition too, and the case continues on it."""

import re
from datetime import timedelta

import pytest

from certflow.db import db
from engine.migration import REMOVED, MigrationRefused
from engine.service import Actor
from engine.sources import deploy_sources, version_sources
from tests.certification_case import Case, deploy_everything, make_people

OWNER = Actor("olga_owner", frozenset({"process_owner"}))
EVIDENCE_DUE = re.compile(
    r'(<bpmn:userTask id="Task_CollectEvidence".*?<spiffworkflow:property name="dueIn" value=")'
    r'P1D(")',
    re.S,
)


def at_opening_meeting(engine, clock, tmp_path) -> Case:
    deploy_everything(engine)
    case = Case(engine, clock, make_people(clock.now()), tmp_path / "uploads")
    case.apply()
    case.review()
    case.contract()
    case.programme()
    case.appoint()
    case.plan_and_prepare()
    assert case.active() == ["Task_OpeningMeeting"]  # inside onsite_audit
    return case


def deploy_onsite_audit(engine, clock, change) -> int:
    """A new certification version whose called `onsite_audit.bpmn` is `change`d."""
    sources = version_sources(db.session, "certification")
    [path] = [p for p in sources.files if p.endswith("onsite_audit.bpmn")]
    deploy_sources(
        db.session,
        {**sources.files, path: change(sources.files[path])},
        registry=engine.registry,
        actor=OWNER.username,
        comment="现场审查流程修改",
        now=clock.now(),
    )
    db.session.commit()
    assert version_sources(db.session, "certification").version == sources.version + 1
    return sources.version


def evidence_due_in_3_days(bpmn: str) -> str:
    changed, count = EVIDENCE_DUE.subn(r"\1P3D\2", bpmn)
    assert count == 1
    return changed


def without_opening_meeting(bpmn: str) -> str:
    """The audit starts with recording the opening meeting: the meeting task is removed."""
    meeting = "Task_OpeningMeeting"
    bpmn = re.sub(rf'\s*<bpmn:userTask id="{meeting}".*?</bpmn:userTask>', "", bpmn, flags=re.S)
    bpmn = re.sub(rf"\s*<bpmn:flowNodeRef>{meeting}</bpmn:flowNodeRef>", "", bpmn)
    bpmn = re.sub(r'\s*<bpmn:sequenceFlow id="Flow_ToRecordOpeningMeeting"[^>]*/>', "", bpmn)
    bpmn = bpmn.replace(f'targetRef="{meeting}"', 'targetRef="Task_RecordOpeningMeeting"').replace(
        "<bpmn:incoming>Flow_ToRecordOpeningMeeting</bpmn:incoming>",
        "<bpmn:incoming>Flow_ToOpeningMeeting</bpmn:incoming>",
    )
    for element in (f"{meeting}_di", "Flow_ToRecordOpeningMeeting_di"):
        bpmn = re.sub(
            rf'\s*<bpmndi:BPMN(Shape|Edge) id="{element}".*?</bpmndi:BPMN(Shape|Edge)>',
            "",
            bpmn,
            count=1,
            flags=re.S,
        )
    assert f'"{meeting}"' not in bpmn
    return bpmn


def test_a_case_in_its_called_process_moves_and_runs_the_new_called_definition(
    engine, clock, tmp_path
):
    case = at_opening_meeting(engine, clock, tmp_path)
    old = deploy_onsite_audit(engine, clock, evidence_due_in_3_days)
    sources = version_sources(db.session, "certification", old)

    [check] = engine.migration_candidates("certification", sources.version + 1)
    assert check.instance_id == case.instance_id and check.movable
    assert [(c.kind, c.element_id) for c in check.changes] == [("changed", "Task_CollectEvidence")]
    engine.migrate_instance(case.instance_id, to_version=sources.version + 1, actor=OWNER)
    assert case.instance().process_version.version == sources.version + 1
    case.opening_meeting()
    task = case.open_task("Task_CollectEvidence")
    # The new called definition governs the next step: three days, not one.
    assert task.due_at - clock.now() > timedelta(days=2)
    assert case.instance().process_version.version == sources.version + 1


def test_a_case_at_a_step_its_called_process_removes_is_refused_naming_it(engine, clock, tmp_path):
    case = at_opening_meeting(engine, clock, tmp_path)
    old = deploy_onsite_audit(engine, clock, without_opening_meeting)
    [check] = engine.migration_candidates("certification", old + 1)
    assert (check.instance_id, check.refusal) == (case.instance_id, REMOVED)
    assert (check.element_id, check.element_name) == ("Task_OpeningMeeting", "首次会议")
    with pytest.raises(MigrationRefused):
        engine.migrate_instance(case.instance_id, to_version=old + 1, actor=OWNER)
    assert case.instance().process_version.version == old
    case.opening_meeting()  # it carries on with its own version
