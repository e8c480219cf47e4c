"""The event log for process mining (issue 13): XES (IEEE 1849) and CSV downloads, filtered by
the period in which the cases started (whole traces only) and by process."""

from flask import Response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from certflow.db import db
from engine.query_quality import activity_events
from webapp.auth import roles_required
from webapp.process_texts import ptext
from webapp.quality import QUALITY_ROLES, bp, section
from webapp.quality.event_log import to_csv, to_xes
from webapp.quality.filters import period_args, text_arg
from webapp.quality.trail_data import TrailFilter
from webapp.runtime import get_engine

section(
    "quality.exports",
    lazy_gettext("Event log exports"),
    lazy_gettext(
        "The event log as XES and CSV, one trace per case, for process-mining tools "
        "(ProM, pm4py, Celonis, Disco)."
    ),
    order=30,
)


def _processes() -> dict[str, str]:
    """{process id: name of its latest version}."""
    return {p.process_id: p.name for p in get_engine().latest_processes()}


def _selection(errors: dict[str, str]):
    since, until = period_args(errors)
    period = TrailFilter(since=since, until=until)  # China days → UTC bounds
    process = text_arg("process")
    if process and process not in _processes():
        errors["process"] = _("Choose a process from the list.")
    return period, process


def _events(errors: dict[str, str]):
    period, process = _selection(errors)
    return activity_events(
        db.session,
        since=period.since_utc,
        until=period.until_utc,
        process_ids=(process,) if process else (),
    )


@bp.get("/exports")
@roles_required(*QUALITY_ROLES)
def exports():
    errors: dict[str, str] = {}
    _selection(errors)
    page = render_template(
        "quality/exports.html", processes=_processes(), errors=errors, args=request.args
    )
    return page, 422 if errors else 200


def _refused(errors: dict[str, str]) -> Response:
    text = "\n".join(f"{field}: {message}" for field, message in errors.items())
    return Response(text, 422, mimetype="text/plain")


@bp.get("/exports/events.xes")
@roles_required(*QUALITY_ROLES)
def events_xes():
    errors: dict[str, str] = {}
    events = _events(errors)
    if errors:
        return _refused(errors)
    return Response(
        to_xes(events, ptext),
        mimetype="application/xml",
        headers={"Content-Disposition": "attachment; filename=certflow-events.xes"},
    )


@bp.get("/exports/events.csv")
@roles_required(*QUALITY_ROLES)
def events_csv():
    errors: dict[str, str] = {}
    events = _events(errors)
    if errors:
        return _refused(errors)
    return Response(
        to_csv(events, ptext),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=certflow-events.csv"},
    )
