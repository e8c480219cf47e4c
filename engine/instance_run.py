"""Instance run and save: start an instance, run engine steps (failures become incidents),
then save the state with its timer, subscriptions and human-task index in the same transaction."""

from datetime import datetime
from functools import cache
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.simple import TerminateEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Select, Update, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from certflow.roles import role_for_lane
from certflow.timer_wakeup import notify_sweepers
from engine import timers
from engine.actors import Actor
from engine.core import (
    KNOWN_SUBSCRIPTIONS,
    MESSAGE_EVENT_TYPE,
    SAVED_WORKFLOWS,
    TIMER_EVENT_TYPES,
    EngineCore,
    Run,
)
from engine.errors import ForbiddenError
from engine.finished_subprocesses import remove_finished_subprocesses
from engine.hooks import InstanceStarted
from engine.models import Incident, MessageSubscription, ProcessInstance, ProcessVersion

_SUBSCRIPTION_INSERT = insert(MessageSubscription.__table__)


def write_instance(session: Session, instance: ProcessInstance, values: dict[str, Any]) -> None:
    """Write the saved columns to the instance's row with one Core UPDATE that checks and bumps
    its optimistic lock, then record them as the ORM object's committed state (issue 16: the
    ORM's unit of work cost more than the statement). Another operation that committed first
    leaves no row to update: StaleDataError, a 409 as from the ORM's own check."""
    lock = instance.lock_version
    result = session.connection().execute(
        _instance_save_statement(),
        {"instance_id": instance.id, "lock": lock, "new_lock": lock + 1}
        | {f"new_{key}": value for key, value in values.items()},
    )
    if result.rowcount != 1:
        raise StaleDataError(f"process instance {instance.id} was changed concurrently")
    for key, value in values.items():
        set_committed_value(instance, key, value)
    set_committed_value(instance, "lock_version", lock + 1)


_SAVED_COLUMNS = (
    "state_json",
    "serializer_version",
    "next_timer_at",
    "active_elements",
    "updated_at",
    "status",
    "ended_at",
)


@cache
def _instance_save_statement() -> Update:
    table = ProcessInstance.__table__
    return (
        update(table)
        .where(table.c.id == bindparam("instance_id"), table.c.lock_version == bindparam("lock"))
        .values(
            lock_version=bindparam("new_lock"),
            **{name: bindparam(f"new_{name}") for name in _SAVED_COLUMNS},
        )
    )


@cache
def _subscribed_names_query() -> Select:
    """The message names an instance is subscribed to (built once, on first use: issue 16)."""
    return select(MessageSubscription.message_name).where(
        MessageSubscription.instance_id == bindparam("instance_id")
    )


class InstanceRun(EngineCore):
    """Starting, advancing and saving instances."""

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
    ) -> Run:
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
        self._emit(
            InstanceStarted(
                session=self.session,
                now=now,
                actor=actor.username,
                instance_id=instance.id,
                process_id=instance.process_id,
                business_key=instance.business_key,
                data=data,
            )
        )
        return Run(instance, workflow, actor, now)

    def _advance(self, run: Run) -> None:
        """Run engine steps; a failing task becomes an incident instead of losing the operation."""
        workflow = run.workflow
        try:
            workflow.do_engine_steps()
        except SpiffWorkflowException as err:
            self._record_incidents(run, err)
        self._route_thrown_messages(run)

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

    def _status(self, run: Run) -> str:
        session = self.session
        # Incidents are opened only by _record_incidents, within an operation that saves the
        # status: an instance that was not in error and raised none now has none open.
        if run.incident_raised or run.instance.status == "error":
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

    def _save(self, run: Run) -> None:
        session = self.session
        instance, workflow = run.instance, run.workflow
        remove_finished_subprocesses(workflow)  # fewer tasks to load and save (issue 16)
        next_timer, message_names = self._waiting(workflow)
        if next_timer is not None and next_timer != instance.next_timer_at:
            notify_sweepers(session, next_timer.isoformat())  # on commit (issue 16)
        status = self._status(run)
        saved = {
            "state_json": self.serializer.dump_workflow(workflow),
            "serializer_version": self.serializer.version,
            "next_timer_at": next_timer,
            "active_elements": sorted(
                {
                    t.task_spec.bpmn_id
                    for t in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING)
                    if t.task_spec.bpmn_id is not None  # control tasks have no BPMN element
                }
            ),
            "updated_at": run.now,
            "status": status,
        }
        ending = status in ("completed", "terminated") and instance.ended_at is None
        saved["ended_at"] = run.now if ending else instance.ended_at
        write_instance(session, instance, saved)
        if self.workflows.size:  # kept after the commit (engine/workflow_cache.py)
            saved_workflows = session.info.setdefault(SAVED_WORKFLOWS, {})
            saved_workflows[instance.id] = (saved["state_json"], workflow)
        if ending:  # (an instance entering `error` logs nothing here: its incident event says why)
            self._log(session, f"instance_{status}", run.actor, run.now, instance_id=instance.id)
        self._sync_subscriptions(instance, message_names)
        self._sync_human_tasks(run)

    def _sync_subscriptions(self, instance: ProcessInstance, names: set[str]) -> None:
        session = self.session
        known = session.info.setdefault(KNOWN_SUBSCRIPTIONS, {})
        current = known.get(instance.id)
        if current is None:
            current = set(session.scalars(_subscribed_names_query(), {"instance_id": instance.id}))
        known[instance.id] = set(names)
        if current == names:
            return
        if current - names:
            session.execute(
                delete(MessageSubscription).where(
                    MessageSubscription.instance_id == instance.id,
                    MessageSubscription.message_name.in_(current - names),
                )
            )
        if names - current:
            session.connection().execute(
                _SUBSCRIPTION_INSERT,
                [{"instance_id": instance.id, "message_name": name} for name in names - current],
            )

    def _finish(self, run: Run) -> None:
        """Deliver queued messages the instance now waits for, then save."""
        for _ in range(20):  # bounded: each delivery may make the instance wait for another
            _, waiting_names = self._waiting(run.workflow)
            queued = self._queued_for(run.instance, waiting_names)
            if queued is None:
                break
            self._deliver(run, queued.name, queued.payload)
            self._mark_delivered(queued.id, run.instance.id, run.now)
        self._save(run)
