"""The event log for process-mining tools over the API (issue 13): the same XES (IEEE 1849)
and CSV as the quality workspace's downloads, for integrators. Quality managers and admins
(AUDIT_QUALITY); activity names in the language of Accept-Language (default Chinese)."""

from flask import Response
from pydantic import BaseModel, ConfigDict

from certflow.db import db
from certflow.permissions import Permission, may
from engine.errors import ForbiddenError
from engine.query_quality import activity_events
from webapp.api.blueprint import bp
from webapp.api.instance_models import UtcTime
from webapp.api.models import NoNul, optional
from webapp.api.openapi import answers, api_spec
from webapp.api.parsing import query
from webapp.api.routes import checked_first
from webapp.api.serialize import viewer
from webapp.process_texts import ptext
from webapp.quality.event_log import to_csv, to_xes

XES_TYPE = "application/xml"
CSV_TYPE = "text/csv"
_TIME = "RFC 3339 with an offset"


class EventLogQuery(BaseModel):
    """Which cases: of a process, started in a period (whole traces). Empty means absent."""

    model_config = ConfigDict(extra="ignore")

    process: NoNul = optional(description="Process id (an unknown one gives an empty log).")
    started_from: UtcTime = optional(description=f"Cases started at or after; {_TIME}.")
    started_to: UtcTime = optional(description=f"Cases started before; {_TIME}.")


def _quality_only() -> None:
    if not may(viewer().roles, Permission.AUDIT_QUALITY):
        raise ForbiddenError("the event log is for the quality manager and admins")


def _events():
    given: EventLogQuery = query()
    return activity_events(
        db.session,
        since=given.started_from,
        until=given.started_to,
        process_ids=(given.process,) if given.process else (),
    )


def _download(body: str | bytes, mimetype: str, name: str) -> Response:
    return Response(
        body, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={name}"}
    )


_REFUSED = "a time lies outside the years 1 to 9999 once in UTC."


@bp.get("/event-log.xes")
@checked_first(_quality_only)
@api_spec.validate(  # the XML answer is described in document.EVENT_LOG_CONTENT
    query=EventLogQuery,
    resp=answers(
        200,
        None,
        "XES (IEEE 1849): a trace per process instance; events with concept:name, "
        "time:timestamp, org:resource, org:role, lifecycle:transition.",
        (401, 403),
        unprocessable=_REFUSED,
    ),
    tags=["instances"],
    operation_id="exportEventLogXes",
)
def event_log_xes() -> Response:
    """The human-task events of the chosen cases as XES (quality_manager, admin)."""
    return _download(to_xes(_events(), ptext), XES_TYPE, "certflow-events.xes")


@bp.get("/event-log.csv")
@checked_first(_quality_only)
@api_spec.validate(
    query=EventLogQuery,
    resp=answers(
        200,
        None,
        "CSV, one row per event: case, activity, time, resource, lifecycle, role, process, "
        "element.",
        (401, 403),
        unprocessable=_REFUSED,
    ),
    tags=["instances"],
    operation_id="exportEventLogCsv",
)
def event_log_csv() -> Response:
    """The human-task events of the chosen cases as CSV (quality_manager, admin)."""
    return _download(to_csv(_events(), ptext), CSV_TYPE, "certflow-events.csv")
