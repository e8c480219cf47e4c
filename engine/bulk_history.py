"""Finished instances in bulk, for data-volume work (issue 16: `certflow generate`).

A *history template* is read from one real finished instance (`history_template`): its human
tasks in order, its event log (types, actors, element ids, submitted data, times relative to the
start) and its diagram marks. `insert_finished_histories` writes copies of it for other business
keys and start times with set-based INSERTs: the process_instance row (completed, its state
already pruned to the marks as `engine.pruning` leaves a finished instance), one human_task row
per task (completed) and the event-log rows — the rows the engine writes when it runs the case,
without running it (tests/platform/test_generated_history.py compares them).
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from certflow.bulk import insert_returning_ids, insert_rows
from engine.diagram_state import diagram_marks
from engine.errors import NotFoundError
from engine.models import EventLog, HumanTask, ProcessInstance
from engine.pruning import PRUNED_SERIALIZER, compact_state, is_pruned, pruned_marks

TASK_COLUMNS = ("element_id", "name", "lane", "candidate_role", "form_file")


def _seconds(moment: datetime | None, start: datetime) -> float | None:
    return None if moment is None else (moment - start).total_seconds()


def _at(start: datetime, seconds: float | None) -> datetime | None:
    return None if seconds is None else start + timedelta(seconds=seconds)


@dataclass(frozen=True)
class FinishedHistory:
    """One copy of the template: its business key, start, who played the client and how the
    client's answers differ (top-level keys of the submitted data replaced)."""

    business_key: str
    started_at: datetime
    client: str
    answers: dict[str, Any] = field(default_factory=dict)


class BulkHistory:
    """An engine part (engine/service.py): read a template, write finished histories."""

    def history_template(self, instance_id: int) -> dict[str, Any]:
        """The JSON-ready template of a finished instance (see the module doc)."""
        session = self.session
        instance = session.get(ProcessInstance, instance_id)
        if instance is None or instance.status != "completed":
            raise NotFoundError(f"no completed process instance {instance_id}")
        start = instance.started_at
        events = session.scalars(
            select(EventLog).where(EventLog.instance_id == instance_id).order_by(EventLog.id)
        ).all()
        # The tasks in the order the event log first names them (their creation order).
        order = list(dict.fromkeys(e.task_id for e in events if e.task_id is not None))
        by_id = {
            task.id: task
            for task in session.scalars(
                select(HumanTask).where(HumanTask.instance_id == instance_id)
            )
        }
        tasks = [by_id[task_id] for task_id in order if task_id in by_id]
        index = {task.id: number for number, task in enumerate(tasks)}
        marks = (
            pruned_marks(instance)
            if is_pruned(instance)
            else diagram_marks(self._load(instance), [])
        )
        return {
            "process_id": instance.process_id,
            "started_by_client": instance.started_by,
            "ended_after": _seconds(instance.ended_at, start),
            "marks": marks,
            "tasks": [
                {
                    **{name: getattr(task, name) for name in TASK_COLUMNS},
                    "created": _seconds(task.created_at, start),
                    "due": _seconds(task.due_at, start),
                    "completed": _seconds(task.completed_at, start),
                    "completed_by": task.completed_by,
                }
                for task in tasks
            ],
            "events": [
                {
                    "event_type": event.event_type,
                    "actor": event.actor,
                    "at": _seconds(event.at, start),
                    "task": index.get(event.task_id),
                    "element_id": event.element_id,
                    "data": event.data,
                }
                for event in events
                if event.event_type != "instance_pruned"
            ],
        }

    def insert_finished_histories(
        self, template: dict[str, Any], histories: list[FinishedHistory]
    ) -> list[int]:
        """Write one finished instance per history in the caller's transaction (not committed);
        their ids, in order. The instance runs the process's latest deployed version."""
        session = self.session
        version = self.latest_version(template["process_id"])
        state = compact_state(template["marks"])
        rows = [
            {
                "process_version_id": version.id,
                "process_id": template["process_id"],
                "business_key": history.business_key,
                "status": "completed",
                "state_json": state,
                "serializer_version": PRUNED_SERIALIZER,
                "lock_version": 1,
                "next_timer_at": None,
                "active_elements": [],
                "started_by": history.client,
                "started_at": history.started_at,
                "updated_at": _at(history.started_at, template["ended_after"]),
                "ended_at": _at(history.started_at, template["ended_after"]),
            }
            for history in histories
        ]
        ids = insert_returning_ids(session, ProcessInstance.__table__, rows)
        task_rows, event_rows = [], []
        client_of = template["started_by_client"]
        for instance_id, history in zip(ids, histories, strict=True):
            actor = _actor_map(client_of, history.client)
            task_ids = [str(uuid.uuid4()) for _ in template["tasks"]]
            for task_id, task in zip(task_ids, template["tasks"], strict=True):
                task_rows.append(
                    {
                        "id": task_id,
                        "instance_id": instance_id,
                        "process_id": template["process_id"],
                        "business_key": history.business_key,
                        **{name: task[name] for name in TASK_COLUMNS},
                        "assignee": None,
                        "state": "completed",
                        "created_at": _at(history.started_at, task["created"]),
                        "due_at": _at(history.started_at, task["due"]),
                        "follow_up_at": None,
                        "completed_by": actor(task["completed_by"]),
                        "completed_at": _at(history.started_at, task["completed"]),
                    }
                )
            for event in template["events"]:
                data = event["data"]
                if event["event_type"] == "task_completed" and event["actor"] == client_of:
                    data = {**data, "data": {**data.get("data", {}), **_answers(data, history)}}
                event_rows.append(
                    {
                        "at": _at(history.started_at, event["at"]),
                        "actor": actor(event["actor"]),
                        "event_type": event["event_type"],
                        "instance_id": instance_id,
                        "task_id": None if event["task"] is None else task_ids[event["task"]],
                        "element_id": event["element_id"],
                        "data": data,
                    }
                )
        insert_rows(session, HumanTask.__table__, task_rows)
        insert_rows(session, EventLog.__table__, event_rows)
        return ids


def _actor_map(template_client: str, client: str) -> Callable[[str | None], str | None]:
    return lambda who: client if who == template_client else who


def _answers(data: dict[str, Any], history: FinishedHistory) -> dict[str, Any]:
    """The history's own answers for the keys the template's client answered."""
    submitted = data.get("data", {})
    return {key: value for key, value in history.answers.items() if key in submitted}
