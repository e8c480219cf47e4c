"""Operations on human tasks: complete (form check, guard, validator), claim, unclaim,
reassign."""

from datetime import datetime
from functools import cache
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Select, bindparam, exists, func, select, update
from sqlalchemy.orm import joinedload

from engine.actors import SUPERVISOR_ROLES, Actor
from engine.core import KNOWN_SUBSCRIPTIONS, NOTHING_QUEUED, EngineCore, Run, task_uuid
from engine.errors import (
    ConflictError,
    EngineError,
    ForbiddenError,
    FormValidationError,
    NotFoundError,
)
from engine.form_checks import FormChecks
from engine.forms import field_errors
from engine.hooks import TaskCompleted
from engine.messages import undelivered_for
from engine.models import HumanTask, MessageSubscription, ProcessInstance
from engine.read_models import InstanceView
from engine.registry import GuardContext

_NAME_SEPARATOR = "\x1f"  # ASCII unit separator: never part of a BPMN message name


@cache
def _open_task_and_siblings_query() -> Select:
    """The task's instance's open tasks with instance, version and the instance's message
    subscriptions (one column). Built once, on first use (issue 16): building an ORM select with
    its loader options cost about as much as SQLite took to run it, and a prebuilt statement
    keeps its SQLAlchemy cache key. Not at import: a loader option configures every mapper,
    which needs every model module imported."""
    subscribed = (
        select(func.aggregate_strings(MessageSubscription.message_name, _NAME_SEPARATOR))
        .where(MessageSubscription.instance_id == HumanTask.instance_id)
        .scalar_subquery()
    )
    # Whether any undelivered queued message correlates with the instance (an open task carries
    # its instance's business key): when none does, the completion looks for none to deliver
    # (one statement less, issue 16).
    queued = exists().where(undelivered_for(HumanTask.instance_id, HumanTask.business_key))
    instance_of_task = (
        select(HumanTask.instance_id).where(HumanTask.id == bindparam("task_id")).scalar_subquery()
    )
    return (
        select(HumanTask, subscribed, queued)
        .options(joinedload(HumanTask.instance).joinedload(ProcessInstance.process_version))
        .where(HumanTask.instance_id == instance_of_task, HumanTask.state == "open")
    )


