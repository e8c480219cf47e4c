"""The routes of the JSON API v1 (see webapp/api/openapi.py for the contract).

Views are thin: authentication (auth.authenticate) runs before every view, and spectree has
validated the request with the operation's models (`api_spec.validate`, webapp/api/models.py)
before the view runs; the view calls the workflow engine and serializes its rows. The engine
enforces the workflow rules (roles of lanes, claims, supervisor rights) and raises EngineError
subclasses whose `.status` is the HTTP answer.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any
from uuid import UUID

from flask import Response, current_app, jsonify, url_for
from sqlalchemy import select

import scheduler
from certflow.clock import SimulatedClock, parse_utc
from certflow.db import db
from certflow.models import User
from certflow.permissions import Permission, may, roles_with
from engine.errors import ForbiddenError, NotFoundError
from engine.records import record_clock_change
from engine.service import Actor, TaskFilter, TaskView
from engine.timers import parse_duration
from webapp import access, client_data
from webapp.api import models, responses
from webapp.api.auth import ApiError, authenticate, current_actor
from webapp.api.blueprint import bp
from webapp.api.errors import Body
from webapp.api.openapi import answers, api_spec
from webapp.api.parsing import body, query
from webapp.api.serialize import (
    incident_json,
    instance_json,
    jsonable,
    process_json,
    task_json,
    timestamp,
    viewer,
)
from webapp.api.task_instructions import task_instructions
from webapp.form_options import with_options
from webapp.process_texts import localize_schema, ptext
from webapp.runtime import get_clock, get_engine

# Path ids: ids beyond the integer columns' range cannot exist (404 from the routing).
ID = f"int(min=1, max={models.MAX_INT32})"

bp.before_request(authenticate)


def visible_task(task_id: UUID) -> TaskView:
    """The task, or 404 when it does not exist or the user may not see it (R-11)."""
    row = get_engine().find_task(str(task_id))
    if row is None or not access.may_see_task(viewer(), row):
        raise NotFoundError(f"task {task_id} not found")
    return row


def _require_role(actor: Actor, roles: frozenset[str], what: str) -> None:
    if not actor.roles & roles:
        raise ForbiddenError(f"{what} needs one of the roles {sorted(roles)}")


def checked_first(check: Callable[[], None]) -> Callable:
    """Run `check` (who may do this at all) before the request's models judge its input."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            check()
            return view(*args, **kwargs)

        return checked

    return decorate


# -- processes ------------------------------------------------------------------------------------
@bp.get("/processes")
@api_spec.validate(
    resp=answers(200, responses.ProcessList, "The processes, ordered by process id.", (401,)),
    tags=["processes"],
    operation_id="listProcesses",
)
def list_processes() -> Response:
    """The latest deployed version of every process."""
    versions = sorted(get_engine().latest_processes(), key=lambda v: v.process_id)
    return jsonify({"items": [process_json(v) for v in versions]})


# -- instances ------------------------------------------------------------------------------------
@bp.post("/instances")
@api_spec.validate(
    json=models.StartInstance,
    resp=answers(
        201,
        responses.Instance,
        "The new instance.",
        (400, 401, 403, 404, 409, 413),
        unprocessable="the user may not pass a business_key (clients), or the data fails the "
        "start form.",
    ),
    tags=["instances"],
    operation_id="startInstance",
)
def start_instance() -> Body:
    """Start an instance of the latest version of a process.

    Needs a role of the start event's lane (403 otherwise); 404 when the process is not
    deployed; 409 when the business key is taken.
    """
    request_body: models.StartInstance = body()
    refuse_client_start(request_body)
    instance = get_engine().start(
        request_body.process_id,
        actor=current_actor(),
        data=request_body.data,
        business_key=request_body.business_key,
    )
    location = url_for("api.get_instance", instance_id=instance.id)
    return (
        jsonify(instance_json(get_engine().instance_view(instance.id))),
        201,
        {"Location": location},
    )


