"""Running instances moved to a new version of their process (issue 12): the dry run says which
can move (an active step kept) and which cannot (its active step removed, named); the movable
one is migrated and runs to its end on the new version; a migrated instance moves back; two
concurrent migrations of one instance: one wins, the other gets 409."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.errors import ConflictError
from engine.migration import REMOVED, MigrationRefused
from engine.models import EventLog, HumanTask, ProcessInstance
from tests.helpers import MARKET, OWNER, REVIEW_FLOW, record_acceptance, registered, run_in_threads
from tests.migration_support import WAIT, without_resubmission


def open_task(engine, instance_id, element_id):
    engine.session.rollback()
    return engine.session.scalars(
        select(HumanTask).where(
            HumanTask.instance_id == instance_id,
            HumanTask.element_id == element_id,
            HumanTask.state == "open",
        )
    ).one()


def start(engine, key):
    return engine.start(
        "review_flow",
        actor=MARKET,
        business_key=key,
        data={"headcount": 120, "application_id": key},
    ).id


@pytest.fixture
def two_versions(engine, tmp_path):
    """v1 with two running cases — one at the acceptance review, one waiting for documents —
    then v2 without the wait deployed."""
    with registered("test_record_acceptance", record_acceptance):
        engine.deploy([REVIEW_FLOW], actor=OWNER)
        at_review = start(engine, "APP-M1")
        waiting = start(engine, "APP-M2")
        review = open_task(engine, waiting, "Task_Review")
        engine.complete_task(review.id, actor=MARKET, data={"accepted": False, "man_days": 1})
        engine.deploy([without_resubmission(tmp_path)], actor=OWNER, comment="no wait")
        yield at_review, waiting


def test_the_dry_run_finds_one_case_movable_and_refuses_the_one_at_a_removed_step(
    engine, two_versions
):
    at_review, waiting = two_versions
    checks = {c.instance_id: c for c in engine.migration_candidates("review_flow", 2)}
    assert set(checks) == {at_review, waiting}
    movable, refused = checks[at_review], checks[waiting]
    assert movable.movable and movable.refusal is None
    assert (movable.from_version, movable.to_version) == (1, 2)
    assert movable.from_sha256 != movable.to_sha256
    kinds = {(c.kind, c.element_id) for c in movable.changes}
    assert ("removed", WAIT) in kinds and ("added", "EndEvent_NotAccepted") in kinds
    assert not refused.movable
    assert refused.refusal == REMOVED
    assert (refused.element_id, refused.element_name) == (
        WAIT,
        "等待补充材料 Wait for resubmission",
    )
    assert [c.reached for c in refused.changes if c.element_id == WAIT] == [True]
    # Refused means untouched: a migration attempt is a 422 and changes nothing.
    with pytest.raises(MigrationRefused) as refusal:
        engine.migrate_instance(waiting, to_version=2, actor=OWNER)
    assert refusal.value.status == 422 and WAIT in refusal.value.message
    engine.session.rollback()
    assert engine.get_instance(waiting).process_version.version == 1


def test_a_migrated_case_continues_to_its_end_on_the_new_version(engine, two_versions):
    at_review, _ = two_versions
    check = engine.check_migration(at_review, 2)
    engine.migrate_instance(at_review, to_version=2, actor=OWNER, lock_version=check.lock_version)
    engine.session.rollback()
    instance = engine.get_instance(at_review)
    assert instance.process_version.version == 2
    assert instance.active_elements == ["Task_Review"]
    [event] = engine.session.scalars(
        select(EventLog).where(
            EventLog.instance_id == at_review, EventLog.event_type == "instance_migrated"
        )
    ).all()
    assert event.actor == OWNER.username
    assert event.data == {
        "process_id": "review_flow",
        "from_version": 1,
        "from_sha256": check.from_sha256,
        "to_version": 2,
        "to_sha256": check.to_sha256,
    }
    # Not accepted now ends the case: the path only the new version has.
    review = open_task(engine, at_review, "Task_Review")
    engine.complete_task(review.id, actor=MARKET, data={"accepted": False, "man_days": 1})
    engine.session.rollback()
    instance = engine.get_instance(at_review)
    assert instance.status == "completed"
    assert instance.active_elements == []


def test_a_migrated_case_moves_back_and_runs_on_its_old_version(engine, two_versions):
    at_review, _ = two_versions
    engine.migrate_instance(at_review, to_version=2, actor=OWNER)
    engine.session.rollback()
    [back] = engine.migrated_instances("review_flow", 2)
    assert (back.instance_id, back.to_version, back.movable) == (at_review, 1, True)
    engine.move_back(at_review, actor=OWNER, lock_version=back.lock_version)
    engine.session.rollback()
    assert engine.get_instance(at_review).process_version.version == 1
    assert engine.migrated_instances("review_flow", 2) == []
    moved_back = engine.session.scalars(
        select(EventLog).where(EventLog.event_type == "instance_moved_back")
    ).one()
    assert (moved_back.data["from_version"], moved_back.data["to_version"]) == (2, 1)
    # On version 1 again: not accepted waits for the documents, as version 1 says.
    review = open_task(engine, at_review, "Task_Review")
    engine.complete_task(review.id, actor=MARKET, data={"accepted": False, "man_days": 1})
    engine.session.rollback()
    assert engine.get_instance(at_review).active_elements == [WAIT]
    with pytest.raises(ConflictError):  # it is no migrated instance any more
        engine.move_back(at_review, actor=OWNER)


def test_a_stale_dry_run_or_a_second_migration_is_a_conflict(engine, two_versions):
    at_review, _ = two_versions
    check = engine.check_migration(at_review, 2)
    engine.migrate_instance(at_review, to_version=2, actor=OWNER, lock_version=check.lock_version)
    with pytest.raises(ConflictError):
        engine.migrate_instance(
            at_review, to_version=2, actor=OWNER, lock_version=check.lock_version
        )
    with pytest.raises(ConflictError):
        engine.migrate_instance(at_review, to_version=2, actor=OWNER)


def test_two_concurrent_migrations_of_one_case_one_wins_the_other_gets_409(
    app, engine, two_versions
):
    at_review, _ = two_versions
    lock_version = engine.check_migration(at_review, 2).lock_version
    engine.session.rollback()
    both_ready = threading.Barrier(2, timeout=20)

    def migrate():
        both_ready.wait()
        return app.extensions["certflow.engine"].migrate_instance(
            at_review, to_version=2, actor=OWNER, lock_version=lock_version
        )

    results = run_in_threads(app, migrate, migrate)
    assert sorted(kind for kind, _ in results) == ["error", "ok"], results
    [error] = [value for kind, value in results if kind == "error"]
    assert isinstance(error, ConflictError) and error.status == 409
    engine.session.rollback()
    migrated = engine.session.scalars(
        select(EventLog).where(EventLog.event_type == "instance_migrated")
    ).all()
    assert len(migrated) == 1
    assert engine.session.get(ProcessInstance, at_review).process_version.version == 2


def test_the_migrate_command_reports_the_dry_run_then_moves_the_movable_case(
    app, engine, two_versions
):
    from cli.migrate import migrate_command

    at_review, waiting = two_versions
    runner = app.test_cli_runner()
    dry = runner.invoke(migrate_command, ["review_flow", "--to", "2", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "[1/2] APP-M1 v1→v2: movable" in dry.output
    assert f"refused (removed: 等待补充材料 Wait for resubmission {WAIT})" in dry.output
    assert "2 running case(s) on older versions; 1 movable, 1 refused" in dry.output
    engine.session.rollback()
    assert engine.get_instance(at_review).process_version.version == 1
    moved = runner.invoke(migrate_command, ["review_flow", "--to", "2", "--user", "olga"])
    assert moved.exit_code == 0, moved.output
    assert "1 moved, 1 refused, 0 not moved" in moved.output
    engine.session.rollback()
    assert engine.get_instance(at_review).process_version.version == 2
    assert engine.get_instance(waiting).process_version.version == 1
    unknown = runner.invoke(migrate_command, ["review_flow", "--to", "9"])
    assert unknown.exit_code == 1


def test_a_waiting_timer_the_new_version_keeps_unchanged_keeps_its_due_time(
    engine, clock, two_versions
):
    """The contract's 30-day boundary timer started on day 0; migrated on day 10 it still fires
    on day 30 (SpiffWorkflow's migration would restart it: day 40)."""
    at_review, _ = two_versions
    review = open_task(engine, at_review, "Task_Review")
    engine.complete_task(review.id, actor=MARKET, data={"accepted": True, "man_days": 2})
    engine.session.rollback()
    due = engine.get_instance(at_review).next_timer_at
    assert due is not None
    clock.advance(timedelta(days=10))
    engine.migrate_instance(at_review, to_version=2, actor=OWNER)
    engine.session.rollback()
    instance = engine.get_instance(at_review)
    assert instance.process_version.version == 2
    assert instance.active_elements == ["BoundaryTimer_ContractOverdue", "Task_SignContract"]
    assert instance.next_timer_at == due