class TaskOperations(FormChecks, EngineCore):
    """Complete, claim, unclaim and reassign human tasks."""

    def complete_task(
        self, task_id: str, *, actor: Actor, data: dict[str, Any] | None = None
    ) -> ProcessInstance:
        with self._transaction():
            return self._complete(task_id, actor, data or {})

    def complete_task_viewed(
        self, task_id: str, *, actor: Actor, data: dict[str, Any] | None = None
    ) -> InstanceView:
        """`complete_task`, answered with the instance as the completion left it, taken before
        the commit: the answer needs no read after it (issue 16, the API's answer)."""
        with self._transaction():
            return InstanceView.of(self._complete(task_id, actor, data or {}))

    def _complete(self, task_id: str, actor: Actor, data: dict[str, Any]) -> ProcessInstance:
        session = self.session
        now = self.clock.now()
        row, open_rows = self._open_task_and_siblings(task_id)
        # The role first: someone without it must not learn who claimed the task.
        if not actor.may_act_for(row.candidate_role):
            raise ForbiddenError(f"task needs the role {row.candidate_role!r}")
        if row.assignee and row.assignee != actor.username and not actor.is_system:
            raise ConflictError(f"task is claimed by {row.assignee}")
        instance = row.instance  # read with the task (joined), or from the session's map
        schema = None
        if row.form_file:
            schema = self._version_form(instance.process_version, row.form_file)
            found = field_errors(schema, data, self._format_checker())
            if found:
                raise FormValidationError(details=found)
        elif data:
            raise FormValidationError({"_form": ["this task takes no data"]})
        workflow = self._load_to_change(instance)
        task = self._ready_task(workflow, task_id)
        self._check_guard(row, instance, task, actor, now)
        self._run_option_check(row, instance, task, data, actor, now)
        if schema is not None:
            self._run_form_checks(
                schema, self._task_context(row, instance, actor, now, {**task.data, **data})
            )
        self._run_validator(row, instance, task, data, actor, now)
        run = Run(instance, workflow, actor, now, completed_task_id=task_id, open_rows=open_rows)
        with self._scope(run):
            task.data.update(data)
            try:
                task.run()
            except SpiffWorkflowException as err:
                raise EngineError(f"task could not be completed: {err}") from err
            self._log(
                session,
                "task_completed",
                actor,
                now,
                instance_id=instance.id,
                task_id=task_id,
                element_id=row.element_id,
                data={"data": data},
            )
            self._emit(
                TaskCompleted(
                    session=session,
                    now=now,
                    actor=actor.username,
                    instance_id=instance.id,
                    process_id=instance.process_id,
                    business_key=instance.business_key,
                    task_id=task_id,
                    element_id=row.element_id,
                    data=data,
                )
            )
            self._advance(run)
            self._finish(run)
        return instance

    def claim(self, task_id: str, *, actor: Actor) -> HumanTask:
        with self._transaction() as session:
            now = self.clock.now()
            row = self._open_task(task_id)
            if not actor.may_act_for(row.candidate_role):
                raise ForbiddenError(f"task needs the role {row.candidate_role!r}")
            instance = self._get_instance(row.instance_id)
            self._check_guard(
                row, instance, self._ready_task(self._load(instance), task_id), actor, now
            )
            # Conditional UPDATE: of two concurrent claims exactly one changes the row.
            claimed = session.execute(
                update(HumanTask)
                .where(HumanTask.id == task_id, HumanTask.assignee.is_(None))
                .values(assignee=actor.username)
            ).rowcount
            if not claimed:
                session.refresh(row)
                if row.assignee != actor.username:
                    raise ConflictError(f"task is already claimed by {row.assignee}")
            self._log(
                session,
                "task_claimed",
                actor,
                now,
                instance_id=row.instance_id,
                task_id=task_id,
                element_id=row.element_id,
            )
        return row

    def unclaim(self, task_id: str, *, actor: Actor) -> HumanTask:
        with self._transaction() as session:
            now = self.clock.now()
            row = self._open_task(task_id)
            if row.assignee != actor.username and not (actor.roles & SUPERVISOR_ROLES):
                raise ForbiddenError("only the assignee or a supervisor can unclaim a task")
            previous = row.assignee
            row.assignee = None
            self._log(
                session,
                "task_unclaimed",
                actor,
                now,
                instance_id=row.instance_id,
                task_id=task_id,
                element_id=row.element_id,
                data={"previous_assignee": previous},
            )
        return row

    def reassign(self, task_id: str, *, assignee: Actor, actor: Actor) -> HumanTask:
        with self._transaction() as session:
            now = self.clock.now()
            row = self._open_task(task_id)
            if not (actor.roles & SUPERVISOR_ROLES) and not actor.is_system:
                raise ForbiddenError("only a supervisor can reassign a task")
            if not assignee.may_act_for(row.candidate_role) or assignee.is_system:
                raise EngineError(
                    f"{assignee.username} does not hold the role {row.candidate_role!r}"
                )
            previous = row.assignee
            row.assignee = assignee.username
            self._log(
                session,
                "task_reassigned",
                actor,
                now,
                instance_id=row.instance_id,
                task_id=task_id,
                element_id=row.element_id,
                data={"previous_assignee": previous, "assignee": assignee.username},
            )
        return row

    def _open_task(self, task_id: str) -> HumanTask:
        # With its instance and version in the same query: the operation needs both next
        # (issue 16; no query at all when find_task already read them in this session).
        row = self.session.get(
            HumanTask,
            task_id,
            options=[joinedload(HumanTask.instance).joinedload(ProcessInstance.process_version)],
        )
        if row is None:
            raise NotFoundError(f"task {task_id} not found")
        if row.state != "open":
            raise ConflictError(f"task {task_id} is already {row.state}")
        return row

    def _open_task_and_siblings(self, task_id: str) -> tuple[HumanTask, dict | None]:
        """The open task with its instance and version, every open task of its instance
        (id → row) and the instance's message subscriptions, in one query: the task-index and
        subscription syncs of the completion reuse them (issue 16).
        A task that is not open is reported as `_open_task` reports it."""
        session = self.session
        found = session.execute(_open_task_and_siblings_query(), {"task_id": task_id}).all()
        open_rows = {row.id: row for row, _, _ in found}
        if task_id in open_rows and open_rows[task_id].state == "open":
            row, names, queued = open_rows[task_id], found[0][1], found[0][2]
            session.info.setdefault(KNOWN_SUBSCRIPTIONS, {})[row.instance_id] = (
                set(names.split(_NAME_SEPARATOR)) if names else set()
            )
            if not queued:
                session.info.setdefault(NOTHING_QUEUED, set()).add(row.instance_id)
            return row, open_rows
        return self._open_task(task_id), None  # raises, or an unflushed row: sync queries

    def _task_context(
        self, row: HumanTask, instance: ProcessInstance, actor: Actor, now, data: dict
    ) -> GuardContext:
        return GuardContext(
            session=self.session,
            now=now,
            instance_id=instance.id,
            business_key=instance.business_key,
            element_id=row.element_id,
            actor=actor.username,
            actor_roles=actor.roles,
            data=data,
            settings=self._settings(),
        )

    def _check_guard(
        self, row: HumanTask, instance: ProcessInstance, task, actor: Actor, now: datetime
    ) -> None:
        """Refuse the actor when the task's `guard` property says so (e.g. R-8.8 impartiality)."""
        name = task.task_spec.extensions.get("properties", {}).get("guard")
        if not name or actor.is_system:
            return
        guard_fn = self.registry.guard(name)
        if guard_fn is None:
            raise EngineError(f"task guard {name!r} is not registered")
        reason = guard_fn(self._task_context(row, instance, actor, now, dict(task.data)))
        if reason:
            raise ForbiddenError(reason)

    def _run_validator(
        self, row: HumanTask, instance: ProcessInstance, task, data: dict, actor: Actor, now
    ) -> None:
        """Domain rules on the submitted data (the task's `validate` property) → 422 errors."""
        name = task.task_spec.extensions.get("properties", {}).get("validate")
        if not name:
            return
        validator_fn = self.registry.validator(name)
        if validator_fn is None:
            raise EngineError(f"validator {name!r} is not registered")
        errors = validator_fn(self._task_context(row, instance, actor, now, {**task.data, **data}))
        if errors:
            raise FormValidationError(errors)

    def _run_option_check(
        self, row: HumanTask, instance: ProcessInstance, task, data: dict, actor: Actor, now
    ) -> None:
        """The registry's form check on every form (e.g. values from the options offered)."""
        check = self.registry.option_check
        if check is None or not row.form_file:
            return
        schema = self._version_form(instance.process_version, row.form_file)
        errors = check(
            schema, data, self._task_context(row, instance, actor, now, {**task.data, **data})
        )
        if errors:
            raise FormValidationError(errors)

    def _ready_task(self, workflow: BpmnWorkflow, task_id: str):
        task = workflow.get_task_from_id(task_uuid(task_id))
        if task is None or task.state != TaskState.READY:
            raise ConflictError(f"task {task_id} is no longer ready")
        return task