def refuse_client_start(request_body: models.StartInstance) -> None:
    """A client never sets a business key (the system links cases to organisations) and starts
    only the processes of access.CLIENT_STARTABLE_PROCESSES, bound to its own organisation by
    the engine hook handlers/client_cases.py (issue 9, item 7; issue 10; R-11)."""
    if viewer().is_staff:
        return
    if request_body.business_key is not None:
        rule = "set by the system; a client may not choose the business key"
        raise ApiError(422, "the request body is invalid", errors={"business_key": [rule]})
    if request_body.data:  # process variables of a client's case come from its forms only
        rule = "set by the system; a client starts a process without data"
        raise ApiError(422, "the request body is invalid", errors={"data": [rule]})
    if request_body.process_id not in access.CLIENT_STARTABLE_PROCESSES:
        raise ForbiddenError(f"a client may not start the process {request_body.process_id!r}")
    if viewer().organisation_id is None:  # the case is bound to the client's organisation
        raise ForbiddenError("a client account not linked to an organisation starts no process")


@bp.get(f"/instances/<{ID}:instance_id>")
@api_spec.validate(
    resp=answers(200, responses.Instance, "The instance.", (401, 404)),
    tags=["instances"],
    operation_id="getInstance",
    path_parameter_descriptions={"instance_id": "Instance id."},
)
def get_instance(instance_id: int) -> Response:
    """One instance with its open incidents.

    Visible to admin, quality_manager and process_owner, to the user who started it, and to
    users who hold the candidate role of, or were assigned or completed, any of its human tasks.
    Others get 404.
    """
    instance = get_engine().find_instance(instance_id)
    # The web page's rule: staff who may see the case may see its instances.
    if instance is None or not access.may_see_case_instance(viewer(), instance):
        raise NotFoundError(f"process instance {instance_id} not found")
    return jsonify(instance_json(instance))


# -- tasks ----------------------------------------------------------------------------------------
TASK_ID = {"task_id": "Task UUID."}


@bp.get("/tasks")
@api_spec.validate(
    query=models.TaskQuery,
    resp=answers(200, responses.TaskPage, "One page of tasks.", (401, 403, 422)),
    tags=["tasks"],
    operation_id="listTasks",
)
def list_tasks() -> Response:
    """Human tasks the user may see, oldest first.

    admin and quality_manager see every task; other users see the tasks of their roles and the
    tasks assigned to or completed by them.
    """
    actor = current_actor()
    filters: models.TaskQuery = query()
    limit = min(filters.limit, models.MAX_PAGE)

    visible_to = None
    if not may(actor.roles, Permission.SEE_ALL_TASKS):
        if filters.role is not None and filters.role not in actor.roles:
            raise ForbiddenError(f"you do not hold the role {filters.role!r}")
        visible_to = access.task_scope(viewer())
    chosen = TaskFilter(
        state=None if filters.state == "all" else filters.state,
        visible_to=visible_to,
        candidate_role=filters.role,
        assignee=actor.username if filters.only_mine else None,
        instance_ids=None if filters.instance is None else (filters.instance,),
        business_key=filters.business_key,
    )
    engine = get_engine()
    total = engine.count_tasks(chosen)
    rows = engine.list_tasks(chosen, sort="created", limit=limit, offset=filters.offset)
    now = get_clock().now()
    return jsonify(
        {
            "items": [task_json(row, now) for row in rows],
            "total": total,
            "limit": limit,
            "offset": filters.offset,
        }
    )


@bp.get("/tasks/<uuid:task_id>")
@api_spec.validate(
    resp=answers(200, responses.TaskDetail, "The task.", (401, 404)),
    tags=["tasks"],
    operation_id="getTask",
    path_parameter_descriptions=TASK_ID,
)
def get_task(task_id: UUID) -> Response:
    """One task with its form schema, documentation and data."""
    engine = get_engine()
    row = visible_task(task_id)
    details = engine.task_details(row)
    schema = engine.task_form(row)
    task_data = engine.task_data(row)
    data = client_data.task_data_for(viewer(), row, task_data, schema)
    return jsonify(
        {
            **task_json(row, get_clock().now()),
            "form_schema": localize_schema(with_options(schema, task_data)),  # issue 10
            "documentation": details["documentation"],
            **task_instructions(row, ptext(details["instructions"]), data),  # issue 11
            "data": jsonable(data),
        }
    )


