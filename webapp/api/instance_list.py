"""GET /instances and GET /instances/{id}/variables (issue 11).

The list shows exactly the instances `GET /instances/{id}` shows (the instance-page rule,
`access.may_see_case_instance`, R-11), as one SQL condition: the overseeing roles see all; others
the instances they started, those with a task they may see, and — staff — the instances of the
cases they may see; a client those of its own organisation. The variables are those of one task
of the instance, filtered as the task answer filters them (webapp/client_data.py).
"""

import dataclasses

from flask import Response, jsonify
from sqlalchemy import exists, select

from certflow.db import db
from domain.models import Organisation
from engine.errors import NotFoundError
from engine.service import InstanceFilter, InstanceLink, TaskFilter
from webapp import access, client_data
from webapp.api import instance_models as im
from webapp.api.blueprint import bp
from webapp.api.models import MAX_INT32, MAX_PAGE
from webapp.api.openapi import answers, api_spec
from webapp.api.parsing import query
from webapp.api.serialize import instance_json, jsonable, viewer
from webapp.runtime import get_engine

ID = f"int(min=1, max={MAX_INT32})"


def visible_filter(who: access.Viewer) -> InstanceFilter:
    """`access.may_see_case_instance` for a whole list, as an engine filter: the overseeing roles
    see all; others the instances they started or hold a task they may see, a client those of its
    own organisation, staff those of the cases they may see."""
    if who.sees_all_instances:
        return InstanceFilter(everything=True)
    through: list[InstanceLink] = []
    if access.CLIENT_ROLE in who.roles and who.organisation_id is not None:
        through.append(access.organisation_link(who.organisation_id))
    if who.is_staff:
        cases = list(
            db.session.scalars(select(Organisation.id).where(access.case_visible_clause(who)))
        )
        if cases:

            def of_visible_cases(instance_id, business_key):
                return exists(
                    select(Organisation.id)
                    .where(
                        Organisation.id.in_(cases),
                        access.belongs_to_organisation(Organisation.id, instance_id, business_key),
                    )
                    .correlate_except(Organisation)
                )

            through.append(of_visible_cases)
    return InstanceFilter(involving=access.task_scope(who), through=tuple(through))


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
    visible = visible_filter(viewer())
    flt = dataclasses.replace(
        visible,
        process_id=filters.process,
        business_key=filters.business_key,
        status=filters.status,
        linked_to=(
            access.organisation_link(filters.organisation)
            if filters.organisation is not None
            else None
        ),
        started_from=filters.started_from,
        started_to=filters.started_to,
        ended_from=filters.ended_from,
        ended_to=filters.ended_to,
    )
    total, rows = get_engine().page_instances(flt, limit=limit, offset=filters.offset)
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
    # The latest task the user may see: open ones first, then the latest created.
    scope = None if who.sees_all_tasks else access.task_scope(who)
    tasks = engine.list_tasks(
        TaskFilter(state=None, visible_to=scope, instance_ids=(instance.id,)), sort="-created"
    )
    open_tasks = [task for task in tasks if task.state == "open"]
    latest = (open_tasks or tasks or [None])[0]
    if latest is None:
        return jsonify({"task_id": None, "element_id": None, "variables": {}})
    data = client_data.task_data_for(
        who, latest, engine.task_data(latest), engine.task_form(latest)
    )
    return jsonify(
        {"task_id": latest.id, "element_id": latest.element_id, "variables": jsonable(data)}
    )
