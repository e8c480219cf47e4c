"""Issue 16: running instance states store each distinct task-data value once
(engine/state_compaction.py). The compaction is lossless — expanding it gives SpiffWorkflow's own
dictionary, loading it gives the same tasks, data, diagram and waiting events as the plain state —
and states stored in SpiffWorkflow's plain format (before the compaction) still load and run on.

The real instances come from the lifecycle simulation (tests/lifecycle_simulation.py): one client
certified through the engine, its first surveillance left unplanned (suspension and restoration,
R-9.5.1(a)), both surveillances with nonconformities (R-8.10.1), the recertification (R-8.11)."""

import json
from datetime import date, datetime, timedelta
from decimal import Decimal

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from certflow.db import db
from domain.models import Certificate
from engine.diagram_state import diagram_marks
from engine.instance_run import InstanceRun
from engine.models import ProcessInstance
from engine.parsing import make_parser
from engine.state_compaction import INTERNED_KEY, expand_state
from tests.certification_case import deploy_everything, make_people
from tests.helpers import REVIEW_FLOW
from tests.lifecycle_simulation import LifecycleSimulation

PLAIN_VERSION = "1.5"  # process_instance.serializer_version of a state stored before issue 16


def simulation(app, clock, tmp_path, days: int = 41) -> LifecycleSimulation:
    deploy_everything(app.extensions["certflow.engine"])
    # The finished instances' states are round-tripped too: the scheduler's pruning job, which
    # the simulation runs with each sweep, would compact them after 30 days.
    app.config["CERTFLOW_PRUNE_AFTER_DAYS"] = 0
    run = LifecycleSimulation(app, make_people(clock.now()), tmp_path / "uploads", suspend_every=1)
    run.apply(1)
    run.run_until(run.at(run.today() + timedelta(days=days)))  # 41: certified
    return run


def certificate() -> Certificate:
    db.session.rollback()
    return db.session.scalars(select(Certificate).order_by(Certificate.id)).first()


def instances(status: str | None = None) -> list[ProcessInstance]:
    query = select(ProcessInstance).order_by(ProcessInstance.id)
    if status is not None:
        query = query.where(ProcessInstance.status == status)
    return list(db.session.scalars(query))


def tree(workflow) -> list[tuple]:
    """Every task in tree order: what a page, the sweep or the next completion reads of it."""
    return [
        (str(t.id), t.task_spec.name, t.state, repr(t.internal_data), repr(t.data))
        for t in workflow.get_tasks()
    ]


def workflow_data(workflow) -> list[str]:
    return [repr(w.data) for w in (workflow, *workflow.subprocesses.values())]


def waiting(engine, workflow) -> tuple:
    ready = sorted(t.task_spec.name for t in workflow.get_tasks(state=TaskState.READY))
    next_timer, messages = InstanceRun._waiting(engine, workflow)
    return ready, next_timer, sorted(messages)


def shared_containers(workflow) -> set[int]:
    """ids of dict/list values that more than one task's data (or workflow data) holds at the
    top level: SpiffWorkflow's loader gives every task its own."""
    seen: dict[int, int] = {}
    holders = [t.data for t in workflow.get_tasks()]
    holders += [w.data for w in (workflow, *workflow.subprocesses.values())]
    for n, data in enumerate(holders):
        for value in data.values():
            if isinstance(value, dict | list):
                seen.setdefault(id(value), n)
                if seen[id(value)] != n:
                    return {id(value)}
    return set()


def round_trip(engine, instance: ProcessInstance) -> tuple[int, int]:
    """Check that the stored compact state of `instance` is lossless; (plain, compact) bytes."""
    stored = instance.state_json
    assert instance.serializer_version == engine.serializer.version == "1.5-i2"
    workflow = engine._load(instance)
    plain = engine.serializer.dump_plain(workflow)
    compact = engine.serializer.dump_workflow(workflow)
    assert compact == stored  # dumping a loaded state writes it again unchanged
    # Lossless: the references expand to exactly SpiffWorkflow's own dictionary.
    assert expand_state(json.loads(compact)) == json.loads(plain)
    spec = engine._spec(instance.process_version)
    from_plain = engine.serializer.load_workflow(plain, *spec)
    from_compact = engine.serializer.load_workflow(compact, *spec)
    assert tree(from_compact) == tree(from_plain) == tree(workflow)
    assert workflow_data(from_compact) == workflow_data(from_plain)
    assert diagram_marks(from_compact, []) == diagram_marks(from_plain, [])
    assert waiting(engine, from_compact) == waiting(engine, from_plain)
    assert not shared_containers(from_compact)
    return len(plain.encode()), len(compact.encode())


