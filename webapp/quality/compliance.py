"""The compliance dashboard (issue 13): `/quality/compliance` — each rule with a measurable
obligation, how many cases kept and broke it (domain/compliance), a link to each indicator's
breach list `/quality/compliance/<indicator>` (each case linking to its case page), and the
process figures (engine/query_figures.py): throughput per process and per task (median, p90),
volumes per month, overdue tasks by role. Filters: period, process, organisation. Every chart
is also a table (the page works without JavaScript)."""

from dataclasses import dataclass
from datetime import date

from flask import abort, render_template, request
from flask_babel import lazy_gettext
from sqlalchemy import select

from certflow.dates import china_date
from certflow.db import db
from domain.compliance import INDICATORS, Result, measure, measure_one
from domain.models import Organisation
from engine.query_figures import FigureFilter
from webapp.auth import roles_required
from webapp.cases import case_instances
from webapp.process_texts import ptext
from webapp.quality import QUALITY_ROLES, bp, section
from webapp.quality.compliance_query import ComplianceQuery, FilterError
from webapp.quality.compliance_texts import EVENTS, MEASURES, REASONS, TITLES
from webapp.runtime import get_clock, get_engine

section(
    "quality.compliance",
    lazy_gettext("Compliance"),
    lazy_gettext(
        "Whether the rules were kept case by case: each measurable rule with the cases that "
        "broke it, and the process figures."
    ),
    order=30,
)
MAX_TASK_ROWS = 30


@dataclass(frozen=True)
class Choices:
    processes: list[tuple[str, str]]  # (id, name in the page's language)
    organisations: list[tuple[int, str]]


def choices() -> Choices:
    processes = sorted(
        ((p.process_id, ptext(p.name)) for p in get_engine().latest_processes()),
        key=lambda item: item[1],
    )
    organisations = list(
        db.session.execute(select(Organisation.id, Organisation.name).order_by(Organisation.name))
    )
    return Choices(processes, [(o.id, o.name) for o in organisations])


def parse_query(options: Choices) -> ComplianceQuery:
    return ComplianceQuery.from_args(
        request.args,
        get_clock().now(),
        {pid for pid, _ in options.processes} | {d.process for d, _ in INDICATORS.values()},
        {oid for oid, _ in options.organisations},
    )


def today() -> date:
    """The rules' today: the date in China on the app's clock (certflow/dates.py)."""
    return china_date(get_clock().now())


def indicators(query: ComplianceQuery) -> list[Result]:
    return measure(
        db.session,
        query.period,
        today(),
        organisation_id=query.organisation,
        process=query.process or None,
    )


def figures(query: ComplianceQuery) -> dict:
    engine = get_engine()
    start, end = query.utc_bounds
    instance_ids = None
    if query.organisation is not None:
        instance_ids = tuple(i.id for i in case_instances(query.organisation))
    flt = FigureFilter(start, end, query.process or None, instance_ids)
    tasks = engine.task_throughput(flt)
    months = engine.monthly_volumes(flt)
    totals: dict[str, list[int]] = {}
    for volume in months:
        month = totals.setdefault(volume.month, [0, 0])
        month[0] += volume.started
        month[1] += volume.finished
    return {
        "processes": engine.process_throughput(flt),
        "tasks": sorted(tasks, key=lambda t: -t.median_hours)[:MAX_TASK_ROWS],
        "months": months,
        "month_totals": [(month, s, f) for month, (s, f) in sorted(totals.items())],
        "overdue": sorted(
            engine.overdue_by_role(get_clock().now(), query.process or None, instance_ids).items()
        ),
    }


def texts() -> dict:
    return {"titles": TITLES, "measures": MEASURES, "reasons": REASONS, "events": EVENTS}


def refused(options: Choices, error: FilterError, template: str, **extra):
    return (
        render_template(template, options=options, error=error, query=None, **texts(), **extra),
        422,
    )


@bp.get("/compliance")
@roles_required(*QUALITY_ROLES)
def compliance():
    options = choices()
    try:
        query = parse_query(options)
    except FilterError as error:
        return refused(options, error, "quality/compliance.html")
    results = indicators(query)
    return render_template(
        "quality/compliance.html",
        options=options,
        query=query,
        error=None,
        results=results,
        figures=figures(query),
        process_names=dict(options.processes),
        chart=_chart_data(results),
        **texts(),
    )


@bp.get("/compliance/<indicator>")
@roles_required(*QUALITY_ROLES)
def compliance_breaches(indicator: str):
    if indicator not in INDICATORS:
        abort(404)
    options = choices()
    try:
        query = parse_query(options)
    except FilterError as error:
        return refused(options, error, "quality/breaches.html", indicator=indicator)
    result = measure_one(
        db.session,
        indicator,
        query.period,
        today(),
        organisation_id=query.organisation,
    )
    return render_template(
        "quality/breaches.html",
        options=options,
        query=query,
        error=None,
        indicator=indicator,
        result=result,
        **texts(),
    )


def _chart_data(results: list[Result]) -> dict:
    measured = [r for r in results if r.measurable]
    return {
        "labels": [str(TITLES[r.definition.key]) for r in measured],
        "kept": [r.kept for r in measured],
        "broken": [r.broken for r in measured],
    }
