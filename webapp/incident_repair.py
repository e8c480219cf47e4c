"""Incident repair pages (`/instances/<id>/incidents/<incident>/repair`): staff with the retry
roles of the permission table correct the values the failing step reads and run it again, or
send the case back to the user task whose answer must change. engine/repair.py does both, each
in one transaction under the optimistic lock (the page carries the lock it was drawn with: a
stale page gets 409). The sent-back task keeps its previous answers as the assignee's draft
(`keep_answers_as_draft`, an engine hook run in the same transaction)."""

import json
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from engine.errors import EngineError, FormValidationError
from engine.hooks import Hooks, TaskSentBack
from webapp.auth import current_viewer, deny, log_access
from webapp.blocked import incident_reason
from webapp.models import TaskDraft
from webapp.runtime import get_engine

bp = Blueprint("incident_repair", __name__)
FIELD = "v/"  # inputs are named v/<variable>


def keep_answers_as_draft(event: TaskSentBack) -> None:
    """The answers the task was completed with become its assignee's draft."""
    if not event.assignee:
        return
    draft = event.session.get(TaskDraft, (event.task_id, event.assignee))
    if draft is None:
        draft = TaskDraft(task_id=event.task_id, username=event.assignee)
        event.session.add(draft)
    draft.data = dict(event.previous_data)
    draft.saved_at = event.now


def register_repair_hooks(hooks: Hooks) -> None:
    hooks.on(TaskSentBack)(keep_answers_as_draft)


def shown_value(value: Any) -> str:
    """Text in the input: a string as it is, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=2)


def parse_changes(
    current: dict[str, Any], form: Any
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The changed values (a string stays a string; other types are read as JSON)."""
    changes: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, before in current.items():
        raw = form.get(FIELD + name)
        if raw is None or raw == shown_value(before):
            continue
        if isinstance(before, str):
            changes[name] = raw
            continue
        try:
            changes[name] = json.loads(raw)
        except ValueError:
            errors[name] = [_("Enter a valid value (JSON).")]
    return changes, errors


def _allowed(instance_id: int, incident_id: int):
    from webapp.instances import visible_instance

    instance, refused = visible_instance(instance_id)
    if instance is None:
        return None, refused
    if not current_viewer().may_retry_incidents:
        return None, deny(403, "repairing an incident needs a role that may retry incidents")
    if incident_id not in {i.id for i in get_engine().open_incidents(instance.id)}:
        return None, deny(404, f"incident {incident_id} is not open in instance {instance.id}")
    return instance, None


def _page(instance, incident_id: int, *, values=None, errors=None, alert=None, status=200):
    view = get_engine().repair_view(incident_id)
    values = values or {name: shown_value(v) for name, v in view.variables.items()}
    return (
        render_template(
            "instances/repair.html",
            instance=instance,
            view=view,
            reason=incident_reason(view.incident, view.step_name),
            values=values,
            errors=errors or {},
            alert=alert,
        ),
        status,
    )


@bp.get("/instances/<int:instance_id>/incidents/<int:incident_id>/repair")
@login_required
def show(instance_id: int, incident_id: int):
    instance, refused = _allowed(instance_id, incident_id)
    if instance is None:
        return refused
    return _page(instance, incident_id)


@bp.post("/instances/<int:instance_id>/incidents/<int:incident_id>/correct")
@login_required
def correct(instance_id: int, incident_id: int):
    instance, refused = _allowed(instance_id, incident_id)
    if instance is None:
        return refused
    engine = get_engine()
    current = engine.repair_view(incident_id).variables
    values = {name: request.form.get(FIELD + name, "") for name in current}
    changes, errors = parse_changes(current, request.form)
    if errors:
        return _page(instance, incident_id, values=values, errors=errors, status=422)
    try:
        incident = engine.correct_and_retry(
            incident_id,
            actor=current_viewer().actor,
            changes=changes,
            lock_version=request.form.get("lock_version", type=int),
        )
    except FormValidationError as err:
        return _page(instance, incident_id, values=values, errors=err.errors, status=422)
    except EngineError as err:
        return _failed(instance, incident_id, err, values)
    if incident.status == "resolved":
        flash(_("The data is corrected and the step ran; the process goes on."), "success")
    else:
        flash(_("The data is corrected but the step still fails."), "error")
    return redirect(url_for("instances.show", instance_id=instance.id) + "#incidents")


@bp.post("/instances/<int:instance_id>/incidents/<int:incident_id>/send-back")
@login_required
def send_back(instance_id: int, incident_id: int):
    instance, refused = _allowed(instance_id, incident_id)
    if instance is None:
        return refused
    try:
        row = get_engine().send_back(
            incident_id,
            actor=current_viewer().actor,
            task_id=request.form.get("task_id", ""),
            lock_version=request.form.get("lock_version", type=int),
        )
    except EngineError as err:
        return _failed(instance, incident_id, err, None)
    flash(_("The case went back to “%(task)s”.", task=row.name), "success")
    return redirect(url_for("instances.show", instance_id=instance.id))


def _failed(instance, incident_id: int, err: EngineError, values):
    if err.status in (403, 404):  # refused, or no such step to go back to: logged like a denial
        log_access("denied", status=err.status, detail=err.message)
    if err.status == 409:
        message = _("Someone else changed this case meanwhile. Reload the page and try again.")
    else:
        message = _("This did not work: %(reason)s", reason=err.message)
    return _page(instance, incident_id, values=values, alert=message, status=err.status)
