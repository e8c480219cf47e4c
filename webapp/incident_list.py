"""The open incidents of every case (`/incidents`, issue 10): for the roles that repair them
(INCIDENT_LIST_ROLES in webapp/access.py, the retry roles of the permission table), each
incident with its case, organisation, process, the step in words, since when, the error in
words and who was working on it, filterable by process and age, linking to its repair page.
The navigation shows how many are open. The engine answers with one COUNT and one page SELECT
(engine/query_incidents.py)."""

from dataclasses import dataclass, fields, replace
from datetime import timedelta
from typing import Any

from flask import Blueprint, render_template, request, url_for
from flask_babel import lazy_gettext
from sqlalchemy import null, or_, select

from certflow.db import db
from domain.models import Application, CaseBinding, Certificate, Organisation
from engine.service import IncidentFilter, OpenIncident
from webapp.access import INCIDENT_LIST_ROLES
from webapp.auth import roles_required
from webapp.blocked import incident_reason
from webapp.cases import display_names
from webapp.layout import nav_item
from webapp.paging import page_count
from webapp.process_texts import ptext
from webapp.runtime import get_clock, get_engine

bp = Blueprint("incidents", __name__)
PER_PAGE = 50
AGES = (1, 7, 30)  # "open for more than N days"


def _open_count() -> int:
    return get_engine().count_open_incidents()


nav_item(
    "incidents.index",
    lazy_gettext("Incidents"),
    roles=INCIDENT_LIST_ROLES,
    order=60,
    count=_open_count,
)


@dataclass(frozen=True)
class IncidentQuery:
    process: str = ""
    age: int = 0  # days; 0: any age
    page: int = 1

    @classmethod
    def from_args(cls, args: Any, processes: set[str]) -> "IncidentQuery":
        process = args.get("process", "")
        age, page = args.get("age", ""), args.get("page", "")
        return cls(
            process=process if process in processes else "",
            age=int(age) if age.isdigit() and int(age) in AGES else 0,
            page=int(page) if page.isdigit() and 0 < len(page) <= 6 else 1,
        )

    def url(self, **changes: Any) -> str:
        state = replace(self, **changes)
        args = {
            f.name: getattr(state, f.name)
            for f in fields(state)
            if getattr(state, f.name) not in ("", f.default)
        }
        return url_for("incidents.index", **args)


@dataclass(frozen=True)
class IncidentRow:
    item: OpenIncident
    step: str
    reason: str
    organisations: list[Organisation]
    worked_by: str | None


def case_organisations(items: list[OpenIncident]) -> dict[int, list[Organisation]]:
    """{instance id: its organisations} through applications (instance or number), certificates
    (lifecycle processes keyed by the certificate number) and client-started bindings."""
    ids = sorted({i.incident.instance_id for i in items})
    keys = sorted({i.business_key for i in items if i.business_key})
    if not ids:
        return {}
    pairs = db.session.execute(
        select(Application.instance_id, Application.number, Application.organisation_id).where(
            or_(Application.instance_id.in_(ids), Application.number.in_(keys))
        )
    ).all()
    pairs += db.session.execute(
        select(null(), Certificate.number, Certificate.organisation_id).where(
            Certificate.number.in_(keys)
        )
    ).all()
    pairs += db.session.execute(
        select(CaseBinding.instance_id, null(), CaseBinding.organisation_id).where(
            CaseBinding.instance_id.in_(ids)
        )
    ).all()
    wanted = {organisation_id for _, _, organisation_id in pairs}
    by_id = {
        o.id: o for o in db.session.scalars(select(Organisation).where(Organisation.id.in_(wanted)))
    }
    result: dict[int, list[Organisation]] = {}
    for item in items:
        found = result.setdefault(item.incident.instance_id, [])
        for instance_id, number, organisation_id in pairs:
            linked = instance_id == item.incident.instance_id or (
                number is not None and number == item.business_key
            )
            if linked and by_id[organisation_id] not in found:
                found.append(by_id[organisation_id])
    return result


def _rows(items: list[OpenIncident]) -> list[IncidentRow]:
    engine = get_engine()
    names: dict[int, dict[str, str]] = {}
    for item in items:  # one restored spec per deployed version (cached by the engine)
        if item.process_version_id not in names:
            names[item.process_version_id] = engine.step_names(item.incident.instance_id)
    organisations = case_organisations(items)
    people = display_names({i.last_worked_by for i in items if i.last_worked_by})
    rows = []
    for item in items:
        element = item.incident.element_id
        step = ptext(names[item.process_version_id].get(element, element))
        rows.append(
            IncidentRow(
                item=item,
                step=step,
                reason=incident_reason(item.incident, step),
                organisations=organisations.get(item.incident.instance_id, []),
                worked_by=people.get(item.last_worked_by or "", item.last_worked_by),
            )
        )
    return rows


@bp.get("/incidents")
@roles_required(*INCIDENT_LIST_ROLES)
def index():
    engine = get_engine()
    processes = engine.latest_processes()
    query = IncidentQuery.from_args(request.args, {p.process_id for p in processes})
    flt = IncidentFilter(
        process_id=query.process or None,
        opened_before=get_clock().now() - timedelta(days=query.age) if query.age else None,
    )
    total, items = engine.page_open_incidents(
        flt, limit=PER_PAGE, offset=(query.page - 1) * PER_PAGE
    )
    pages = page_count(total, PER_PAGE)
    page = min(query.page, pages)
    if page != query.page:  # past the last page: show the last one
        total, items = engine.page_open_incidents(flt, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    return render_template(
        "incidents.html",
        query=replace(query, page=page),
        processes=processes,
        ages=AGES,
        rows=_rows(items),
        total=total,
        page=page,
        pages=pages,
    )
