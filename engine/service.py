"""The workflow engine: the only place that runs SpiffWorkflow for the application.

Every public operation is one database transaction: workflow state, the human-task index, message
subscriptions, incidents, the event log and the handlers' domain writes commit together or not at
all. Instances carry an optimistic lock (`lock_version`), so two concurrent operations on the same
instance cannot both commit; the loser gets ConflictError.
"""

import json
import logging
import traceback
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from jsonschema import FormatChecker
from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.simple import TerminateEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.specs.mixins.manual_task import ManualTask
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from certflow.clock import Clock
from certflow.db import is_conflict
from certflow.roles import role_for_lane
from engine import timers
from engine.definitions import DeployResult, deploy_definitions, form_path
from engine.errors import (
    ConflictError,
    EngineError,
    ForbiddenError,
    FormValidationError,
    NotFoundError,
    root_cause,
)
from engine.forms import validate_form_data
from engine.models import (
    EventLog,
    HumanTask,
    Incident,
    MessageSubscription,
    ProcessInstance,
    ProcessVersion,
    ProcessVersionFile,
    QueuedMessage,
)
from engine.scripting import CertflowScriptEngine, OperationScope, operation_scope
from engine.serialization import WorkflowSerializer
from handlers.registry import GuardContext, get_guard, get_validator

log = logging.getLogger(__name__)

TIMER_EVENT_TYPES = frozenset(
    {"TimeDateEventDefinition", "DurationTimerEventDefinition", "CycleTimerEventDefinition"}
)
MESSAGE_EVENT_TYPE = "MessageEventDefinition"
SUPERVISOR_ROLES = frozenset({"admin"})


@dataclass(frozen=True)
class Actor:
    """Who acts: a user (username + roles) or the system (scheduler, engine-internal routing)."""

    username: str
    roles: frozenset[str] = frozenset()

    @property
    def is_system(self) -> bool:
        return self.username == "system"

    def may_act_for(self, role: str | None) -> bool:
        return self.is_system or "admin" in self.roles or (role is not None and role in self.roles)


SYSTEM = Actor("system")


@dataclass
class MessageResult:
    delivered_to: int | None = None
    queued_id: int | None = None


@dataclass
class _Run:
    """Bookkeeping of one operation on one instance."""

    instance: ProcessInstance
    workflow: BpmnWorkflow
    actor: Actor
    now: datetime
    completed_task_id: str | None = None
    events: list[EventLog] = field(default_factory=list)


def _is_human(task) -> bool:
    return isinstance(task.task_spec, UserTask | ManualTask)


