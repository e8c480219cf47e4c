"""Running cases moved to another deployed version of their process (issue 12).

A dry run per instance says whether it can move and what would change; a migration moves one
instance in its own transaction; a migrated instance can move back to the version it came from.

SpiffWorkflow's diff (`SpiffWorkflow.bpmn.util.diff`) aligns the old task specs with the new
ones; they are swapped as its `migrate_workflow` does, resetting the ready tasks and the waiting
ones that changed (an unchanged timer keeps its due time). The diff refuses nothing itself, so
the rules are here: an instance is refused when a step it has reached
(completed, started, ready, waiting, failed or cancelled) is removed or becomes another kind of
element, or when a called process it runs is gone; as a last check the migration is tried on a
copy and the copy saved and restored with the new definitions (a state the new version cannot
load is never written). Each migration is logged (R-13: who, when, both versions and hashes).
"""

from dataclasses import dataclass, field

from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select

from engine import timers
from engine.actors import Actor
from engine.core import Run, valid_id
from engine.errors import ConflictError, EngineError, NotFoundError
from engine.finished_subprocesses import finished_record
from engine.instance_run import InstanceRun
from engine.models import EventLog, HumanTask, ProcessInstance, ProcessVersion

REACHED = TaskState.FINISHED_MASK | TaskState.STARTED | TaskState.READY | TaskState.WAITING
MIGRATED, MOVED_BACK = "instance_migrated", "instance_moved_back"
# Why an instance cannot move (the web translates each code).
REMOVED, TYPE_CHANGED, CALLED_PROCESS_REMOVED, NOT_MAPPABLE = (
    "removed",
    "type_changed",
    "called_process_removed",
    "not_mappable",
)


class MigrationRefused(EngineError):
    """The dry run refuses this instance: nothing was changed."""

    status = 422


@dataclass(frozen=True)
class ElementChange:
    element_id: str
    name: str
    kind: str  # added | removed | changed
    reached: bool  # the case has reached this element (completed it or is at it)
    properties: tuple[str, ...] = ()


@dataclass(frozen=True)
class MigrationCheck:
    """The dry run of one instance towards one version."""

    instance_id: int
    business_key: str | None
    process_id: str
    from_version: int
    from_sha256: str
    to_version: int
    to_sha256: str
    lock_version: int
    active_elements: tuple[str, ...]
    refusal: str | None = None  # a reason code above; None: movable
    element_id: str | None = None  # the element the refusal names
    element_name: str | None = None
    changes: tuple[ElementChange, ...] = field(default_factory=tuple)

    @property
    def movable(self) -> bool:
        return self.refusal is None


def _name(spec) -> str:
    return getattr(spec, "bpmn_name", None) or spec.name


def _is_element(spec) -> bool:
    return getattr(spec, "bpmn_id", None) is not None  # control tasks have no BPMN element


