"""The audit trail's entries (issue 13; R-13 who did what, when): every operation that changes
definitions or cases outside a normal task, gathered from where each is recorded —

* the engine's event log: deployments, the definition reviews' decisions (the
  `definition_review` process's task completions), incident repairs (data corrected, retried,
  sent back), task reassignments, clock changes;
* the access log: user accounts created or changed (roles, active), passwords reset, client
  accounts linked to an organisation;
* the auditor register's HR record: registrations, evaluations, renewals (R-7.2.2).

Each source is read with the same filter, at most `SOURCE_LIMIT` newest rows, merged newest
first. Running cases moved to another version of their process, and back (issue 12), are
engine events too: both versions and hashes."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext
from sqlalchemy import select

from certflow.db import db
from certflow.models import User
from domain.models import Auditor
from domain.models_people import AuditorEvent
from engine.query_quality import EventQuery, LoggedEvent, logged_events
from webapp.i18n import china_day_start, localtime, role_name
from webapp.models import AccessLog
from webapp.studio import REVIEW_PROCESS

SOURCE_LIMIT = 5000
ENGINE_KINDS = (
    "definition_deployed",
    "incident_data_corrected",
    "incident_retried",
    "task_sent_back",
    "task_reassigned",
    "clock_changed",
    "instance_migrated",
    "instance_moved_back",
)
ACCESS_KINDS = (
    "user_created",
    "user_updated",
    "password_reset",
    "link_request_approved",
    "link_request_refused",
)
AUDITOR_KINDS = {"registered": "auditor_registered", "evaluated": "auditor_evaluated"}
AUDITOR_KINDS["renewed"] = "auditor_renewed"
RESULTS = {"qualified": lazy_gettext("Qualified"), "not_qualified": lazy_gettext("Not qualified")}
KIND_LABELS = {
    "definition_deployed": lazy_gettext("Definition deployed"),
    "definition_approved": lazy_gettext("Definition change approved"),
    "definition_returned": lazy_gettext("Definition change returned"),
    "incident_data_corrected": lazy_gettext("Case data corrected (incident repair)"),
    "incident_retried": lazy_gettext("Failed step retried"),
    "task_sent_back": lazy_gettext("Case sent back to an earlier step"),
    "task_reassigned": lazy_gettext("Task reassigned"),
    "clock_changed": lazy_gettext("Application clock changed"),
    "instance_migrated": lazy_gettext("Running case moved to another process version"),
    "instance_moved_back": lazy_gettext("Migrated case moved back to its previous version"),
    "user_created": lazy_gettext("User account created"),
    "user_updated": lazy_gettext("User account changed (roles, organisation, active)"),
    "password_reset": lazy_gettext("Password reset by an administrator"),
    "link_request_approved": lazy_gettext("Client account linked to its organisation"),
    "link_request_refused": lazy_gettext("Client link request refused"),
    "auditor_registered": lazy_gettext("Auditor registered"),
    "auditor_evaluated": lazy_gettext("Auditor evaluated"),
    "auditor_renewed": lazy_gettext("Auditor registration renewed"),
}


@dataclass(frozen=True)
class TrailFilter:
    """Who, what (a kind of KIND_LABELS), when (China days, both included), which case."""

    who: str = ""
    kind: str = ""
    since: date | None = None
    until: date | None = None
    case: str = ""

    @property
    def since_utc(self) -> datetime | None:
        return china_day_start(self.since) if self.since else None

    @property
    def until_utc(self) -> datetime | None:
        return china_day_start(self.until + timedelta(days=1)) if self.until else None

    def wants(self, kind: str) -> bool:
        return not self.kind or self.kind == kind


@dataclass(frozen=True)
class TrailEntry:
    at: datetime
    who: str
    kind: str
    case: str  # business key, draft, user account or auditor the operation changed
    details: str


def trail(flt: TrailFilter) -> list[TrailEntry]:
    """The entries the filter accepts, newest first."""
    entries = [*_engine_entries(flt), *_access_entries(flt), *_auditor_entries(flt)]
    return sorted(entries, key=lambda e: e.at, reverse=True)


def _engine_entries(flt: TrailFilter) -> Iterable[TrailEntry]:
    query = EventQuery(
        event_types=tuple(k for k in ENGINE_KINDS if flt.wants(k)),
        actor=flt.who,
        since=flt.since_utc,
        until=flt.until_utc,
        case=flt.case,
    )
    events = logged_events(db.session, query, SOURCE_LIMIT) if query.event_types else []
    if flt.wants("definition_approved") or flt.wants("definition_returned"):
        reviews = EventQuery(
            ("task_completed",), flt.who, flt.since_utc, flt.until_utc, flt.case, REVIEW_PROCESS
        )
        events += logged_events(db.session, reviews, SOURCE_LIMIT)
    for event in events:
        kind = _engine_kind(event)
        if flt.wants(kind):
            yield TrailEntry(event.at, event.actor, kind, _case_of(event), _details(event))


def _engine_kind(event: LoggedEvent) -> str:
    if event.event_type != "task_completed":
        return event.event_type
    approved = (event.data.get("data") or {}).get("approved") is True
    return "definition_approved" if approved else "definition_returned"


def _case_of(event: LoggedEvent) -> str:
    if event.event_type == "definition_deployed":
        return f"{event.data.get('process_id', '')} v{event.data.get('version', '')}"
    if event.business_key:
        return event.business_key
    return f"#{event.instance_id}" if event.instance_id else ""


def _details(event: LoggedEvent) -> str:
    data = event.data
    match event.event_type:
        case "definition_deployed":
            return f"{data.get('sha256', '')[:12]} {data.get('comment', '')}".strip()
        case "incident_data_corrected":
            changes = data.get("changes") or {}
            return "; ".join(
                f"{name}: {_value(name, c.get('before'))} → {_value(name, c.get('after'))}"
                for name, c in sorted(changes.items())
            )
        case "task_reassigned":
            return f"{data.get('previous_assignee') or '—'} → {data.get('assignee') or '—'}"
        case "clock_changed":
            return f"{_china_time(data.get('before'))} → {_china_time(data.get('after'))}"
        case "task_completed":
            return str((data.get("data") or {}).get("comments") or "")
        case "instance_migrated" | "instance_moved_back":
            return (
                f"{data.get('process_id', '')} v{data.get('from_version', '')} "
                f"{str(data.get('from_sha256', ''))[:12]} → v{data.get('to_version', '')} "
                f"{str(data.get('to_sha256', ''))[:12]}"
            )
    return ""


def _china_time(value: object) -> str:
    try:
        return localtime(datetime.fromisoformat(str(value)))
    except ValueError:
        return ""


def _access_entries(flt: TrailFilter) -> Iterable[TrailEntry]:
    kinds = [k for k in ACCESS_KINDS if flt.wants(k)]
    if not kinds:
        return []
    query = select(AccessLog).where(AccessLog.event.in_(kinds))
    if flt.who:
        query = query.where(AccessLog.username == flt.who)
    if flt.since_utc:
        query = query.where(AccessLog.at >= flt.since_utc)
    if flt.until_utc:
        query = query.where(AccessLog.at < flt.until_utc)
    rows = list(db.session.scalars(query.order_by(AccessLog.at.desc()).limit(SOURCE_LIMIT)))
    ids = {(row.data or {}).get("user_id") for row in rows} - {None}
    names = dict(db.session.execute(select(User.id, User.username).where(User.id.in_(ids))).all())
    entries = [
        TrailEntry(
            row.at,
            row.username or "",
            row.event,
            (row.data or {}).get("username") or names.get((row.data or {}).get("user_id"), ""),
            _changes(row),
        )
        for row in rows
    ]
    return [e for e in entries if not flt.case or e.case == flt.case]


FIELD_LABELS = {
    "display_name": lazy_gettext("Display name"),
    "roles": lazy_gettext("Roles"),
    "organisation_id": lazy_gettext("Organisation"),
    "active": lazy_gettext("Active"),
}


def _changes(row: AccessLog) -> str:
    changes = (row.data or {}).get("changes")
    if not changes:  # a link request's reason; nothing for a password reset
        return row.detail if row.event.startswith("link_request") else ""
    return "; ".join(
        f"{FIELD_LABELS.get(name, name)}: {_value(name, old)} → {_value(name, new)}"
        for name, (old, new) in sorted(changes.items())
    )


def _value(name: str, value: object) -> str:
    """A changed field's value as a person reads it: role names, yes/no, — for nothing."""
    if value is None or value == []:
        return "—"
    if name == "roles" and isinstance(value, list):
        return ", ".join(role_name(role) for role in value)
    if isinstance(value, bool):
        return str(lazy_gettext("Yes") if value else lazy_gettext("No"))
    return str(value)


def _auditor_entries(flt: TrailFilter) -> Iterable[TrailEntry]:
    kinds = [raw for raw, kind in AUDITOR_KINDS.items() if flt.wants(kind)]
    if not kinds:
        return []
    query = (
        select(AuditorEvent, Auditor.name)
        .join(Auditor, Auditor.id == AuditorEvent.auditor_id)
        .where(AuditorEvent.kind.in_(kinds))
    )
    if flt.who:
        query = query.where(AuditorEvent.recorded_by == flt.who)
    if flt.since_utc:
        query = query.where(AuditorEvent.recorded_at >= flt.since_utc)
    if flt.until_utc:
        query = query.where(AuditorEvent.recorded_at < flt.until_utc)
    if flt.case:
        query = query.where(Auditor.name == flt.case)
    rows = db.session.execute(query.order_by(AuditorEvent.recorded_at.desc()).limit(SOURCE_LIMIT))
    return [
        TrailEntry(
            event.recorded_at,
            event.recorded_by,
            AUDITOR_KINDS[event.kind],
            name,
            " ".join(
                part
                for part in (
                    event.on_date.isoformat(),
                    str(RESULTS.get(event.result, "")),
                    event.note,
                )
                if part
            ),
        )
        for event, name in rows
    ]
