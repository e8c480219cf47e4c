"""Incident repair: when a service task (script, gateway) fails on the case's data, staff either
correct the data the failing step reads and run it again, or send the case back to the user task
whose answer must change. Each is one transaction under the instance's optimistic lock (of two
concurrent repairs one wins, the other gets 409) and is written to the event log with who, the
values before and after, or the task the case went back to.

What may be corrected is an allowlist: the variables the failing step reads (its service-task
parameters, script or conditions), each keeping its JSON type, checked against the form that
asked for it (its JSON Schema property and its declared form checks)."""

import ast
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import defer, joinedload

from engine.actors import Actor
from engine.core import Run, task_uuid, valid_id
from engine.errors import ConflictError, FormValidationError, NotFoundError
from engine.form_checks import declared_checks
from engine.forms import validate_form_data
from engine.hooks import TaskSentBack
from engine.incidents import Incidents
from engine.models import EventLog, HumanTask, Incident, ProcessInstance
from engine.registry import GuardContext

JSON_TYPES = {bool: "boolean", int: "number", float: "number", str: "string", list: "array"}


@dataclass(frozen=True)
class SendBackTarget:
    task_id: str
    element_id: str
    name: str
    completed_by: str | None


@dataclass(frozen=True)
class RepairView:
    """What the repair page shows: the incident, the variables its step reads with their
    values, the user tasks the case can go back to, and the lock to send back."""

    incident: Incident
    step_name: str
    variables: dict[str, Any]
    labels: dict[str, str]  # variable → the title of the form field that asked for it
    targets: list[SendBackTarget]
    lock_version: int


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "object"
    return JSON_TYPES.get(type(value), type(value).__name__)