def test_long_running_states_round_trip_losslessly_and_are_smaller(app, engine, clock, tmp_path):
    run = simulation(app, clock, tmp_path, days=20)  # the initial audit under way
    db.session.rollback()
    running = instances("running")
    assert [i.process_id for i in running] == ["certification"]
    round_trip(engine, running[0])

    run.run_until(run.at(run.today() + timedelta(days=21)))  # certified
    run.run_until(run.at(certificate().expires_on - timedelta(days=150)))
    db.session.rollback()
    by_process: dict[str, tuple[int, int]] = {}
    for instance in instances():  # finished ones too: pages read their tasks' data
        sizes = round_trip(engine, instance)
        if instance.status == "running":
            by_process[instance.process_id] = sizes
    # The stated scenario: 150 days before expiry the one running instance is the surveillance
    # cycle, after the suspension, the catch-up and both surveillances with their NCs.
    assert set(by_process) == {"surveillance"}, by_process
    plain_bytes, compact_bytes = by_process["surveillance"]
    # 396 KB plain / 150 KB compact before the finished subprocesses left the state; after,
    # 561 KB / 125 KB measured: the kept data of their completed user tasks (each a full copy
    # of the case data, engine/finished_subprocesses.py) are stored once per distinct value.
    # Since their record is a text of its own (-i2), 160 KB: it carries its own value table
    # (26 KB, values the live tasks hold too) and is escaped inside the state (+10 KB) — what
    # loading and saving the state without decoding the record costs (issue 16).
    assert compact_bytes < 175_000, by_process
    assert compact_bytes < plain_bytes * 0.3, by_process


def test_plain_states_stored_before_the_compaction_load_and_run_on(app, engine, clock, tmp_path):
    run = simulation(app, clock, tmp_path)
    run.run_until(run.at(run.today() + timedelta(days=400)))  # first surveillance done
    db.session.rollback()
    running = instances("running")
    assert {i.process_id for i in running} >= {"surveillance"}
    for instance in running:  # as the rows were before issue 16
        instance.state_json = engine.serializer.dump_plain(engine._load(instance))
        instance.serializer_version = PLAIN_VERSION
        assert INTERNED_KEY not in instance.state_json
    db.session.commit()

    run.run_until(run.at(certificate().expires_on))
    old, new = db.session.scalars(select(Certificate).order_by(Certificate.id)).all()
    assert (old.status, new.status) == ("superseded", "valid")
    assert run.figures.by_element["surveillance/Task_OpeningMeeting"] == 2
    for instance in instances():
        if instance.id in {i.id for i in running}:  # every old row was written again, compact
            assert instance.serializer_version == "1.5-i2"
            assert INTERNED_KEY in json.loads(instance.state_json)


def test_values_keep_their_type_order_and_identity(engine):
    """Values that JSON alone would merge or reorder come back as they were: dates and Decimals
    (registered converters), True / 1 / 1.0 / -0.0, key order; and each task its own copy."""
    parser = make_parser()
    parser.add_bpmn_file(str(REVIEW_FLOW / "review_flow.bpmn"))
    spec, subprocess_specs = parser.get_spec("review_flow"), {}
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=engine.script_engine)
    values = {
        "headcount": 120,
        "application_id": "APP-1",
        "flags": [True, 1, 1.0, -0.0, 0.0, None, "1"],
        "ordered": {"b": 1, "a": {"z": [date(2026, 1, 5)], "y": Decimal("1.10")}},
        "when": datetime(2026, 1, 5, 9, 30),
        "due": date(2027, 2, 28),
        "fee": Decimal("3000.50"),
    }
    workflow.get_tasks(state=TaskState.READY)[0].data.update(values)
    workflow.do_engine_steps()
    compact = engine.serializer.dump_workflow(workflow)
    loaded = engine.serializer.load_workflow(compact, spec, subprocess_specs)
    assert tree(loaded) == tree(workflow)  # repr: types, key order, -0.0 included
    holders = [t for t in loaded.get_tasks() if "flags" in t.data]
    assert len(holders) >= 2
    for task in holders:
        assert repr({k: task.data[k] for k in values}) == repr(values)
    holders[0].data["flags"].append("changed")  # another task's list is its own
    assert holders[-1].data["flags"] == values["flags"]
    assert not shared_containers(loaded)