class Migration(InstanceRun):
    """Dry run, migrate and move back of running instances."""

    # -- reading ---------------------------------------------------------------------------------
    def _version(self, process_id: str, version: int) -> ProcessVersion:
        row = self.session.scalars(
            select(ProcessVersion).where(
                ProcessVersion.process_id == process_id, ProcessVersion.version == version
            )
        ).first()
        if row is None:
            raise NotFoundError(f"process {process_id!r} has no version {version}")
        return row

    def migration_candidates(
        self, process_id: str, version: int, *, offset: int = 0, limit: int | None = None
    ) -> list[MigrationCheck]:
        """The dry run of the running instances of older versions of the process, oldest first;
        `offset`/`limit` take one page of them (each dry run loads and migrates a copy)."""
        target = self._version(process_id, version)
        rows = self.session.scalars(
            self._older_running(process_id, version)
            .order_by(ProcessInstance.id)
            .offset(offset)
            .limit(limit)
        )
        return [self._check(row, target) for row in rows]

    def count_migration_candidates(self, process_id: str, version: int) -> int:
        self._version(process_id, version)
        older = self._older_running(process_id, version).with_only_columns(ProcessInstance.id)
        return self.session.scalar(select(func.count()).select_from(older.subquery())) or 0

    def _older_running(self, process_id: str, version: int):
        return (
            select(ProcessInstance)
            .join(ProcessVersion, ProcessVersion.id == ProcessInstance.process_version_id)
            .where(
                ProcessInstance.process_id == process_id,
                ProcessInstance.status == "running",
                ProcessVersion.version < version,
            )
        )

    def check_migration(self, instance_id: int, version: int) -> MigrationCheck:
        instance = self._get_instance(instance_id)
        return self._check(instance, self._version(instance.process_id, version))

    def migrated_instances(
        self, process_id: str, version: int, *, limit: int | None = None
    ) -> list[MigrationCheck]:
        """Running instances migrated to this version, each with the dry run of its way back;
        at most `limit` of them, oldest first."""
        target = self._version(process_id, version)
        rows = self.session.scalars(
            select(ProcessInstance)
            .where(
                ProcessInstance.process_version_id == target.id,
                ProcessInstance.status == "running",
            )
            .order_by(ProcessInstance.id)
        )
        checks = []
        for row in rows:
            if limit is not None and len(checks) >= limit:
                break
            previous = self._previous_version(row)
            if previous is not None:
                checks.append(self._check(row, previous))
        return checks

    def _previous_version(self, instance: ProcessInstance) -> ProcessVersion | None:
        """The version the instance's last migration came from, while it is on its target and
        has not moved back."""
        event = self.session.scalars(
            select(EventLog)
            .where(
                EventLog.instance_id == instance.id,
                EventLog.event_type.in_((MIGRATED, MOVED_BACK)),
            )
            .order_by(EventLog.id.desc())
            .limit(1)
        ).first()
        if (
            event is None
            or event.event_type != MIGRATED  # moved back already
            or event.data.get("to_sha256") != instance.process_version.sha256
        ):
            return None
        return self._version(instance.process_id, event.data["from_version"])

    # -- the dry run -----------------------------------------------------------------------------
    def _diffs(self, workflow, target: ProcessVersion):
        """[(workflow or subprocess, its spec diff or None, its workflow diff or None)]: the
        instance first, then each subprocess it runs (None: its called process is gone)."""
        registry = self.serializer.registry
        new_spec, new_deps = self._spec(target)
        spec_diff = SpecDiff(registry, workflow.spec, new_spec)
        diffs = [(workflow, spec_diff, WorkflowDiff(workflow, spec_diff))]
        for sub in workflow.subprocesses.values():
            new_sub = new_deps.get(sub.spec.name)
            if new_sub is None:
                diffs.append((sub, None, None))
                continue
            sub_diff = SpecDiff(registry, sub.spec, new_sub)
            diffs.append((sub, sub_diff, WorkflowDiff(sub, sub_diff)))
        return diffs

    def _check(self, instance: ProcessInstance, target: ProcessVersion) -> MigrationCheck:
        source = instance.process_version
        base = {
            "instance_id": instance.id,
            "business_key": instance.business_key,
            "process_id": instance.process_id,
            "from_version": source.version,
            "from_sha256": source.sha256,
            "to_version": target.version,
            "to_sha256": target.sha256,
            "lock_version": instance.lock_version,
            "active_elements": tuple(instance.active_elements or ()),
        }
        workflow = self._load(instance)
        diffs = self._diffs(workflow, target)
        # Finished subprocesses left the state; their record counts as their tasks did.
        finished = self._finished_diffs(workflow, target)
        reached = {t.task_spec.name for t in workflow.get_tasks(state=REACHED)}
        kept = finished_record(workflow).processes(workflow)
        reached |= {name for process in kept.values() for name in process["reached"]}
        changes: list[ElementChange] = []
        seen: set[str] = set()
        named = [(sub.spec.name, spec_diff) for sub, spec_diff, _ in diffs]
        for process_id, spec_diff in named + finished:
            if spec_diff is not None and process_id not in seen:
                seen.add(process_id)
                changes += _spec_changes(spec_diff, reached)
        refusal = (
            _refusal(workflow, diffs)
            or _finished_refusal(workflow, finished)
            or self._trial(instance, target)
        )
        if refusal is None:
            return MigrationCheck(**base, changes=tuple(changes))
        code, spec = refusal
        return MigrationCheck(
            **base,
            refusal=code,
            element_id=spec.name if spec is not None else None,
            element_name=_name(spec) if spec is not None else None,
            changes=tuple(changes),
        )

    def _finished_diffs(self, workflow, target: ProcessVersion):
        """[(process id, its spec diff or None)] of the called processes whose finished
        subprocesses left the state (engine/finished_subprocesses.py)."""
        _, new_deps = self._spec(target)
        diffs = []
        for process_id in finished_record(workflow).processes(workflow):
            old, new = workflow.subprocess_specs.get(process_id), new_deps.get(process_id)
            spec_diff = (
                None if old is None or new is None else SpecDiff(self.serializer.registry, old, new)
            )
            diffs.append((process_id, spec_diff))
        return diffs

    def _trial(self, instance: ProcessInstance, target: ProcessVersion):
        """Migrate a copy, save it and restore it with the new definitions: a state the new
        version cannot load is refused, never written."""
        copy = self._load(instance)
        try:
            with timers.operation_time(self.clock.now()):
                self._migrate_workflow(copy, target)
            state = self.serializer.dump_workflow(copy)
            new_spec, new_deps = self._spec(target)
            self.serializer.load_workflow(state, new_spec, new_deps)
        except Exception as err:  # noqa: BLE001 - whatever fails, the state cannot be mapped
            return NOT_MAPPABLE, getattr(getattr(err, "task", None), "task_spec", None)
        return None

    def _migrate_workflow(self, workflow, target: ProcessVersion) -> list:
        """The migration of the instance and of each subprocess it runs; returns the tasks
        whose spec changed (their inbox rows are written again)."""
        new_spec, new_deps = self._spec(target)
        changed = []
        for sub, _, workflow_diff in self._diffs(workflow, target):
            changed += workflow_diff.changed
            spec = new_spec if sub is workflow else new_deps[sub.spec.name]
            _migrate(workflow_diff, sub, spec)
        workflow.subprocess_specs = new_deps
        return changed

    # -- migrating -------------------------------------------------------------------------------
    def migrate_instance(
        self, instance_id: int, *, to_version: int, actor: Actor, lock_version: int | None = None
    ) -> MigrationCheck:
        """Move one instance to `to_version` (refused as the dry run says: 422; changed by
        someone else meanwhile or already moved: 409)."""
        return self._move(instance_id, to_version, actor, lock_version, MIGRATED)

    def move_back(
        self, instance_id: int, *, actor: Actor, lock_version: int | None = None
    ) -> MigrationCheck:
        """Return a migrated instance to the version it came from (the same dry run)."""
        instance = self._get_instance(instance_id)
        previous = self._previous_version(instance)
        if previous is None:
            raise ConflictError(f"process instance {instance_id} was not migrated to its version")
        version = previous.version
        self.session.rollback()  # the move reads the row again, locked
        return self._move(instance_id, version, actor, lock_version, MOVED_BACK)

    def _move(
        self, instance_id: int, to_version: int, actor: Actor, lock_version, event_type: str
    ) -> MigrationCheck:
        with self._transaction() as session:
            now = self.clock.now()
            instance = self._locked_instance(instance_id)
            if lock_version is not None and instance.lock_version != lock_version:
                raise ConflictError(
                    f"process instance {instance_id} changed since the dry run; check it again"
                )
            target = self._version(instance.process_id, to_version)
            if instance.process_version_id == target.id:
                raise ConflictError(f"process instance {instance_id} is already on that version")
            if instance.status != "running":
                raise ConflictError(f"process instance {instance_id} is not running")
            check = self._check(instance, target)
            if not check.movable:
                raise MigrationRefused(
                    f"process instance {instance_id} cannot move to version {to_version}: "
                    f"{check.refusal} {check.element_id}"
                )
            workflow = self._load(instance)
            run = Run(instance, workflow, actor, now)
            self._log(
                session,
                event_type,
                actor,
                now,
                instance_id=instance.id,
                data={
                    "process_id": instance.process_id,
                    "from_version": check.from_version,
                    "from_sha256": check.from_sha256,
                    "to_version": check.to_version,
                    "to_sha256": check.to_sha256,
                },
            )
            # In the operation's scope (the engine's clock for a timer set again); then as
            # after any engine step: run what became ready, save the state with its timer,
            # subscriptions and inbox.
            with self._scope(run):
                changed = self._migrate_workflow(workflow, target)
                self._forget_inbox_rows(instance, changed)
                instance.process_version = target
                self._advance(run)
                self._finish(run)
        return check

    def _locked_instance(self, instance_id: int) -> ProcessInstance:
        """The row locked for the transaction (PostgreSQL; SQLite has one writer anyway)."""
        instance = (
            self.session.get(
                ProcessInstance, instance_id, with_for_update=True, populate_existing=True
            )
            if valid_id(instance_id)
            else None
        )
        if instance is None:
            raise NotFoundError(f"process instance {instance_id} not found")
        return instance

    def _forget_inbox_rows(self, instance: ProcessInstance, changed_tasks: list) -> None:
        """An open inbox row of a step whose definition changed is written again from the new
        definition (its form, role, due time) by the save."""
        ids = [str(task.id) for task in changed_tasks]
        if not ids:
            return
        for row in self.session.scalars(
            select(HumanTask).where(
                HumanTask.instance_id == instance.id,
                HumanTask.state == "open",
                HumanTask.id.in_(ids),
            )
        ):
            row.state = "cancelled"