def names_read(source: str) -> set[str]:
    """The variable names a Python expression or script reads."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def step_sources(spec) -> list[str]:
    """The expressions and scripts a task spec evaluates on the task data."""
    params = getattr(spec, "operation_params", None) or {}
    sources = [param.get("value", "") for param in params.values()]
    sources.append(getattr(spec, "script", None) or "")
    for condition, _ in getattr(spec, "cond_task_specs", []) or []:
        sources.append(condition or "")
    return [source for source in sources if isinstance(source, str) and source]


class Repair(Incidents):
    """Correct-and-retry and send-back of an open incident."""

    def repair_view(self, incident_id: int) -> RepairView:
        incident, instance = self._open_incident(incident_id)
        workflow = self._load(instance)
        task = workflow.get_task_from_id(task_uuid(incident.task_id))
        variables = self._variables(task)
        labels: dict[str, str] = {}
        for schema in self._completed_forms(instance):
            for name, prop in (schema.get("properties") or {}).items():
                if name in variables and isinstance(prop, dict) and prop.get("title"):
                    labels.setdefault(name, str(prop["title"]))
        return RepairView(
            incident=incident,
            step_name=self.step_names(instance.id).get(incident.element_id, incident.element_id),
            variables=variables,
            labels=labels,
            targets=self._targets(instance, workflow, task),
            lock_version=instance.lock_version,
        )

    def step_names(self, instance_id: int) -> dict[str, str]:
        """{element id: its name in the diagram} of the instance's process and called ones."""
        # Its version only: not the stored workflow state (a stopped case's is the whole running
        # workflow; the inbox lists the blocked cases a user worked on — issue 16).
        instance = (
            self.session.get(
                ProcessInstance,
                instance_id,
                options=[
                    joinedload(ProcessInstance.process_version),
                    defer(ProcessInstance.state_json),
                ],
            )
            if valid_id(instance_id)
            else None
        )
        if instance is None:
            raise NotFoundError(f"process instance {instance_id} not found")
        spec, subprocess_specs = self._spec(instance.process_version)
        names: dict[str, str] = {}
        for process in (spec, *subprocess_specs.values()):
            for name, task_spec in process.task_specs.items():
                names.setdefault(name, getattr(task_spec, "bpmn_name", None) or name)
        return names

    def correct_and_retry(
        self,
        incident_id: int,
        *,
        actor: Actor,
        changes: dict[str, Any],
        lock_version: int | None = None,
    ) -> Incident:
        """Replace variables the failing step reads (validated), log before/after, run again."""
        with self._transaction() as session:
            now = self.clock.now()
            incident, instance = self._open_incident(incident_id, lock_version)
            workflow = self._load(instance)
            task = workflow.get_task_from_id(task_uuid(incident.task_id))
            current = self._variables(task)
            errors = {
                name: ["this step does not read that value"]
                for name in changes
                if name not in current
            }
            for name, value in changes.items():
                before = current.get(name)
                if before is not None and json_type(value) != json_type(before):
                    errors.setdefault(name, []).append(
                        f"must stay of type {json_type(before)}, got {json_type(value)}"
                    )
            if errors:
                raise FormValidationError(errors)
            changed = {name: v for name, v in changes.items() if current[name] != v}
            self._check_against_forms(instance, task, changed, actor, now)
            run = Run(instance, workflow, actor, now)
            self._log(
                session,
                "incident_data_corrected",
                actor,
                now,
                instance_id=instance.id,
                task_id=incident.task_id,
                element_id=incident.element_id,
                data={
                    "incident_id": incident.id,
                    "changes": {
                        name: {"before": current[name], "after": value}
                        for name, value in changed.items()
                    },
                },
            )
            with self._scope(run):
                self._run_again(run, incident, changed)
                self._finish(run)
        return incident

    def send_back(
        self, incident_id: int, *, actor: Actor, task_id: str, lock_version: int | None = None
    ) -> HumanTask:
        """Reset the workflow to the completed user task `task_id` (SpiffWorkflow's
        reset_from_task_id): it opens again for whoever completed it, with those answers kept
        as their draft (the TaskSentBack hook); the incident is closed as sent back."""
        with self._transaction() as session:
            now = self.clock.now()
            incident, instance = self._open_incident(incident_id, lock_version)
            workflow = self._load(instance)
            failing = workflow.get_task_from_id(task_uuid(incident.task_id))
            target = next(
                (t for t in self._targets(instance, workflow, failing) if t.task_id == task_id),
                None,
            )
            if target is None:
                raise NotFoundError(f"task {task_id} is not a step the case can go back to")
            previous = self._last_answers(instance.id, task_id)
            run = Run(instance, workflow, actor, now)
            with self._scope(run):
                workflow.reset_from_task_id(task_uuid(task_id))
                for open_incident in self.open_incidents(instance.id):
                    if _find(workflow, open_incident.task_id) is None:
                        self._resolve(
                            run,
                            open_incident,
                            "incident_sent_back",
                            sent_back_to=target.element_id,
                            task_id=task_id,
                        )
                self._log(
                    session,
                    "task_sent_back",
                    actor,
                    now,
                    instance_id=instance.id,
                    task_id=task_id,
                    element_id=target.element_id,
                    data={
                        "incident_id": incident.id,
                        "failed_element": incident.element_id,
                        "reason": incident.message,
                        "assignee": target.completed_by,
                        "previous_data": previous,
                    },
                )
                self._advance(run)
                self._finish(run)
            row = session.get(HumanTask, task_id)
            if row is not None and row.state == "open" and target.completed_by:
                row.assignee = target.completed_by
            self._emit(
                TaskSentBack(
                    session=session,
                    now=now,
                    actor=actor.username,
                    instance_id=instance.id,
                    process_id=instance.process_id,
                    business_key=instance.business_key,
                    task_id=task_id,
                    element_id=target.element_id,
                    assignee=target.completed_by,
                    previous_data=previous,
                )
            )
        return row

    # -- helpers -------------------------------------------------------------------------------
    def _open_incident(
        self, incident_id: int, lock_version: int | None = None
    ) -> tuple[Incident, ProcessInstance]:
        incident = self.session.get(Incident, incident_id) if valid_id(incident_id) else None
        if incident is None:
            raise NotFoundError(f"incident {incident_id} not found")
        if incident.status != "open":
            raise ConflictError(f"incident {incident_id} is already {incident.status}")
        instance = self._get_instance(incident.instance_id)
        if lock_version is not None and instance.lock_version != lock_version:
            raise ConflictError(
                "the case was changed by someone else since the page was loaded; reload it"
            )
        return incident, instance

    @staticmethod
    def _variables(task) -> dict[str, Any]:
        if task is None:
            return {}
        names: set[str] = set()
        for source in step_sources(task.task_spec):
            names |= names_read(source)
        return {name: task.data[name] for name in sorted(names) if name in task.data}

    def _targets(self, instance: ProcessInstance, workflow, failing) -> list[SendBackTarget]:
        """Completed user tasks the failing step comes after, the latest first."""
        if failing is None:
            return []
        chain = [failing]
        while chain[-1].workflow.parent_task_id is not None:
            chain.append(workflow.get_task_from_id(chain[-1].workflow.parent_task_id))
        rows = self.session.scalars(
            select(HumanTask)
            .where(HumanTask.instance_id == instance.id, HumanTask.state == "completed")
            .order_by(HumanTask.completed_at.desc(), HumanTask.created_at.desc())
        )
        targets = []
        for row in rows:
            task = _find(workflow, row.id)
            if task is None or task.state != TaskState.COMPLETED:
                continue
            if any(step is task or step.is_descendant_of(task) for step in chain):
                targets.append(SendBackTarget(row.id, row.element_id, row.name, row.completed_by))
        return targets

    def _last_answers(self, instance_id: int, task_id: str) -> dict[str, Any]:
        event = self.session.scalars(
            select(EventLog)
            .where(
                EventLog.instance_id == instance_id,
                EventLog.task_id == task_id,
                EventLog.event_type == "task_completed",
            )
            .order_by(EventLog.id.desc())
        ).first()
        return dict((event.data or {}).get("data") or {}) if event is not None else {}

    def _completed_forms(self, instance: ProcessInstance) -> list[dict[str, Any]]:
        """The JSON Schemas of the instance's completed user tasks (the latest first)."""
        files = self.session.scalars(
            select(HumanTask.form_file)
            .where(
                HumanTask.instance_id == instance.id,
                HumanTask.state == "completed",
                HumanTask.form_file.is_not(None),
            )
            .order_by(HumanTask.completed_at.desc())
        ).all()
        unique = list(dict.fromkeys(f for f in files if f))
        return [self.form_schema(instance.process_version_id, f) for f in unique]

    def _check_against_forms(
        self, instance: ProcessInstance, task, changed: dict[str, Any], actor: Actor, now
    ) -> None:
        """A corrected value obeys the form that asked for it: its JSON Schema property and the
        form's declared checks (the same rules as at submit)."""
        if not changed:
            return
        errors: dict[str, list[str]] = {}
        for schema in self._completed_forms(instance):
            properties = schema.get("properties") or {}
            asked = {name: v for name, v in changed.items() if name in properties}
            if not asked:
                continue
            part = {**schema, "required": [], "properties": {n: properties[n] for n in asked}}
            part.pop("x-checks", None)
            for key in ("if", "then", "else", "allOf", "anyOf", "oneOf"):
                part.pop(key, None)
            for field, messages in validate_form_data(part, asked, self._format_checker()).items():
                errors.setdefault(field, []).extend(messages)
            ctx = GuardContext(
                session=self.session,
                now=now,
                instance_id=instance.id,
                business_key=instance.business_key,
                element_id=task.task_spec.name,
                actor=actor.username,
                actor_roles=actor.roles,
                data={**task.data, **changed},
                settings=self._settings(),
            )
            for name in declared_checks(schema):
                check = self.registry.form_check(name)
                if check is not None:
                    for field, messages in check(ctx).items():
                        errors.setdefault(field, []).extend(messages)
        if errors:
            raise FormValidationError(errors)


def _find(workflow, task_id: str):
    """The task, or None when the workflow no longer has it (e.g. removed by a reset)."""
    try:
        return workflow.get_task_from_id(task_uuid(task_id))
    except TaskNotFoundException:
        return None
