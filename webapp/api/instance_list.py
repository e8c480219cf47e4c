"""GET /instances and GET /instances/{id}/variables (issue 11).

The list shows exactly the instances `GET /instances/{id}` shows (the instance-page rule,
`access.may_see_case_instance`, R-11), as one SQL condition: the overseeing roles see all; others
the instances they started, those with a task they may see, and — staff — the instances of the
cases they may see; a client those of its own organisation. The variables are those of one task
of the instance, filtered as the task answer filters them (webapp/client_data.py).
"""

from flask import Response, jsonify
from sqlalchemy import ColumnElement, exists, false, func, or_, select, true

from certflow.db import db
from domain.models import Organisation
from engine.errors import NotFoundError
from engine.models import HumanTask, ProcessInstance
from webapp import access, client_data
from webapp.api import instance_models as im
from webapp.api.blueprint import bp
from webapp.api.models import MAX_INT32, MAX_PAGE
from webapp.api.openapi import answers, api_spec
from webapp.api.parsing import query
from webapp.api.serialize import instance_json, jsonable, viewer
from webapp.runtime import get_engine

ID = f"int(min=1, max={MAX_INT32})"


def visible_clause(who: access.Viewer) -> ColumnElement[bool]:
    """SQL condition on ProcessInstance: `access.may_see_case_instance` for a whole list."""
    if who.sees_all_instances:
        return true()
    through: list[ColumnElement[bool]] = [
        ProcessInstance.started_by == who.username,
        exists(
            select(HumanTask.id)
            .where(HumanTask.instance_id == ProcessInstance.id, access.task_visible_clause(who))
            .correlate_except(HumanTask)
        ),
    ]
    if access.CLIENT_ROLE in who.roles:
        through.append(access.instances_of_organisation(who.organisation_id))
    if who.is_staff:
        cases = list(
            db.session.scalars(select(Organisation.id).where(access.case_visible_clause(who)))
        )
        if cases:
            through.append(
                exists(
                    select(Organisation.id)
                    .where(
                        Organisation.id.in_(cases),
                        access.instances_of_organisation(Organisation.id),
                    )
                    .correlate_except(Organisation)
                )
            )
    return or_(*through) if through else false()


@bp.get("/instances")
@api_spec.validate(
    query=im.InstanceQuery,
    resp=answers(
        200,
        im.InstancePage,
        "One page of instances.",
        (401,),
        unprocessable="a time filter lies outside the years 1 to 9999 once in UTC.",
    ),
    tags=["instances"],
    operation_id="listInstances",
)
def list_instances() -> Response:
    """Process instances the user may see, oldest first.

    The same instances `GET /instances/{instance_id}` shows: admin, quality_manager and
    process_owner all; others those they started, those with a task they may see and, staff,
    those of the cases they have a part in; a client those of its own organisation.
    """
    filters: im.InstanceQuery = query()
    limit = min(filters.limit, MAX_PAGE)
    statement = select(ProcessInstance).where(visible_clause(viewer()))
    if filters.process is not None:
        statement = statement.where(ProcessInstance.process_id == filters.process)
    if filters.business_key is not None:
        statement = statement.where(ProcessInstance.business_key == filters.business_key)
    if filters.status is not None:
        statement = statement.where(ProcessInstance.status == filters.status)
    if filters.organisation is not None:
        statement = statement.where(access.instances_of_organisation(filters.organisation))
    for column, low, high in (
        (ProcessInstance.started_at, filters.started_from, filters.started_to),
        (ProcessInstance.ended_at, filters.ended_from, filters.ended_to),
    ):
        if low is not None:
            statement = statement.where(column >= low)
        if high is not None:
            statement = statement.where(column <= high)
    total = db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    rows = db.session.scalars(
        statement.order_by(ProcessInstance.started_at, ProcessInstance.id)
        .limit(limit)
        .offset(filters.offset)
    ).all()
    return jsonify(
        {
            "items": [instance_json(row) for row in rows],
            "total": total,
            "limit": limit,
            "offset": filters.offset,
        }
    )


@bp.get(f"/instances/<{ID}:instance_id>/variables")
@api_spec.validate(
    resp=answers(200, im.InstanceVariables, "The variables the user may see.", (401, 404)),
    tags=["instances"],
    operation_id="getInstanceVariables",
    path_parameter_descriptions={"instance_id": "Instance id."},
)
def instance_variables(instance_id: int) -> Response:
    """The instance's process variables as far as the user may see them.

    Read at the user's latest task of the instance that they may see (open tasks first, then
    the latest completed): staff get that task's data, a client only its own form's fields and
    the variables declared for that task (R-11). 404 when the user may not see the instance.
    """
    engine = get_engine()
    instance = engine.get_instance(instance_id)
    who = viewer()
    if not access.may_see_case_instance(who, instance):
        raise NotFoundError(f"process instance {instance_id} not found")
    tasks = select(HumanTask).where(HumanTask.instance_id == instance.id)
    if not who.sees_all_tasks:
        tasks = tasks.where(access.task_visible_clause(who))
    latest = db.session.scalars(
        tasks.order_by(
            (HumanTask.state == "open").desc(), HumanTask.created_at.desc(), HumanTask.id
        ).limit(1)
    ).first()
    if latest is None:
        return jsonify({"task_id": None, "element_id": None, "variables": {}})
    data = client_data.task_data_for(
        who, latest, engine.task_data(latest), engine.task_form(latest)
    )
    return jsonify(
        {"task_id": latest.id, "element_id": latest.element_id, "variables": jsonable(data)}
    )