def _migrate(diff, workflow, spec) -> None:
    """SpiffWorkflow's `migrate_workflow`, except that a waiting task whose spec and way ahead
    are unchanged keeps its state: a timer keeps its due time (SpiffWorkflow resets every ready
    and waiting task, which would restart a running deadline)."""
    workflow.spec = spec
    for task in workflow.tasks.values():
        aligned = diff.alignment.get(task)
        if aligned is not None:
            task.task_spec = aligned
    changed = {task.id for task in diff.changed}
    pending = workflow.get_tasks(state=TaskState.READY | TaskState.WAITING, skip_subprocesses=True)
    for task in list(pending):
        if task.id not in workflow.tasks:  # removed with an earlier task's branch
            continue
        kept = all(t.id not in changed and diff.alignment.get(t) is not None for t in task)
        if task.state == TaskState.WAITING and kept:
            continue
        task.reset_branch(None)
    if workflow.last_task not in workflow.tasks:
        workflow.last_task = None


def _refusal(workflow, diffs):
    """(reason, spec) of the first reached step the new version cannot take, else None."""
    for sub, spec_diff, workflow_diff in diffs:
        if spec_diff is None:  # the called process is gone from the new version
            caller = workflow.get_task_from_id(sub.parent_task_id)
            return CALLED_PROCESS_REMOVED, caller.task_spec if caller else None
        for task in workflow_diff.removed:
            if task.state & REACHED:
                return REMOVED, task.task_spec
        for task in workflow_diff.changed:
            if task.state & REACHED and "typename" in spec_diff.changed[task.task_spec]:
                return TYPE_CHANGED, task.task_spec
    return None