class WorkflowEngine:
    def __init__(
        self,
        session_factory: Callable[[], Session],
        clock: Clock,
        handler_names: Callable[[], Collection[str]],
        guard_names: Callable[[], Collection[str]] = frozenset,
        format_checker: Callable[[], FormatChecker] = FormatChecker,
        validator_names: Callable[[], Collection[str]] = frozenset,
    ) -> None:
        self._validator_names = validator_names
        self._format_checker = format_checker
        self._session_factory = session_factory
        self.clock = clock
        self._handler_names = handler_names
        self._guard_names = guard_names
        self.serializer = WorkflowSerializer()
        self.script_engine = CertflowScriptEngine()
        self._form_cache: dict[str, dict] = {}

    @property
    def session(self) -> Session:
        return self._session_factory()

    def _is_postgresql(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    # -- transactions --------------------------------------------------------------------------
    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        session = self.session
        try:
            yield session
            session.commit()
        except StaleDataError as err:
            session.rollback()
            raise ConflictError(
                "the process instance was changed concurrently by someone else; reload and retry"
            ) from err
        except (OperationalError, SpiffWorkflowException) as err:
            session.rollback()
            # SQLite's single writer held the lock; PostgreSQL serialization failure or deadlock.
            if is_conflict(err) or is_conflict(root_cause(err)):
                raise ConflictError("the database is busy with a concurrent change; retry") from err
            raise
        except IntegrityError as err:
            session.rollback()
            # A unique or foreign-key rule met because of a concurrent change: 409, never 500.
            raise ConflictError(
                "a concurrent change conflicts with this one; nothing was saved — reload and retry"
            ) from err
        except BaseException:
            session.rollback()
            raise

    def _log(self, session: Session, event_type: str, actor: Actor, now: datetime, **kw) -> None:
        session.add(EventLog(at=now, actor=actor.username, event_type=event_type, **kw))

    # -- definitions ---------------------------------------------------------------------------
    def deploy(
        self, paths: Sequence[str | Path], *, actor: Actor, comment: str = ""
    ) -> DeployResult:
        with self._transaction() as session:
            now = self.clock.now()
            result = deploy_definitions(
                session,
                self.serializer,
                paths,
                actor=actor.username,
                comment=comment,
                handler_names=self._handler_names(),
                guard_names=self._guard_names(),
                validator_names=self._validator_names(),
                now=now,
            )
            for version in result.created:
                self._log(
                    session,
                    "definition_deployed",
                    actor,
                    now,
                    data={
                        "process_id": version.process_id,
                        "version": version.version,
                        "sha256": version.sha256,
                        "deployment_id": result.deployment_id,
                        "comment": comment,
                    },
                )
        return result

    def latest_version(self, process_id: str) -> ProcessVersion:
        version = self.session.scalars(
            select(ProcessVersion)
            .where(ProcessVersion.process_id == process_id)
            .order_by(ProcessVersion.version.desc())
            .limit(1)
        ).first()
        if version is None:
            raise NotFoundError(f"process {process_id!r} is not deployed")
        return version

    def list_latest_versions(self) -> list[ProcessVersion]:
        newest = (
            select(ProcessVersion.process_id, func.max(ProcessVersion.version).label("version"))
            .group_by(ProcessVersion.process_id)
            .subquery()
        )
        return list(
            self.session.scalars(
                select(ProcessVersion)
                .join(
                    newest,
                    (ProcessVersion.process_id == newest.c.process_id)
                    & (ProcessVersion.version == newest.c.version),
                )
                .order_by(ProcessVersion.process_id)
            )
        )

    def form_schema(self, version_id: int, path: str) -> dict:
        row = self.session.get(ProcessVersionFile, (version_id, path))
        if row is None:
            raise NotFoundError(f"form {path!r} is not part of process version {version_id}")
        if row.sha256 not in self._form_cache:  # keyed by content: stored files never change
            self._form_cache[row.sha256] = json.loads(row.source.content)
        return self._form_cache[row.sha256]

    # -- loading and saving --------------------------------------------------------------------
    def _spec(self, version: ProcessVersion):
        return self.serializer.load_spec(
            f"{version.process_id}:{version.sha256}", version.spec_json
        )

    def _load(self, instance: ProcessInstance) -> BpmnWorkflow:
        spec, subprocess_specs = self._spec(instance.process_version)
        workflow = self.serializer.load_workflow(instance.state_json, spec, subprocess_specs)
        workflow.script_engine = self.script_engine  # not serialized: attach after every load
        return workflow

    def _get_instance(self, instance_id: int) -> ProcessInstance:
        # No row lock: the optimistic lock_version decides between concurrent operations.
        instance = (
            self.session.get(ProcessInstance, instance_id) if _valid_id(instance_id) else None
        )
        if instance is None:
            raise NotFoundError(f"process instance {instance_id} not found")
        return instance

    @contextmanager
    def _scope(self, run: _Run) -> Iterator[None]:
        def set_business_key(key: str) -> None:
            # Only an unnamed instance takes the key: a recertification (business key = the
            # certificate number) keeps its name when the called certification registers the
            # new application.
            if run.instance.business_key is not None:
                return
            run.instance.business_key = key
            self.session.execute(
                update(HumanTask)
                .where(HumanTask.instance_id == run.instance.id, HumanTask.state == "open")
                .values(business_key=key)
            )

        scope = OperationScope(
            session=self.session,
            now=run.now,
            instance_id=run.instance.id,
            process_id=run.instance.process_id,
            actor=run.actor.username,
            business_key=lambda: run.instance.business_key,
            set_business_key=set_business_key,
        )
        with timers.operation_time(run.now), operation_scope(scope):
            yield

    def _advance(self, run: _Run) -> None:
        """Run engine steps; a failing task becomes an incident instead of losing the operation."""
        workflow = run.workflow
        try:
            workflow.do_engine_steps()
        except SpiffWorkflowException as err:
            self._record_incidents(run, err)
        self._route_thrown_messages(run)

    def _record_incidents(self, run: _Run, err: SpiffWorkflowException) -> None:
        if isinstance(root_cause(err), SQLAlchemyError):
            raise err  # the database failed, not the model: abort the operation
        session = self.session
        failed = run.workflow.get_tasks(state=TaskState.ERROR)
        if not failed and getattr(err, "task", None) is not None:
            failed = [err.task]
        for task in failed:
            task_id = str(task.id)
            incident = session.scalars(
                select(Incident).where(
                    Incident.instance_id == run.instance.id,
                    Incident.task_id == task_id,
                    Incident.status == "open",
                )
            ).first()
            message = str(err) if err.task is None or err.task is task else f"failed: {err}"
            details = "".join(traceback.format_exception(err))
            if incident is None:
                incident = Incident(
                    instance_id=run.instance.id,
                    task_id=task_id,
                    element_id=task.task_spec.name,
                    error_type=type(root_cause(err)).__name__,
                    message=message,
                    details=details,
                    status="open",
                    attempts=1,
                    created_at=run.now,
                )
                session.add(incident)
            else:
                incident.attempts += 1
                incident.message = message
                incident.details = details
            self._log(
                session,
                "incident_raised",
                run.actor,
                run.now,
                instance_id=run.instance.id,
                task_id=task_id,
                element_id=task.task_spec.name,
                data={"message": message},
            )
        log.warning("incident on instance %s: %s", run.instance.id, err)

    def _route_thrown_messages(self, run: _Run) -> None:
        """Messages an instance throws go to the instance that correlates with them."""
        for event in run.workflow.get_events():
            definition = event.event_definition
            if not isinstance(definition, MessageEventDefinition):
                continue
            payload = event.payload if isinstance(event.payload, dict) else {"value": event.payload}
            business_key = payload.get("business_key", run.instance.business_key)
            self._dispatch_message(
                definition.name,
                {"business_key": business_key},
                payload,
                run.actor,
                run.now,
                exclude_instance=run.instance.id,
            )

    def _waiting(self, workflow: BpmnWorkflow) -> tuple[datetime | None, set[str]]:
        next_timer: datetime | None = None
        messages: set[str] = set()
        for pending in workflow.waiting_events():
            if pending.event_type in TIMER_EVENT_TYPES and pending.value:
                due = timers.timer_due_at(pending.value)
                next_timer = due if next_timer is None else min(next_timer, due)
            elif pending.event_type == MESSAGE_EVENT_TYPE:
                messages.add(pending.name)
        messages |= self._event_subprocess_messages(workflow)
        return next_timer, messages

    @staticmethod
    def _event_subprocess_messages(workflow: BpmnWorkflow) -> set[str]:
        """Messages that start an event subprocess of a running instance (e.g.
        `extra_surveillance`). SpiffWorkflow keeps these triggers on the process spec, not as
        waiting tasks, so waiting_events() does not list them."""
        if workflow.is_completed():
            return set()
        names: set[str] = set()
        for trigger in workflow.spec.start.trigger_specs:
            sub_spec = workflow.subprocess_specs.get(trigger)
            for start in getattr(sub_spec, "bpmn_start_events", []):
                if isinstance(start.event_definition, MessageEventDefinition):
                    names.add(start.event_definition.name)
        return names

    def _status(self, run: _Run) -> str:
        session = self.session
        open_incident = session.scalars(
            select(Incident.id).where(
                Incident.instance_id == run.instance.id, Incident.status == "open"
            )
        ).first()
        if open_incident is not None:
            return "error"
        if run.workflow.is_completed():
            last = run.workflow.last_task
            terminated = (
                last is not None
                and isinstance(last.task_spec, EndEvent)
                and isinstance(last.task_spec.event_definition, TerminateEventDefinition)
            )
            return "terminated" if terminated else "completed"
        return "running"

    def _save(self, run: _Run) -> None:
        session = self.session
        instance, workflow = run.instance, run.workflow
        instance.state_json = self.serializer.dump_workflow(workflow)
        instance.serializer_version = self.serializer.version
        next_timer, message_names = self._waiting(workflow)
        instance.next_timer_at = next_timer
        instance.active_elements = sorted(
            {
                t.task_spec.bpmn_id
                for t in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING)
                if t.task_spec.bpmn_id is not None  # control tasks have no BPMN element
            }
        )
        instance.updated_at = run.now
        previous_status = instance.status
        instance.status = self._status(run)
        if instance.status in ("completed", "terminated") and instance.ended_at is None:
            instance.ended_at = run.now
            self._log(
                session,
                f"instance_{instance.status}",
                run.actor,
                run.now,
                instance_id=instance.id,
            )
        elif instance.status == "error" and previous_status != "error":
            pass  # the incident event says why
        self._sync_subscriptions(instance, message_names)
        self._sync_human_tasks(run)

    def _sync_subscriptions(self, instance: ProcessInstance, names: set[str]) -> None:
        session = self.session
        current = set(
            session.scalars(
                select(MessageSubscription.message_name).where(
                    MessageSubscription.instance_id == instance.id
                )
            )
        )
        if current == names:
            return
        if current - names:
            session.execute(
                delete(MessageSubscription).where(
                    MessageSubscription.instance_id == instance.id,
                    MessageSubscription.message_name.in_(current - names),
                )
            )
        for name in names - current:
            session.add(MessageSubscription(instance_id=instance.id, message_name=name))

    def _due_at(self, task, now: datetime) -> datetime | None:
        """Due date: the `dueIn` property (ISO duration) or the earliest boundary timer."""
        properties = task.task_spec.extensions.get("properties", {})
        candidates: list[datetime] = []
        if properties.get("dueIn"):
            duration = TimerEventDefinition.parse_iso_duration(properties["dueIn"])
            candidates.append(now + TimerEventDefinition.get_timedelta_from_start(duration, now))
        parent = task.parent
        if parent is not None and isinstance(parent.task_spec, BoundaryEventSplit):
            for sibling in parent.children:
                definition = getattr(sibling.task_spec, "event_definition", None)
                if (
                    isinstance(definition, TimerEventDefinition)
                    and sibling.state == TaskState.WAITING
                ):
                    value = definition.details(sibling).value
                    if isinstance(value, str):
                        candidates.append(timers.timer_due_at(value))
        return min(candidates) if candidates else None

    def _follow_up_at(self, task, now: datetime) -> datetime | None:
        properties = task.task_spec.extensions.get("properties", {})
        if not properties.get("followUpIn"):
            return None
        duration = TimerEventDefinition.parse_iso_duration(properties["followUpIn"])
        return now + TimerEventDefinition.get_timedelta_from_start(duration, now)

    def _sync_human_tasks(self, run: _Run) -> None:
        session = self.session
        instance, workflow = run.instance, run.workflow
        ready = {
            str(t.id): t
            for t in workflow.get_tasks(state=TaskState.READY, manual=True)
            if _is_human(t)
        }
        open_rows = {
            row.id: row
            for row in session.scalars(
                select(HumanTask).where(
                    HumanTask.instance_id == instance.id, HumanTask.state == "open"
                )
            )
        }
        for task_id, row in open_rows.items():
            if task_id in ready:
                continue
            if task_id == run.completed_task_id:
                row.state, row.completed_by, row.completed_at = (
                    "completed",
                    run.actor.username,
                    run.now,
                )
            else:
                row.state, row.completed_at = "cancelled", run.now
                self._log(
                    session,
                    "task_cancelled",
                    run.actor,
                    run.now,
                    instance_id=instance.id,
                    task_id=task_id,
                    element_id=row.element_id,
                )
        spec_files = instance.process_version.spec_files
        for task_id, task in ready.items():
            if task_id in open_rows:
                continue
            properties = task.task_spec.extensions.get("properties", {})
            form_ref = properties.get("formJsonSchemaFilename")
            spec_file = spec_files.get(task.workflow.spec.name, "")
            row = session.get(HumanTask, task_id) or HumanTask(id=task_id)
            row.instance_id = instance.id
            row.process_id = instance.process_id
            row.business_key = instance.business_key
            row.element_id = task.task_spec.name
            row.name = task.task_spec.bpmn_name or task.task_spec.name
            row.lane = task.task_spec.lane
            row.candidate_role = role_for_lane(task.task_spec.lane)
            row.assignee = None
            row.state = "open"
            row.form_file = form_path(spec_file, form_ref) if form_ref else None
            row.created_at = run.now
            row.due_at = self._due_at(task, run.now)
            row.follow_up_at = self._follow_up_at(task, run.now)
            row.completed_by = row.completed_at = None
            session.add(row)
            self._log(
                session,
                "task_created",
                run.actor,
                run.now,
                instance_id=instance.id,
                task_id=task_id,
                element_id=row.element_id,
                data={"candidate_role": row.candidate_role},
            )

    def _finish(self, run: _Run) -> None:
        """Deliver queued messages the instance now waits for, then save."""
        for _ in range(20):  # bounded: each delivery may make the instance wait for another
            _, waiting_names = self._waiting(run.workflow)
            queued = self._queued_for(run.instance, waiting_names)
            if queued is None:
                break
            self._deliver(run, queued.name, queued.payload)
            queued.delivered_at, queued.delivered_to = run.now, run.instance.id
        self._save(run)

    # -- instances -----------------------------------------------------------------------------
    def start(
        self,
        process_id: str,
        *,
        actor: Actor,
        data: dict[str, Any] | None = None,
        business_key: str | None = None,
    ) -> ProcessInstance:
        with self._transaction():
            now = self.clock.now()
            version = self.latest_version(process_id)
            spec, subprocess_specs = self._spec(version)
            start_roles = {
                role_for_lane(ts.lane)
                for ts in spec.task_specs.values()
                if isinstance(ts, StartEvent) and ts.lane
            }
            if start_roles and not any(actor.may_act_for(r) for r in start_roles):
                raise ForbiddenError(
                    f"starting {process_id!r} needs one of the roles {sorted(start_roles)}"
                )
            run = self._new_instance(version, actor, data or {}, business_key, now)
            with self._scope(run):
                self._advance(run)
                self._finish(run)
        return run.instance

    def _new_instance(
        self,
        version: ProcessVersion,
        actor: Actor,
        data: dict[str, Any],
        business_key: str | None,
        now: datetime,
    ) -> _Run:
        spec, subprocess_specs = self._spec(version)
        workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=self.script_engine)
        workflow.get_tasks(state=TaskState.READY)[0].data.update(data)
        instance = ProcessInstance(
            process_version=version,
            process_id=version.process_id,
            business_key=business_key,
            status="running",
            state_json="{}",
            serializer_version=self.serializer.version,
            started_by=actor.username,
            started_at=now,
            updated_at=now,
            active_elements=[],
        )
        self.session.add(instance)
        self.session.flush()
        self._log(
            self.session,
            "instance_started",
            actor,
            now,
            instance_id=instance.id,
            data={"process_id": version.process_id, "version": version.version, "data": data},
        )
        return _Run(instance, workflow, actor, now)

    def _open_task(self, task_id: str) -> HumanTask:
        row = self.session.get(HumanTask, task_id)
        if row is None:
            raise NotFoundError(f"task {task_id} not found")
        if row.state != "open":
            raise ConflictError(f"task {task_id} is already {row.state}")
        return row

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
        )

    def _check_guard(
        self, row: HumanTask, instance: ProcessInstance, task, actor: Actor, now: datetime
    ) -> None:
        """Refuse the actor when the task's `guard` property says so (e.g. R-8.8 impartiality)."""
        name = task.task_spec.extensions.get("properties", {}).get("guard")
        if not name or actor.is_system:
            return
        guard_fn = get_guard(name)
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
        validator_fn = get_validator(name)
        if validator_fn is None:
            raise EngineError(f"validator {name!r} is not registered")
        errors = validator_fn(self._task_context(row, instance, actor, now, {**task.data, **data}))
        if errors:
            raise FormValidationError(errors)

    def _ready_task(self, workflow: BpmnWorkflow, task_id: str):
        task = workflow.get_task_from_id(_uuid(task_id))
        if task is None or task.state != TaskState.READY:
            raise ConflictError(f"task {task_id} is no longer ready")
        return task

    def complete_task(
        self, task_id: str, *, actor: Actor, data: dict[str, Any] | None = None
    ) -> ProcessInstance:
        data = data or {}
        with self._transaction() as session:
            now = self.clock.now()
            row = self._open_task(task_id)
            # The role first: someone without it must not learn who claimed the task.
            if not actor.may_act_for(row.candidate_role):
                raise ForbiddenError(f"task needs the role {row.candidate_role!r}")
            if row.assignee and row.assignee != actor.username and not actor.is_system:
                raise ConflictError(f"task is claimed by {row.assignee}")
            instance = self._get_instance(row.instance_id)
            if row.form_file:
                errors = validate_form_data(
                    self.form_schema(instance.process_version_id, row.form_file),
                    data,
                    self._format_checker(),
                )
                if errors:
                    raise FormValidationError(errors)
            elif data:
                raise FormValidationError({"_form": ["this task takes no data"]})
            workflow = self._load(instance)
            task = self._ready_task(workflow, task_id)
            self._check_guard(row, instance, task, actor, now)
            self._run_validator(row, instance, task, data, actor, now)
            run = _Run(instance, workflow, actor, now, completed_task_id=task_id)
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

    # -- messages ------------------------------------------------------------------------------
    def send_message(
        self,
        name: str,
        *,
        correlation: dict[str, Any],
        payload: dict[str, Any] | None = None,
        actor: Actor,
    ) -> MessageResult:
        if not correlation or not set(correlation) <= {"business_key", "instance_id"}:
            raise EngineError(
                "correlation needs business_key and/or instance_id (and nothing else)"
            )
        if "instance_id" in correlation and not _valid_id(correlation["instance_id"]):
            raise EngineError("correlation instance_id must be a positive integer")
        with self._transaction():
            now = self.clock.now()
            return self._dispatch_message(name, correlation, payload or {}, actor, now)

    def _dispatch_message(
        self,
        name: str,
        correlation: dict[str, Any],
        payload: dict[str, Any],
        actor: Actor,
        now: datetime,
        exclude_instance: int | None = None,
    ) -> MessageResult:
        session = self.session
        query = (
            select(ProcessInstance)
            .join(MessageSubscription, MessageSubscription.instance_id == ProcessInstance.id)
            .where(MessageSubscription.message_name == name, ProcessInstance.status == "running")
            .order_by(ProcessInstance.id)
        )
        if "business_key" in correlation:
            query = query.where(ProcessInstance.business_key == correlation["business_key"])
        if "instance_id" in correlation:
            query = query.where(ProcessInstance.id == correlation["instance_id"])
        if exclude_instance is not None:
            query = query.where(ProcessInstance.id != exclude_instance)
        instance = session.scalars(query.limit(1)).first()
        if instance is None and "instance_id" not in correlation:
            started = self._start_by_message(name, correlation, payload, actor, now)
            if started is not None:
                return MessageResult(delivered_to=started.id)
        if instance is None:
            queued = QueuedMessage(
                name=name,
                business_key=correlation.get("business_key"),
                target_instance_id=correlation.get("instance_id"),
                payload=payload,
                sent_by=actor.username,
                received_at=now,
            )
            session.add(queued)
            session.flush()
            self._log(
                session,
                "message_queued",
                actor,
                now,
                data={"name": name, "correlation": correlation, "payload": payload},
            )
            return MessageResult(queued_id=queued.id)
        workflow = self._load(instance)
        run = _Run(instance, workflow, actor, now)
        with self._scope(run):
            self._deliver(run, name, payload)
            self._finish(run)
        return MessageResult(delivered_to=instance.id)

    def _start_by_message(
        self,
        name: str,
        correlation: dict[str, Any],
        payload: dict[str, Any],
        actor: Actor,
        now: datetime,
    ) -> ProcessInstance | None:
        """A message no instance waits for starts the process whose message start event
        catches it (e.g. `certificate_issued` starts surveillance); None when there is none."""
        candidates = [v for v in self.list_latest_versions() if name in (v.start_messages or [])]
        if not candidates:
            return None
        if len(candidates) > 1:
            names = sorted(v.process_id for v in candidates)
            raise EngineError(f"message {name!r} would start several processes: {names}")
        run = self._new_instance(candidates[0], actor, {}, correlation.get("business_key"), now)
        with self._scope(run):
            run.workflow.do_engine_steps()  # the start event now waits for the message
            self._deliver(run, name, payload)
            self._finish(run)
        return run.instance

    def _deliver(self, run: _Run, name: str, payload: dict[str, Any]) -> None:
        run.workflow.send_event(BpmnEvent(MessageEventDefinition(name), payload))
        self._log(
            self.session,
            "message_delivered",
            run.actor,
            run.now,
            instance_id=run.instance.id,
            data={"name": name, "payload": payload},
        )
        self._advance(run)

    def _queued_for(self, instance: ProcessInstance, names: set[str]) -> QueuedMessage | None:
        if not names:
            return None
        candidates = self.session.scalars(
            select(QueuedMessage)
            .where(QueuedMessage.delivered_at.is_(None), QueuedMessage.name.in_(names))
            .order_by(QueuedMessage.id)
        )
        for queued in candidates:
            if queued.target_instance_id not in (None, instance.id):
                continue
            if queued.business_key is not None and queued.business_key != instance.business_key:
                continue
            return queued
        return None

    # -- timers --------------------------------------------------------------------------------
    def due_instance_ids(self, limit: int = 100) -> list[int]:
        """Instances with a timer due now: a timer due at T fires when the clock reads T
        (`next_timer_at <= now`, the rule of timers.is_due, also used by SpiffWorkflow's
        comparison as patched in engine/timers.py)."""
        now = self.clock.now()
        return list(
            self.session.scalars(
                select(ProcessInstance.id)
                .where(ProcessInstance.status == "running", ProcessInstance.next_timer_at <= now)
                .order_by(ProcessInstance.next_timer_at)
                .limit(limit)
            )
        )

    def fire_timers(self, instance_id: int, *, actor: Actor = SYSTEM) -> bool:
        """Fire the due timers of one instance; False when another sweeper has it or none is due."""
        with self._transaction() as session:
            now = self.clock.now()
            query = select(ProcessInstance).where(
                ProcessInstance.id == instance_id,
                ProcessInstance.status == "running",
                ProcessInstance.next_timer_at <= now,
            )
            if self._is_postgresql():
                # A second sweeper skips the row instead of waiting for it.
                query = query.with_for_update(skip_locked=True)
            instance = session.scalars(query).first()
            if instance is None:
                return False
            workflow = self._load(instance)
            run = _Run(instance, workflow, actor, now)
            with self._scope(run):
                due = [
                    p.name
                    for p in workflow.waiting_events()
                    if p.event_type in TIMER_EVENT_TYPES
                    and p.value
                    and timers.is_due(timers.timer_due_at(p.value), now)
                ]
                workflow.refresh_timers()
                self._log(
                    session,
                    "timer_fired",
                    actor,
                    now,
                    instance_id=instance.id,
                    data={"timers": due},
                )
                self._advance(run)
                self._finish(run)
        return True

    def fire_due_timers(self, limit: int = 100) -> list[int]:
        fired = []
        for instance_id in self.due_instance_ids(limit):
            try:
                if self.fire_timers(instance_id):
                    fired.append(instance_id)
            except ConflictError:
                log.info(
                    "instance %s changed concurrently; its timers fire next sweep", instance_id
                )
        return fired

    # -- incidents -----------------------------------------------------------------------------
    def retry_incident(
        self, incident_id: int, *, actor: Actor, data: dict[str, Any] | None = None
    ) -> Incident:
        with self._transaction() as session:
            now = self.clock.now()
            incident = session.get(Incident, incident_id) if _valid_id(incident_id) else None
            if incident is None:
                raise NotFoundError(f"incident {incident_id} not found")
            if incident.status != "open":
                raise ConflictError(f"incident {incident_id} is already {incident.status}")
            instance = self._get_instance(incident.instance_id)
            workflow = self._load(instance)
            task = workflow.get_task_from_id(_uuid(incident.task_id))
            run = _Run(instance, workflow, actor, now)
            self._log(
                session,
                "incident_retried",
                actor,
                now,
                instance_id=instance.id,
                task_id=incident.task_id,
                element_id=incident.element_id,
                data={"incident_id": incident.id, "data": data},
            )
            with self._scope(run):
                if data:
                    task.data.update(data)
                try:
                    task.run()
                except SpiffWorkflowException as err:
                    self._record_incidents(run, err)
                else:
                    incident.status, incident.resolved_at = "resolved", now
                    incident.resolved_by = actor.username
                    self._log(
                        session,
                        "incident_resolved",
                        actor,
                        now,
                        instance_id=instance.id,
                        task_id=incident.task_id,
                        element_id=incident.element_id,
                        data={"incident_id": incident.id},
                    )
                    self._advance(run)
                self._finish(run)
        return incident

    # -- queries -------------------------------------------------------------------------------
    def get_instance(self, instance_id: int) -> ProcessInstance:
        return self._get_instance(instance_id)

    def get_task(self, task_id: str) -> HumanTask:
        row = self.session.get(HumanTask, task_id)
        if row is None:
            raise NotFoundError(f"task {task_id} not found")
        return row

    def task_form(self, row: HumanTask) -> dict | None:
        if not row.form_file:
            return None
        return self.form_schema(row.instance.process_version_id, row.form_file)

    def task_details(self, row: HumanTask) -> dict[str, Any]:
        """Documentation and instructions of a task, read from its spec."""
        instance = row.instance
        spec, subprocess_specs = self._spec(instance.process_version)
        for process_spec in [spec, *subprocess_specs.values()]:
            task_spec = process_spec.task_specs.get(row.element_id)
            if task_spec is not None:
                return {
                    "documentation": task_spec.documentation or "",
                    "instructions": task_spec.extensions.get("instructionsForEndUser", ""),
                    "properties": task_spec.extensions.get("properties", {}),
                }
        return {"documentation": "", "instructions": "", "properties": {}}

    def open_incidents(self, instance_id: int) -> list[Incident]:
        return list(
            self.session.scalars(
                select(Incident)
                .where(Incident.instance_id == instance_id, Incident.status == "open")
                .order_by(Incident.id)
            )
        )

    def task_data(self, row: HumanTask) -> dict[str, Any]:
        instance = row.instance
        workflow = self._load(instance)
        task = workflow.get_task_from_id(_uuid(row.id))
        return dict(task.data) if task is not None else {}


def _valid_id(value: object) -> bool:
    """An integer primary key the database can hold (PostgreSQL integer is 32-bit)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31


def _uuid(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError as err:
        raise NotFoundError(f"task {value} not found") from err


__all__ = [
    "Actor",
    "ConflictError",
    "EngineError",
    "ForbiddenError",
    "FormValidationError",
    "MessageResult",
    "NotFoundError",
    "SYSTEM",
    "WorkflowEngine",
    "WorkflowException",
]
