"""The JSON API's answers as JSON (their shapes: webapp/api/responses.py)."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from flask import g

from engine.service import IncidentView, InstanceView, ProcessView, TaskView
from webapp import client_data
from webapp.access import Viewer
from webapp.api.auth import current_user
from webapp.process_texts import ptext
from webapp.runtime import get_engine


# -- serialization --------------------------------------------------------------------------------
def timestamp(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with an explicit offset."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat()


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return timestamp(value) if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def jsonable(value: Any) -> Any:
    """Workflow data as plain JSON (task data may hold dates and other Python values)."""
    return json.loads(json.dumps(value, default=_json_default))


def incident_json(incident: IncidentView) -> dict[str, Any]:
    return {
        "id": incident.id,
        "instance_id": incident.instance_id,
        "task_id": incident.task_id,
        "element_id": incident.element_id,
        "error_type": incident.error_type,
        "message": incident.message,
        "attempts": incident.attempts,
        "status": incident.status,
        "created_at": timestamp(incident.created_at),
        "resolved_at": timestamp(incident.resolved_at),
        "resolved_by": incident.resolved_by,
    }


def instance_json(instance: InstanceView) -> dict[str, Any]:
    """The instance as the current user may see it: a client sees only the elements of its own
    tasks and no incidents (webapp.client_data, R-11)."""
    who = viewer()
    incidents = get_engine().open_incidents_of(instance) if who.is_staff else []
    return {
        "id": instance.id,
        "process_id": instance.process_id,
        "version": instance.process_version.version,
        "business_key": instance.business_key,
        "status": instance.status,
        "active_element_ids": client_data.visible_active_elements(instance, who),
        "next_timer_at": timestamp(instance.next_timer_at),
        "started_at": timestamp(instance.started_at),
        "started_by": instance.started_by,
        "ended_at": timestamp(instance.ended_at),
        "incidents": [incident_json(i) for i in incidents],
    }


def task_json(row: TaskView, now: datetime) -> dict[str, Any]:
    return {
        "id": row.id,
        "instance_id": row.instance_id,
        "process_id": row.process_id,
        "business_key": row.business_key,
        "element_id": row.element_id,
        "name": ptext(row.name),
        "lane": row.lane,
        "candidate_role": row.candidate_role,
        "assignee": row.assignee,
        "state": row.state,
        "form_file": row.form_file,
        "created_at": timestamp(row.created_at),
        "due_at": timestamp(row.due_at),
        "follow_up_at": timestamp(row.follow_up_at),
        "completed_by": row.completed_by,
        "completed_at": timestamp(row.completed_at),
        "overdue": row.state == "open" and row.due_at is not None and row.due_at < now,
    }


def process_json(version: ProcessView) -> dict[str, Any]:
    return {
        "process_id": version.process_id,
        "name": ptext(version.name),
        "version": version.version,
        "sha256": version.sha256,
        "deployed_at": timestamp(version.deployed_at),
        "deployed_by": version.deployed_by,
    }


# -- visibility: the rules of webapp/access.py, shared with the web pages (R-11) ------------------
def viewer() -> Viewer:
    # Once per request: after an operation's commit the user row is expired and reading it
    # again would cost a query (issue 16); who asks does not change within a request.
    if "api_viewer" not in g:
        g.api_viewer = Viewer.of(current_user())
    return g.api_viewer
