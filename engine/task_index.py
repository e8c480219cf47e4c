"""The human-task index: one `HumanTask` row per ready user/manual task, kept in step with the
workflow state on every save (created, completed, cancelled; due and follow-up dates)."""

from datetime import datetime
from functools import cache

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Insert, Update, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from certflow.roles import role_for_lane
from engine import timers
from engine.core import EngineCore, Run, is_human_task
from engine.definitions import form_path
from engine.models import HumanTask
from engine.records import record_events


@cache
def _close_tasks_statement() -> Update:
    table = HumanTask.__table__
    return (
        update(table)
        .where(table.c.id == bindparam("task_id"))
        .values(
            state=bindparam("new_state"),
            completed_by=bindparam("new_completed_by"),
            completed_at=bindparam("new_completed_at"),
        )
    )


@cache
def _open_tasks_statement(on_postgresql: bool) -> Insert:
    table = HumanTask.__table__
    statement = (postgresql if on_postgresql else sqlite).insert(table)
    return statement.on_conflict_do_update(
        index_elements=[table.c.id],
        set_={c.name: statement.excluded[c.name] for c in table.c if c.name != "id"},
    )


def _event(run: Run, kind: str, instance_id: int, task_id: str, element_id: str, data) -> dict:
    return {
        "at": run.now,
        "actor": run.actor.username,
        "event_type": kind,
        "instance_id": instance_id,
        "task_id": task_id,
        "element_id": element_id,
        "data": data,
    }


class TaskIndex(EngineCore):
    """Keeps the human_task rows in step with the workflow."""

    def _sync_human_tasks(self, run: Run) -> None:
        """Close the rows of tasks no longer ready, add rows for newly ready ones: Core
        statements, one per kind of change, not the ORM's unit of work (issue 16)."""
        session = self.session
        instance, workflow = run.instance, run.workflow
        ready = {
            str(t.id): t
            for t in workflow.get_tasks(state=TaskState.READY, manual=True)
            if is_human_task(t)
        }
        open_rows = run.open_rows
        if open_rows is None:
            query = select(HumanTask).where(
                HumanTask.instance_id == instance.id, HumanTask.state == "open"
            )
            open_rows = {row.id: row for row in session.scalars(query)}
        closed: list[tuple[HumanTask, dict]] = []
        events: list[dict] = []  # written together, after the rows they name
        for task_id, row in open_rows.items():
            if task_id in ready:
                continue
            completed = task_id == run.completed_task_id
            closed.append(
                (
                    row,
                    {
                        "state": "completed" if completed else "cancelled",
                        "completed_by": run.actor.username if completed else row.completed_by,
                        "completed_at": run.now,
                    },
                )
            )
            if not completed:
                events.append(
                    _event(run, "task_cancelled", instance.id, task_id, row.element_id, None)
                )
        if closed:
            session.connection().execute(
                _close_tasks_statement(),
                [
                    {"task_id": row.id, **{f"new_{k}": v for k, v in change.items()}}
                    for row, change in closed
                ],
            )
            for row, change in closed:
                for key, value in change.items():
                    set_committed_value(row, key, value)
        spec_files = instance.process_version.spec_files
        created = []
        for task_id, task in ready.items():
            if task_id in open_rows:
                continue
            properties = task.task_spec.extensions.get("properties", {})
            form_ref = properties.get("formJsonSchemaFilename")
            spec_file = spec_files.get(task.workflow.spec.name, "")
            created.append(
                {
                    "id": task_id,
                    "instance_id": instance.id,
                    "process_id": instance.process_id,
                    "business_key": instance.business_key,
                    "element_id": task.task_spec.name,
                    "name": task.task_spec.bpmn_name or task.task_spec.name,
                    "lane": task.task_spec.lane,
                    "candidate_role": role_for_lane(task.task_spec.lane),
                    "assignee": None,
                    "state": "open",
                    "form_file": form_path(spec_file, form_ref) if form_ref else None,
                    "created_at": run.now,
                    "due_at": self._due_at(task, run.now),
                    "follow_up_at": self._follow_up_at(task, run.now),
                    "completed_by": None,
                    "completed_at": None,
                }
            )
        if created:
            # A task made ready again (e.g. repair's "send back") keeps its UUID: its row is
            # rewritten as open, hence an upsert.
            session.connection().execute(_open_tasks_statement(self._is_postgresql()), created)
        for values in created:
            known = session.identity_map.get(identity_key(HumanTask, values["id"]))
            if known is not None:
                session.expire(known)
            events.append(
                _event(
                    run,
                    "task_created",
                    instance.id,
                    values["id"],
                    values["element_id"],
                    {"candidate_role": values["candidate_role"]},
                )
            )
        record_events(session, events)

    def _due_at(self, task, now: datetime) -> datetime | None:
        """Due date: the `dueAt` property (a task-data path to an ISO instant, e.g. a deadline a
        handler computed), else the `dueIn` property (ISO duration) or the earliest boundary
        timer. `dueAt` is the deadline itself, so a reminder timer does not make it overdue."""
        properties = task.task_spec.extensions.get("properties", {})
        if properties.get("dueAt"):
            return _instant_at_path(task.data, properties["dueAt"])
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


def _instant_at_path(data: dict, path: str) -> datetime | None:
    """The aware instant at a dotted task-data path, or None when it is missing or not one."""
    value: object = data
    for key in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
