"""A running certification inside its called process (the on-site audit, `onsite_audit`) moves
to a version in which only the called process changed (issue 12): the dry run lists the change,
the migration swaps the running subprocess's definition too, and the case continues on it."""

import re
from datetime import timedelta

from certflow.db import db
from engine.service import Actor
from engine.sources import deploy_sources, version_sources
from tests.certification_case import Case, deploy_everything, make_people

OWNER = Actor("olga_owner", frozenset({"process_owner"}))
EVIDENCE_DUE = re.compile(
    r'(<bpmn:userTask id="Task_CollectEvidence".*?<spiffworkflow:property name="dueIn" value=")'
    r'P1D(")',
    re.S,
)


def test_a_case_in_its_called_process_moves_and_runs_the_new_called_definition(
    engine, clock, tmp_path
):
    deploy_everything(engine)
    case = Case(engine, clock, make_people(clock.now()), tmp_path / "uploads")
    case.apply()
    case.review()
    case.contract()
    case.programme()
    case.appoint()
    case.plan_and_prepare()
    assert case.active() == ["Task_OpeningMeeting"]  # inside onsite_audit
    sources = version_sources(db.session, "certification")
    [path] = [p for p in sources.files if p.endswith("onsite_audit.bpmn")]
    changed, count = EVIDENCE_DUE.subn(r"\1P3D\2", sources.files[path])
    assert count == 1
    deploy_sources(
        db.session,
        {**sources.files, path: changed},
        registry=engine.registry,
        actor=OWNER.username,
        comment="证据收集期限 3 天",
        now=clock.now(),
    )
    db.session.commit()
    assert version_sources(db.session, "certification").version == sources.version + 1

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
