"""The engine's core, shared by its parts: the session and the one transaction of an operation
(conflicts become ConflictError), the event log, loading an instance's workflow, the operation
scope handlers run in, and the hooks.

Every public operation is one database transaction: workflow state, the human-task index, message
subscriptions, incidents, the event log and the handlers' domain writes commit together or not at
all. Instances carry an optimistic lock (`lock_version`), so two concurrent operations on the same
instance cannot both commit; the loser gets ConflictError.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from jsonschema import FormatChecker
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.mixins.manual_task import ManualTask
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.exceptions import SpiffWorkflowException
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.exc import StaleDataError

from certflow.clock import Clock
from certflow.db import is_conflict
from engine import timers
from engine.actors import Actor
from engine.errors import ConflictError, NotFoundError, root_cause
from engine.hooks import EngineEvent, Hooks
from engine.models import EventLog, HumanTask, ProcessInstance, ProcessVersion
from engine.records import record_event
from engine.registry import HandlerRegistry
from engine.script_limits import ScriptLimits
from engine.scripting import CertflowScriptEngine, OperationScope, operation_scope
from engine.serialization import WorkflowSerializer
from engine.workflow_cache import WorkflowCache

TIMER_EVENT_TYPES = frozenset(
    {"TimeDateEventDefinition", "DurationTimerEventDefinition", "CycleTimerEventDefinition"}
)
MESSAGE_EVENT_TYPE = "MessageEventDefinition"
# session.info key: instance id → the message names it is subscribed to in the database, as read
# or written by this operation (issue 16: the subscription sync then needs no read of its own).
# Only the engine writes subscriptions, and only through InstanceRun._sync_subscriptions; the
# map lives for one operation's transaction.
KNOWN_SUBSCRIPTIONS = "engine.known_subscriptions"
# session.info key: instance id → (state text written, workflow) of each workflow this operation
# saved, kept by the engine's WorkflowCache once the transaction commits (issue 16).
SAVED_WORKFLOWS = "engine.saved_workflows"
# session.info key: ids of the instances this operation found no undelivered queued message for
# (read with the task a completion completes); a message queued by the operation itself clears
# it. Lives for one operation's transaction.
NOTHING_QUEUED = "engine.nothing_queued"
_OPERATION_KEYS = (KNOWN_SUBSCRIPTIONS, SAVED_WORKFLOWS, NOTHING_QUEUED)


@dataclass
class Run:
    """Bookkeeping of one operation on one instance."""

    instance: ProcessInstance
    workflow: BpmnWorkflow
    actor: Actor
    now: datetime
    completed_task_id: str | None = None
    # The instance's open human tasks as read at the start of the operation (complete_task
    # reads them with the task: the task-index sync then needs no query of its own, issue 16).
    open_rows: dict[str, Any] | None = None
    events: list[EventLog] = field(default_factory=list)
    incident_raised: bool = False  # an incident was opened or raised again in this operation


def is_human_task(task) -> bool:
    return isinstance(task.task_spec, UserTask | ManualTask)


class EngineCore:
    """State and helpers every part of the engine uses; `WorkflowEngine` combines the parts."""

    def __init__(
        self,
        session_factory: Callable[[], Session],
        clock: Clock,
        registry: HandlerRegistry,
        *,
        hooks: Hooks | None = None,
        format_checker: Callable[[], FormatChecker] = FormatChecker,
        settings: Callable[[], Any] = lambda: None,
        script_limits: ScriptLimits | None = None,
        workflow_cache: WorkflowCache | None = None,
    ) -> None:
        self._session_factory = session_factory
        self.clock = clock
        self.registry = registry
        self.hooks = hooks if hooks is not None else Hooks()
        self._format_checker = format_checker
        self._settings = settings  # the current settings object, handed to every handler
        self.serializer = WorkflowSerializer()
        self.script_engine = CertflowScriptEngine(registry, script_limits)
        self._form_cache: dict[tuple[str, str], dict] = {}
        self.workflows = workflow_cache if workflow_cache is not None else WorkflowCache(0)

    @property
    def session(self) -> Session:
        return self._session_factory()

    def _is_postgresql(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    # -- transactions --------------------------------------------------------------------------
    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        session = self.session
        for key in _OPERATION_KEYS:
            session.info.pop(key, None)
        try:
            yield session
            session.commit()
            self.workflows.keep(session.info.pop(SAVED_WORKFLOWS, {}))
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
        finally:
            for key in _OPERATION_KEYS:  # (rolled back: no saved workflow is kept)
                session.info.pop(key, None)

    def _log(self, session: Session, event_type: str, actor: Actor, now: datetime, **kw) -> None:
        record_event(session, event_type, actor=actor.username, at=now, **kw)

    def _emit(self, event: EngineEvent) -> None:
        """Call the hooks registered for the event, inside the operation's transaction."""
        self.hooks.emit(event)

    def _spec(self, version: ProcessVersion):
        # spec_json is a deferred column: read it only when this process has not restored the
        # spec yet (issue 16: one round trip less per operation).
        return self.serializer.load_spec_lazily(
            f"{version.process_id}:{version.sha256}", lambda: version.spec_json
        )

    def _load(self, instance: ProcessInstance) -> BpmnWorkflow:
        spec, subprocess_specs = self._spec(instance.process_version)
        workflow = self.serializer.load_workflow(instance.state_json, spec, subprocess_specs)
        workflow.script_engine = self.script_engine  # not serialized: attach after every load
        return workflow

    def _load_to_change(self, instance: ProcessInstance) -> BpmnWorkflow:
        """The workflow of an instance this operation changes and saves: the one this process
        kept from saving that very state, else restored (engine/workflow_cache.py)."""
        return self.workflows.take(instance.id, instance.state_json, lambda: self._load(instance))

    def _get_instance(self, instance_id: int) -> ProcessInstance:
        # No row lock: the optimistic lock_version decides between concurrent operations.
        # Its version comes in the same query: every operation needs it (spec, forms).
        instance = (
            self.session.get(
                ProcessInstance,
                instance_id,
                options=[joinedload(ProcessInstance.process_version)],
            )
            if valid_id(instance_id)
            else None
        )
        if instance is None:
            raise NotFoundError(f"process instance {instance_id} not found")
        return instance

    @contextmanager
    def _scope(self, run: Run) -> Iterator[None]:
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
            settings=self._settings(),
        )
        with timers.operation_time(run.now), operation_scope(scope):
            yield


def valid_id(value: object) -> bool:
    """An integer primary key the database can hold (PostgreSQL integer is 32-bit)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31


def task_uuid(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError as err:
        raise NotFoundError(f"task {value} not found") from err
