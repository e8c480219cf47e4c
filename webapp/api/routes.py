"""The routes of the JSON API v1 (see webapp/api/openapi.py for the contract).

Views are thin: they authenticate (auth.authenticate runs before every view), validate the
request, call the workflow engine and serialize its rows. The engine enforces the workflow rules
(roles of lanes, claims, supervisor rights) and raises EngineError subclasses whose `.status` is
the HTTP answer.
"""

import json
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from http import HTTPStatus
from typing import Any

from flask import Response, current_app, jsonify, request, url_for
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed

import scheduler
from certflow.clock import SimulatedClock, parse_utc
from certflow.db import db
from certflow.models import User
from certflow.permissions import Permission, may, roles_with
from certflow.roles import ROLE_IDS
from engine.errors import EngineError, ForbiddenError, FormValidationError, NotFoundError
from engine.models import HumanTask, Incident, ProcessInstance, ProcessVersion
from engine.service import Actor
from engine.timers import parse_duration
from webapp import access, client_data, get_clock, get_engine
from webapp.access import Viewer
from webapp.api import bp, openapi
from webapp.api.auth import ApiError, authenticate, current_actor, current_user, public
from webapp.api.parsing import choice_arg, flag_arg, int_arg, json_body, text_arg

TASK_STATES = ("open", "completed", "cancelled", "all")
DEFAULT_LIMIT, MAX_LIMIT = 50, openapi.MAX_PAGE
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

bp.before_request(authenticate)

Body = tuple[Response, int] | tuple[Response, int, dict[str, str]]


# -- errors ---------------------------------------------------------------------------------------
_KINDS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    422: "validation_error",
    500: "internal_error",
}


def error_kind(status: int) -> str:
    if status in _KINDS:
        return _KINDS[status]
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


