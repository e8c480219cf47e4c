"""The process instance page (`/instances/<id>`): the BPMN diagram (bpmn-js, vendored under
static/vendor/bpmn-js) with completed elements and active tasks highlighted, the open tasks, the
incidents with a retry button for admin and process_owner, and the event log.

* The deployed BPMN source of the instance's version is served from
  `/instances/<id>/diagram.bpmn` (`?process=<id>` for a called process of the same version).
* No inline script: the page hands the element ids to static/js/diagram.js in data-* attributes.
  bpmn-js sets inline styles, so this page (only) allows style-src 'unsafe-inline'.
* Visibility: webapp.access.may_see_case_instance; refusals are logged and answered 404.
"""

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from engine.errors import EngineError
from engine.service import InstanceView
from webapp.access import (
    instance_organisations,
    may_see_case,
    may_see_case_instance,
)
from webapp.auth import current_viewer, deny, log_access
from webapp.cases import event_rows, open_tasks, timeline, valid_id
from webapp.client_data import own_task_elements
from webapp.process_texts import localize_bpmn
from webapp.runtime import get_engine
from webapp.security import extend_csp

bp = Blueprint("instances", __name__)

MAX_EVENTS = 1000


def visible_instance(instance_id: int) -> tuple[InstanceView | None, Any]:
    instance = get_engine().find_instance(instance_id) if valid_id(instance_id) else None
    if instance is None:
        return None, deny(404, f"process instance {instance_id} does not exist")
    if not may_see_case_instance(current_viewer(), instance):
        return None, deny(404, f"process instance {instance.id} is not visible to the user")
    return instance, None


def diagram_processes(instance: InstanceView) -> dict[str, str]:
    """{process id: stored BPMN path} of the instance's version (itself and called processes)."""
    return dict(instance.spec_files)


def completed_elements(instance: InstanceView) -> list[str]:
    return get_engine().passed_elements(instance)


@bp.get("/instances/<int:instance_id>")
@login_required
def show(instance_id: int):
    instance, refused = visible_instance(instance_id)
    if instance is None:
        return refused
    viewer = current_viewer()
    engine = get_engine()
    processes = diagram_processes(instance)
    shown = request.args.get("process", instance.process_id)
    if shown not in processes:
        shown = instance.process_id
    incidents = engine.incident_views(instance.id) if viewer.is_staff else []
    tasks, other_tasks = open_tasks([instance.id], viewer)
    events = timeline([instance.id], viewer, limit=MAX_EVENTS, newest_first=False)
    if viewer.is_staff:
        # Every element reached (any kind), the flows taken, and failures inside called
        # processes on their call activities (issue 10; engine/diagram_state.py).
        marks = engine.diagram_marks(instance.id, [i.task_id for i in incidents]).get(shown, {})
        active, completed = marks.get("active", []), marks.get("completed", [])
        incident_elements, flows = marks.get("incidents", []), marks.get("flows", [])
    else:
        # A client sees where its own tasks are, not the certification body's internal steps.
        own = own_task_elements(instance, viewer)
        active = [e for e in sorted(instance.active_elements or []) if e in own["open"]]
        completed = [e for e in completed_elements(instance) if e in own["completed"]]
        incident_elements, flows = [], []
    extend_csp("style-src", "'unsafe-inline'")  # bpmn-js styles its SVG inline
    return render_template(
        "instances/show.html",
        instance=instance,
        version=instance.process_version,
        processes=processes,
        shown=shown,
        active=active,
        completed=completed,
        incident_elements=incident_elements,
        flows=flows,
        incidents=incidents,
        open_tasks=tasks,
        other_tasks=other_tasks,
        organisations=[
            (o, may_see_case(viewer, o.id))
            for o in instance_organisations(instance.id, instance.business_key)
        ],
        events=event_rows(events, [instance.id], viewer),
        may_retry=viewer.may_retry_incidents,
        viewer=viewer,
    )


@bp.get("/instances/<int:instance_id>/diagram.bpmn")
@login_required
def diagram(instance_id: int):
    """The deployed BPMN file of the instance's version that defines the (called) process."""
    instance, refused = visible_instance(instance_id)
    if instance is None:
        return refused
    processes = diagram_processes(instance)
    process_id = request.args.get("process", instance.process_id)
    path = processes.get(process_id)
    stored = get_engine().version_file(instance.process_version_id, path) if path else None
    if stored is None:
        return deny(404, f"no diagram of {process_id[:100]!r} in instance {instance.id}")
    name = path.rsplit("/", 1)[-1]
    response = Response(localize_bpmn(stored), mimetype="application/xml")
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    return response


@bp.post("/instances/<int:instance_id>/incidents/<int:incident_id>/retry")
@login_required
def retry(instance_id: int, incident_id: int):
    instance, refused = visible_instance(instance_id)
    if instance is None:
        return refused
    viewer = current_viewer()
    back = url_for("instances.show", instance_id=instance.id) + "#incidents"
    if not viewer.may_retry_incidents:
        return deny(403, "retrying an incident needs the role admin or process_owner")
    engine = get_engine()
    if incident_id not in {i.id for i in engine.incident_views(instance.id)}:
        return deny(404, f"incident {incident_id} is not open in instance {instance.id}")
    try:
        incident = engine.retry_incident(incident_id, actor=viewer.actor)
        incident = engine.incident_view(incident.id)
    except EngineError as err:
        if err.status == 403:
            log_access("denied", status=403, detail=err.message)
        flash(_("The retry did not work: %(reason)s", reason=err.message), "error")
        return redirect(back)
    if incident.status == "resolved":
        flash(_("The incident is resolved; the process goes on."), "success")
    else:
        flash(_("Still failing: %(message)s", message=incident.message[:300]), "error")
    return redirect(back)