@bp.post("/tasks/<uuid:task_id>/claim")
@api_spec.validate(
    resp=answers(200, responses.Task, "The claimed task.", (401, 403, 404, 409)),
    tags=["tasks"],
    operation_id="claimTask",
    path_parameter_descriptions=TASK_ID,
)
def claim_task(task_id: UUID) -> Response:
    """Claim an open task of one of my roles."""
    row = get_engine().claim(visible_task(task_id).id, actor=current_actor())
    return jsonify(task_json(get_engine().find_task(row.id), get_clock().now()))


@bp.post("/tasks/<uuid:task_id>/unclaim")
@api_spec.validate(
    resp=answers(200, responses.Task, "The task, now unassigned.", (401, 403, 404, 409)),
    tags=["tasks"],
    operation_id="unclaimTask",
    path_parameter_descriptions=TASK_ID,
)
def unclaim_task(task_id: UUID) -> Response:
    """Give a claimed task back to its role (assignee or admin)."""
    row = get_engine().unclaim(visible_task(task_id).id, actor=current_actor())
    return jsonify(task_json(get_engine().find_task(row.id), get_clock().now()))


@bp.post("/tasks/<uuid:task_id>/complete")
@api_spec.validate(
    json=models.CompleteTask,
    resp=answers(
        200,
        responses.Instance,
        "The instance after the task.",
        (400, 401, 403, 404, 409, 413),
        unprocessable="the data fails the task's form_schema (errors per field).",
    ),
    tags=["tasks"],
    operation_id="completeTask",
    path_parameter_descriptions=TASK_ID,
)
def complete_task(task_id: UUID) -> Response:
    """Complete a task with its form data; the instance moves on.

    422 with field errors when the data fails the form's JSON Schema; 409 when the task is no
    longer open or is claimed by someone else; 403 without the task's candidate role.
    """
    request_body: models.CompleteTask = body()
    instance = get_engine().complete_task_viewed(
        visible_task(task_id).id, actor=current_actor(), data=request_body.data or {}
    )
    return jsonify(instance_json(instance))


@bp.post("/tasks/<uuid:task_id>/reassign")
@api_spec.validate(
    json=models.ReassignTask,
    resp=answers(
        200,
        responses.Task,
        "The reassigned task.",
        (400, 401, 403, 404, 409, 413),
        unprocessable="the assignee is no active user (told to supervisors only; others get 403).",
    ),
    tags=["tasks"],
    operation_id="reassignTask",
    path_parameter_descriptions=TASK_ID,
)
def reassign_task(task_id: UUID) -> Response:
    """Assign a task to another user (supervisors only).

    403 unless admin; 422 when the user is unknown; 400 when the user lacks the task's candidate
    role.
    """
    actor = current_actor()
    engine = get_engine()
    request_body: models.ReassignTask = body()
    row = visible_task(task_id)  # 404 before anything about the assignee
    user = db.session.scalars(select(User).where(User.username == request_body.assignee)).first()
    if user is None or not user.active:
        if not may(
            actor.roles, Permission.REASSIGN_TASKS
        ):  # do not tell non-supervisors who exists
            raise ForbiddenError("only a supervisor can reassign a task")
        raise ApiError(422, "no such user", errors={"assignee": ["unknown user"]})
    assignee = Actor(user.username, frozenset(user.roles))
    row = engine.reassign(row.id, assignee=assignee, actor=actor)
    return jsonify(task_json(engine.find_task(row.id), get_clock().now()))


# -- incidents ------------------------------------------------------------------------------------
def _may_retry() -> None:
    _require_role(current_actor(), roles_with(Permission.RETRY_INCIDENT), "retrying an incident")