def error_response(
    status: int,
    message: str,
    errors: Mapping[str, list[str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Body:
    body: dict[str, Any] = {"error": error_kind(status), "message": message}
    if errors is not None or status == 422:
        body["errors"] = dict(errors or {})
    return jsonify(body), status, dict(headers or {})


@bp.errorhandler(ApiError)
def _api_error(err: ApiError) -> Body:
    return error_response(err.status, err.message, err.errors, err.headers)


@bp.errorhandler(EngineError)
def _engine_error(err: EngineError) -> Body:
    errors = err.errors if isinstance(err, FormValidationError) else None
    return error_response(err.status, err.message, errors)


@bp.errorhandler(HTTPException)
def _http_error(err: HTTPException) -> Body:
    status = err.code or 500
    headers = {}
    if isinstance(err, MethodNotAllowed) and err.valid_methods:
        headers["Allow"] = ", ".join(err.valid_methods)
    return error_response(status, err.description or HTTPStatus(status).phrase, headers=headers)


@bp.errorhandler(InternalServerError)
def _internal_error(err: InternalServerError) -> Body:
    # Reached for unhandled exceptions (Flask logged them already); never leak their text.
    return error_response(500, "internal server error")


def _under_api(path: str) -> bool:
    return path == openapi.API_PREFIX or path.startswith(openapi.API_PREFIX + "/")


@bp.app_errorhandler(404)
@bp.app_errorhandler(405)
def _routing_error(err: HTTPException) -> Body | HTTPException:
    """URLs under /api/v1 that match no route (or not with this method) still answer JSON."""
    if not _under_api(request.path):
        return err
    return _http_error(err)


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


def incident_json(incident: Incident) -> dict[str, Any]:
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


def instance_json(instance: ProcessInstance) -> dict[str, Any]:
    """The instance as the current user may see it: a client sees only the elements of its own
    tasks and no incidents (webapp.client_data, R-11)."""
    who = viewer()
    incidents = get_engine().open_incidents(instance.id) if who.is_staff else []
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


def task_json(row: HumanTask, now: datetime) -> dict[str, Any]:
    return {
        "id": row.id,
        "instance_id": row.instance_id,
        "process_id": row.process_id,
        "business_key": row.business_key,
        "element_id": row.element_id,
        "name": row.name,
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


def process_json(version: ProcessVersion) -> dict[str, Any]:
    return {
        "process_id": version.process_id,
        "name": version.name,
        "version": version.version,
        "sha256": version.sha256,
        "deployed_at": timestamp(version.deployment.deployed_at),
        "deployed_by": version.deployment.deployed_by,
    }


# -- visibility: the rules of webapp/access.py, shared with the web pages (R-11) ------------------
def viewer() -> Viewer:
    return Viewer.of(current_user())


def visible_task(task_id: str) -> HumanTask:
    """The task, or 404 when it does not exist or the user may not see it (R-11)."""
    row = get_engine().get_task(_task_id(task_id))
    if not access.may_see_task(viewer(), row):
        raise NotFoundError(f"task {task_id} not found")
    return row


def _instance_id(value: int) -> int:
    """Ids beyond the integer columns' range cannot exist (and would upset the database)."""
    if value > openapi.MAX_INT32:
        raise NotFoundError(f"process instance {value} not found")
    return value


def _task_id(value: str) -> str:
    """Task ids are UUIDs; anything else cannot exist."""
    if not _UUID.fullmatch(value):
        raise NotFoundError(f"task {value[:60]} not found")
    return value


def _require_role(actor: Actor, roles: frozenset[str], what: str) -> None:
    if not actor.roles & roles:
        raise ForbiddenError(f"{what} needs one of the roles {sorted(roles)}")


# -- meta -----------------------------------------------------------------------------------------
@bp.get("/openapi.json")
@public
def get_openapi() -> Response:
    return jsonify(openapi.document())


# -- processes ------------------------------------------------------------------------------------
@bp.get("/processes")
def list_processes() -> Response:
    versions = sorted(get_engine().list_latest_versions(), key=lambda v: v.process_id)
    return jsonify({"items": [process_json(v) for v in versions]})


# -- instances ------------------------------------------------------------------------------------
@bp.post("/instances")
def start_instance() -> Body:
    body = json_body(openapi.START_INSTANCE)
    refuse_client_start(body)
    instance = get_engine().start(
        body["process_id"],
        actor=current_actor(),
        data=body.get("data"),
        business_key=body.get("business_key"),
    )
    location = url_for("api.get_instance", instance_id=instance.id)
    return jsonify(instance_json(instance)), 201, {"Location": location}


def refuse_client_start(body: Mapping[str, Any]) -> None:
    """A client never sets a business key (the system links cases to organisations) and starts
    only the processes of access.CLIENT_STARTABLE_PROCESSES (issue 9, item 7; R-11)."""
    if viewer().is_staff:
        return
    if body.get("business_key") is not None:
        rule = "set by the system; a client may not choose the business key"
        raise ApiError(422, "the request body is invalid", errors={"business_key": [rule]})
    if body["process_id"] not in access.CLIENT_STARTABLE_PROCESSES:
        raise ForbiddenError(f"a client may not start the process {body['process_id']!r}")


@bp.get("/instances/<int:instance_id>")
def get_instance(instance_id: int) -> Response:
    instance = get_engine().get_instance(_instance_id(instance_id))
    # The web page's rule: staff who may see the case may see its instances.
    if not access.may_see_case_instance(viewer(), instance):
        raise NotFoundError(f"process instance {instance_id} not found")
    return jsonify(instance_json(instance))


# -- tasks ----------------------------------------------------------------------------------------
@bp.get("/tasks")
def list_tasks() -> Response:
    actor = current_actor()
    errors: dict[str, list[str]] = {}
    state = choice_arg(errors, "state", TASK_STATES, "open")
    mine = flag_arg(errors, "mine")
    instance_id = int_arg(errors, "instance", None, 1, openapi.MAX_INT32)
    limit = int_arg(errors, "limit", DEFAULT_LIMIT, 1, openapi.MAX_INT32)
    offset = int_arg(errors, "offset", 0, 0, openapi.MAX_INT32)
    business_key = text_arg(errors, "business_key")
    role = choice_arg(errors, "role", ROLE_IDS, None)
    if errors:
        raise ApiError(422, "invalid query parameters", errors=errors)
    assert limit is not None and offset is not None
    limit = min(limit, MAX_LIMIT)

    query = select(HumanTask)
    if not may(actor.roles, Permission.SEE_ALL_TASKS):
        if role is not None and role not in actor.roles:
            raise ForbiddenError(f"you do not hold the role {role!r}")
        query = query.where(access.task_visible_clause(viewer()))
    if role is not None:
        query = query.where(HumanTask.candidate_role == role)
    if state != "all":
        query = query.where(HumanTask.state == state)
    if mine:
        query = query.where(HumanTask.assignee == actor.username)
    if instance_id is not None:
        query = query.where(HumanTask.instance_id == instance_id)
    if business_key is not None:
        query = query.where(HumanTask.business_key == business_key)

    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(
        query.order_by(HumanTask.created_at, HumanTask.id).limit(limit).offset(offset)
    ).all()
    now = get_clock().now()
    return jsonify(
        {
            "items": [task_json(row, now) for row in rows],
            "total": total,
            "limit": limit,
            "offset": offset,
        }
    )


@bp.get("/tasks/<task_id>")
def get_task(task_id: str) -> Response:
    engine = get_engine()
    row = visible_task(task_id)
    details = engine.task_details(row)
    schema = engine.task_form(row)
    data = client_data.task_data_for(viewer(), row, engine.task_data(row), schema)
    return jsonify(
        {
            **task_json(row, get_clock().now()),
            "form_schema": schema,
            "documentation": details["documentation"],
            "instructions": details["instructions"],
            "data": jsonable(data),
        }
    )


@bp.post("/tasks/<task_id>/claim")
def claim_task(task_id: str) -> Response:
    row = get_engine().claim(visible_task(task_id).id, actor=current_actor())
    return jsonify(task_json(row, get_clock().now()))


@bp.post("/tasks/<task_id>/unclaim")
def unclaim_task(task_id: str) -> Response:
    row = get_engine().unclaim(visible_task(task_id).id, actor=current_actor())
    return jsonify(task_json(row, get_clock().now()))


@bp.post("/tasks/<task_id>/complete")
def complete_task(task_id: str) -> Response:
    body = json_body(openapi.COMPLETE_TASK)
    instance = get_engine().complete_task(
        visible_task(task_id).id, actor=current_actor(), data=body.get("data") or {}
    )
    return jsonify(instance_json(instance))


@bp.post("/tasks/<task_id>/reassign")
def reassign_task(task_id: str) -> Response:
    actor = current_actor()
    engine = get_engine()
    body = json_body(openapi.REASSIGN_TASK)
    visible_task(task_id)  # 404 before anything about the assignee
    user = db.session.scalars(select(User).where(User.username == body["assignee"])).first()
    if user is None or not user.active:
        if not may(
            actor.roles, Permission.REASSIGN_TASKS
        ):  # do not tell non-supervisors who exists
            raise ForbiddenError("only a supervisor can reassign a task")
        raise ApiError(422, "no such user", errors={"assignee": ["unknown user"]})
    assignee = Actor(user.username, frozenset(user.roles))
    row = engine.reassign(task_id, assignee=assignee, actor=actor)
    return jsonify(task_json(row, get_clock().now()))


# -- incidents ------------------------------------------------------------------------------------
@bp.post("/incidents/<int:incident_id>/retry")
def retry_incident(incident_id: int) -> Response:
    actor = current_actor()
    _require_role(actor, roles_with(Permission.RETRY_INCIDENT), "retrying an incident")
    body = json_body(openapi.RETRY_INCIDENT)
    if incident_id > openapi.MAX_INT32:
        raise NotFoundError(f"incident {incident_id} not found")
    incident = get_engine().retry_incident(incident_id, actor=actor, data=body.get("data"))
    return jsonify(incident_json(incident))


# -- messages -------------------------------------------------------------------------------------
@bp.post("/messages")
def send_message() -> Body:
    actor = current_actor()
    if not actor.roles - {"client"}:
        raise ForbiddenError("sending messages needs a staff role")
    body = json_body(openapi.SEND_MESSAGE)
    result = get_engine().send_message(
        body["name"],
        correlation=body["correlation"],
        payload=body.get("payload"),
        actor=actor,
    )
    return jsonify({"delivered_to": result.delivered_to, "queued_id": result.queued_id}), 202


# -- clock ----------------------------------------------------------------------------------------
@bp.get("/clock")
def get_clock_view() -> Response:
    clock = get_clock()
    return jsonify({"now": timestamp(clock.now()), "simulated": clock.simulated})


@bp.post("/clock")
def change_clock() -> Response:
    _require_role(current_actor(), roles_with(Permission.CHANGE_CLOCK), "changing the clock")
    clock = get_clock()
    if not isinstance(clock, SimulatedClock):
        raise ApiError(409, "the application runs on the real clock; it cannot be changed")
    body = json_body(openapi.CHANGE_CLOCK)
    try:
        if "set" in body:
            clock.set(parse_utc(body["set"]))
        else:
            clock.advance(parse_duration(body["advance"], clock.now()))
    except (ValueError, OverflowError) as err:
        field = "set" if "set" in body else "advance"
        raise ApiError(422, f"invalid {field} value", errors={field: [str(err)]}) from err
    fired = scheduler.sweep(current_app._get_current_object())  # type: ignore[attr-defined]
    return jsonify(
        {"now": timestamp(clock.now()), "simulated": clock.simulated, "fired_instances": fired}
    )
