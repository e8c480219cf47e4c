"""The heatmap of a process (issue 13): `/quality/heatmap/<process>` — the deployed diagram in
the vendored bpmn-js viewer with, on each user task, how many times it was completed in the
period and how long it took (median, p90: engine.task_throughput, the compliance page's figure),
coloured by quartile of duration or of frequency (a switch, domain/heat.py); and per task the
waiting time (created until claimed) and working time (claimed until completed,
engine.task_times) with a role filter. Filters: period, version. Every figure is also a table
(the page works without JavaScript); static/js/heatmap.js reads the overlays from data-*."""

from flask import Response, abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from certflow.db import db
from certflow.roles import ROLES
from domain.heat import heat_levels
from engine.errors import NotFoundError
from engine.query_figures import FigureFilter
from engine.sources import version_sources, versions_of
from webapp.auth import roles_required
from webapp.process_texts import localize_bpmn, ptext
from webapp.quality import QUALITY_ROLES, bp, section
from webapp.quality.compliance_query import ComplianceQuery, FilterError
from webapp.runtime import get_clock, get_engine

section(
    "quality.heatmap_index",
    lazy_gettext("Heatmap"),
    lazy_gettext(
        "The diagram coloured by how often each task was done and how long it took, and the "
        "time tasks waited before someone took them."
    ),
    order=35,
)
MEASURES = ("duration", "frequency")
ROLE_IDS = {role.id for role in ROLES}


def _processes() -> dict[str, str]:
    return {p.process_id: ptext(p.name) for p in get_engine().latest_processes()}


def _version(process_id: str) -> tuple[int | None, list[int]]:
    """(chosen version or None for all, deployed versions newest first); FilterError."""
    versions = [row[0] for row in versions_of(db.session, process_id)]
    value = request.args.get("version", "")
    if not value:
        return None, versions
    if not value.isdigit() or int(value) not in versions:
        raise FilterError("version", _("Choose a version from the list."))
    return int(value), versions


def _role() -> str | None:
    value = request.args.get("role", "")
    if value and value not in ROLE_IDS:
        raise FilterError("role", _("Choose a role from the list."))
    return value or None


def _measure() -> str:
    value = request.args.get("measure", "duration")
    if value not in MEASURES:
        raise FilterError("measure", _("Choose duration or frequency."))
    return value


def overlays(tasks) -> list[dict]:
    """One overlay per task element: its figures and its colour level for each measure."""
    durations = heat_levels({t.element_id: t.median_hours for t in tasks}) if tasks else {}
    counts = heat_levels({t.element_id: t.count for t in tasks}) if tasks else {}
    return [
        {
            "id": t.element_id,
            "count": t.count,
            "median": t.median_hours,
            "p90": t.p90_hours,
            "duration": durations[t.element_id],
            "frequency": counts[t.element_id],
        }
        for t in tasks
    ]


@bp.get("/heatmap")
@roles_required(*QUALITY_ROLES)
def heatmap_index():
    processes = _processes()
    return render_template("quality/heatmap_index.html", processes=processes)


@bp.get("/heatmap/<process_id>")
@roles_required(*QUALITY_ROLES)
def heatmap(process_id: str):
    processes = _processes()
    if process_id not in processes:
        abort(404)
    version, versions = None, []
    try:
        version, versions = _version(process_id)
        query = ComplianceQuery.from_args(request.args, get_clock().now(), {process_id}, set())
        role, measure = _role(), _measure()
    except FilterError as error:
        page = render_template(
            "quality/heatmap.html",
            process_id=process_id,
            process_name=processes[process_id],
            versions=versions,
            roles=ROLES,
            error=error,
            query=None,
        )
        return page, 422
    start, end = query.utc_bounds
    flt = FigureFilter(start, end, process_id, version=version)
    engine = get_engine()
    tasks = [t for t in engine.task_throughput(flt) if t.process_id == process_id]
    times = [t for t in engine.task_times(flt, role) if t.process_id == process_id]
    return render_template(
        "quality/heatmap.html",
        process_id=process_id,
        process_name=processes[process_id],
        versions=versions,
        version=version,
        shown_version=version or versions[0],
        roles=ROLES,
        role=role or "",
        measure=measure,
        error=None,
        query=query,
        tasks=tasks,
        times=times,
        overlays=overlays(tasks),
    )


@bp.get("/heatmap/<process_id>/<int:version>.bpmn")
@roles_required(*QUALITY_ROLES)
def heatmap_diagram(process_id: str, version: int):
    """The BPMN file of that deployed version that defines the process (texts localised)."""
    try:
        sources = version_sources(db.session, process_id, version)
    except NotFoundError:
        abort(404)
    text = sources.files[sources.main_path].encode("utf-8")
    return Response(localize_bpmn(text), mimetype="application/xml")