@bp.post(f"/incidents/<{ID}:incident_id>/retry")
@checked_first(_may_retry)
@api_spec.validate(
    json=models.RetryIncident,
    resp=answers(
        200, responses.Incident, "The incident after the retry.", (401, 403, 404, 409, 413, 422)
    ),
    tags=["incidents"],
    operation_id="retryIncident",
    path_parameter_descriptions={"incident_id": "Incident id."},
)
def retry_incident(incident_id: int) -> Response:
    """Run a failed task again (admin, process_owner).

    Answers 200 also when the task fails again: the incident then stays open with one more
    attempt.
    """
    request_body: models.RetryIncident = body()
    incident = get_engine().retry_incident(
        incident_id, actor=current_actor(), data=request_body.data
    )
    return jsonify(incident_json(get_engine().incident_view(incident.id)))


# -- messages -------------------------------------------------------------------------------------
def _may_send_messages() -> None:
    if not current_actor().roles - {"client"}:
        raise ForbiddenError("sending messages needs a staff role")


@bp.post("/messages")
@checked_first(_may_send_messages)
@api_spec.validate(
    json=models.SendMessage,
    resp=answers(
        202, responses.MessageResult, "Delivered or queued.", (400, 401, 403, 409, 413, 422)
    ),
    tags=["messages"],
    operation_id="sendMessage",
)
def send_message() -> Body:
    """Send a BPMN message to the instance that waits for it.

    Delivered at once to the first running instance that waits for the message and matches the
    correlation; otherwise queued until one does. Any staff role may send (clients get 403).
    """
    request_body: models.SendMessage = body()
    correlation = request_body.correlation.model_dump(exclude_none=True)
    result = get_engine().send_message(
        request_body.name,
        correlation=correlation,
        payload=request_body.payload,
        actor=current_actor(),
    )
    return jsonify({"delivered_to": result.delivered_to, "queued_id": result.queued_id}), 202


# -- clock ----------------------------------------------------------------------------------------
@bp.get("/clock")
@api_spec.validate(
    resp=answers(200, responses.Clock, "Now.", (401,)), tags=["clock"], operation_id="getClock"
)
def get_clock_view() -> Response:
    """The application clock."""
    clock = get_clock()
    return jsonify({"now": timestamp(clock.now()), "simulated": clock.simulated})


def _may_change_clock() -> None:
    _require_role(current_actor(), roles_with(Permission.CHANGE_CLOCK), "changing the clock")
    if not isinstance(get_clock(), SimulatedClock):
        raise ApiError(409, "the application runs on the real clock; it cannot be changed")


@bp.post("/clock")
@checked_first(_may_change_clock)
@api_spec.validate(
    json=models.ChangeClock,
    resp=answers(
        200,
        responses.ClockChange,
        "The new time and the instances whose timers fired.",
        (401, 403, 409, 413),
        unprocessable="`set` is no timestamp with an offset, `advance` no ISO 8601 duration, or "
        "the result lies outside the years 1 to 9999.",
    ),
    tags=["clock"],
    operation_id="changeClock",
)
def change_clock() -> Response:
    """Set or advance the simulated clock (admin), then fire due timers.

    409 when the application runs on the real clock.
    """
    clock = get_clock()
    assert isinstance(clock, SimulatedClock)  # _may_change_clock
    request_body: models.ChangeClock = body()
    field = "set" if request_body.set is not None else "advance"
    before = clock.now()
    try:
        if request_body.set is not None:
            after = parse_utc(request_body.set)
        else:
            after = before + parse_duration(request_body.advance, before)
        if after < before and request_body.set is None:
            raise ValueError("the simulated clock does not run backwards")
        record_clock_change(db.session, actor=current_actor().username, before=before, after=after)
        clock.set(after)  # commits the clock and its audit-trail event together (issue 13)
    except (ValueError, OverflowError) as err:
        db.session.rollback()
        raise ApiError(422, f"invalid {field} value", errors={field: [str(err)]}) from err
    fired = scheduler.sweep(current_app._get_current_object())  # type: ignore[attr-defined]
    return jsonify(
        {"now": timestamp(clock.now()), "simulated": clock.simulated, "fired_instances": fired}
    )