def _finished_refusal(workflow, finished):
    """As _refusal, for the steps reached in finished subprocesses (their record)."""
    kept = finished_record(workflow).processes(workflow)
    for process_id, spec_diff in finished:
        reached = kept[process_id]["reached"]
        if spec_diff is None:  # the called process is gone from the new version
            caller_process, caller_name = min(kept[process_id]["callers"])
            specs = {workflow.spec.name: workflow.spec, **workflow.subprocess_specs}
            caller_spec = specs.get(caller_process)
            return CALLED_PROCESS_REMOVED, (
                caller_spec.task_specs.get(caller_name) if caller_spec is not None else None
            )
        for spec in spec_diff.removed:
            if spec.name in reached:
                return REMOVED, spec
        for spec, keys in spec_diff.changed.items():
            if spec.name in reached and "typename" in keys:
                return TYPE_CHANGED, spec
    return None


def _spec_changes(spec_diff, reached: set[str]) -> list[ElementChange]:
    """The diagram's elements added, removed and changed, each marked when the case reached it."""
    changes = [
        ElementChange(s.name, _name(s), "added", False) for s in spec_diff.added if _is_element(s)
    ]
    changes += [
        ElementChange(s.name, _name(s), "removed", s.name in reached)
        for s in spec_diff.removed
        if _is_element(s)
    ]
    changes += [
        ElementChange(s.name, _name(s), "changed", s.name in reached, tuple(keys))
        for s, keys in spec_diff.changed.items()
        if _is_element(s)
    ]
    return changes
