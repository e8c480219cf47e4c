"""Organisation case pages: the list of cases (`/cases`) and one organisation's case
(`/cases/<organisation_id>`) with its status, open tasks, timeline, documents, files, audits and
certificates; generated documents are read at `/cases/<organisation_id>/documents/<id>`.

Who may see a case is decided in webapp.access (`case_visible_clause`, `may_see_case`,
`may_read_document`, `may_download`); a refusal is logged and answered 404 (webapp.auth.deny).
"""

from dataclasses import dataclass, fields, replace
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import login_required
from markdown_it import MarkdownIt
from markupsafe import Markup
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import defer

from certflow.db import db
from certflow.models import User
from domain.application import ISSUING_BODY
from domain.models import (
    Application,
    Attachment,
    Certificate,
    Document,
    Organisation,
)
from engine.service import EventView, InstanceView, TaskFilter
from webapp.access import (
    CLIENT_DOCUMENT_KINDS,
    Viewer,
    case_visible_clause,
    may_download,
    may_read_document,
    may_see_case,
    organisation_cases_link,
    organisation_link,
    task_scope,
)
from webapp.auth import current_viewer, deny
from webapp.case_audits import case_audits
from webapp.case_labels import badge, label, stars
from webapp.form_attachments import submitted_attachment_ids
from webapp.i18n import role_name
from webapp.layout import nav_item
from webapp.mark_use_context import mark_use_of_certificates
from webapp.paging import page_count
from webapp.process_texts import ptext
from webapp.runtime import get_clock, get_engine

bp = Blueprint("cases", __name__)
nav_item("cases.index", lazy_gettext("Cases"), order=20, sections={"instances"})

PER_PAGE = 20
MAX_TEXT = 200
MAX_EVENTS = 200
MAX_ID = 2**31  # PostgreSQL integer keys
# Raw HTML is shown as text; markdown-it refuses javascript:, vbscript:, file: and data: links.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def display_names(usernames: set[str]) -> dict[str, str]:
    """username → display name, for who did what ("system" is the engine and scheduler)."""
    names = {"system": _("System")}
    wanted = sorted(u for u in usernames if u and u != "system")
    if wanted:
        for username, display in db.session.execute(
            select(User.username, User.display_name).where(User.username.in_(wanted))
        ):
            names[username] = display
    return names


def render_markdown(text: str) -> Markup:
    return Markup(_markdown.render(text or ""))  # noqa: S704 (raw HTML disabled)


@bp.app_context_processor
def _case_helpers() -> dict[str, Any]:
    return {"code_label": label, "status_badge": badge, "stars": stars}


def valid_id(value: int) -> bool:
    return 0 < value < MAX_ID


# -- the list of cases ----------------------------------------------------------------------------
@dataclass(frozen=True)
class CaseQuery:
    q: str = ""
    page: int = 1

    @classmethod
    def from_args(cls, args: Any) -> "CaseQuery":
        q = args.get("q", "").replace("\x00", "").strip()[:MAX_TEXT]
        page = args.get("page", "")
        return cls(q=q, page=int(page) if page.isdigit() and 0 < len(page) <= 6 else 1)

    def url(self, **changes: Any) -> str:
        state = replace(self, **changes)
        args = {
            f.name: getattr(state, f.name)
            for f in fields(state)
            if getattr(state, f.name) not in ("", f.default)
        }
        return url_for("cases.index", **args)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _search_clause(q: str):
    pattern = _like(q)
    return or_(
        Organisation.name.ilike(pattern, escape="\\"),
        Organisation.uscc.ilike(pattern, escape="\\"),
        exists(
            select(Application.id).where(
                Application.organisation_id == Organisation.id,
                Application.number.ilike(pattern, escape="\\"),
            )
        ),
        exists(
            select(Certificate.id).where(
                Certificate.organisation_id == Organisation.id,
                Certificate.number.ilike(pattern, escape="\\"),
            )
        ),
    )


def _open_task_count(organisation_id: int) -> int:
    linked = TaskFilter(instance_linked_to=organisation_link(organisation_id))
    return get_engine().count_tasks(linked)


def _summary(organisation: Organisation) -> dict[str, Any]:
    applications = db.session.scalars(
        select(Application)
        .where(Application.organisation_id == organisation.id)
        .order_by(Application.submitted_at.desc(), Application.id.desc())
    ).all()
    certificates = db.session.scalars(
        select(Certificate)
        .where(Certificate.organisation_id == organisation.id)
        .order_by(Certificate.issued_on.desc(), Certificate.id.desc())
    ).all()
    return {
        "organisation": organisation,
        "latest_application": applications[0] if applications else None,
        "applications": len(applications),
        "certificates": [c for c in certificates if c.status != "superseded"],
        "open_tasks": _open_task_count(organisation.id),
    }


@bp.get("/cases")
@login_required
def index():
    viewer = current_viewer()
    query = CaseQuery.from_args(request.args)
    clauses = [case_visible_clause(viewer)]
    if query.q:
        clauses.append(_search_clause(query.q))
    total = db.session.scalar(select(func.count(Organisation.id)).where(*clauses)) or 0
    if not viewer.is_staff and total == 1 and not query.q:
        # A client user has one organisation: its case is the page.
        only = db.session.scalars(select(Organisation.id).where(*clauses)).one()
        return redirect(url_for("cases.show", organisation_id=only))
    pages = page_count(total, PER_PAGE)
    page = min(query.page, pages)
    organisations = db.session.scalars(
        select(Organisation)
        .where(*clauses)
        .order_by(Organisation.name, Organisation.id)
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    return render_template(
        "cases/index.html",
        query=replace(query, page=page),
        items=[_summary(o) for o in organisations],
        total=total,
        page=page,
        pages=pages,
    )


# -- one case -------------------------------------------------------------------------------------
def visible_case(organisation_id: int) -> tuple[Organisation | None, Any]:
    """(organisation, None) when the user may see its case, else (None, the logged 404)."""
    organisation = (
        db.session.get(Organisation, organisation_id) if valid_id(organisation_id) else None
    )
    if organisation is None:
        return None, deny(404, f"organisation {organisation_id} does not exist")
    if not may_see_case(current_viewer(), organisation.id):
        return None, deny(404, f"the case of organisation {organisation.id} is not visible")
    return organisation, None


def case_instances(organisation_id: int) -> list[InstanceView]:
    return get_engine().list_instances(organisation_cases_link(organisation_id))


def open_tasks(instance_ids: list[int], viewer: Viewer) -> tuple[list[dict[str, Any]], int]:
    """The open tasks of the instances, and how many of them are not listed: staff see every
    open task (linked when they may open it); a client sees only its own tasks and a count of the
    others — the certification body's internal steps (e.g. an unannounced mystery shopping visit,
    R-8.2) are not announced to the client."""
    if not instance_ids:
        return [], 0
    engine = get_engine()
    rows = engine.list_tasks(TaskFilter(instance_ids=tuple(instance_ids)), sort="due")
    visible = engine.tasks_in_scope([r.id for r in rows], task_scope(viewer))
    now = get_clock().now()
    items = [
        {
            "task": row,
            "visible": row.id in visible,
            "overdue": row.due_at is not None and row.due_at < now,
        }
        for row in rows
        if viewer.is_staff or row.id in visible
    ]
    return items, len(rows) - len(items)


# Events of the whole instance a client sees besides those of its own tasks.
CLIENT_INSTANCE_EVENTS = ("instance_started", "instance_completed", "instance_terminated")


def timeline(
    instance_ids: list[int], viewer: Viewer, *, limit: int, newest_first: bool
) -> list[EventView]:
    """Events of the instances; for clients only the instance's start and end and the events
    of the tasks they may see (see `open_tasks`)."""
    return get_engine().instance_events(
        instance_ids,
        limit=limit,
        newest_first=newest_first,
        only_for=None if viewer.is_staff else task_scope(viewer),
        instance_event_types=CLIENT_INSTANCE_EVENTS,
    )


def event_rows(events: list[EventView], instance_ids: list[int], viewer: Viewer) -> list[dict]:
    """Events as the timeline shows them: who, what (event and task or element), detail, when.
    Submitted form data is never shown here; incident messages only to staff."""
    names = get_engine().task_names(instance_ids, only={e.task_id for e in events if e.task_id})
    people = display_names({e.actor for e in events})
    # Each event type's label and each task's name translated once, not once per event (up to
    # MAX_EVENTS rows; issue 16).
    labels = {t: label("event", t) for t in {e.event_type for e in events}}
    subjects = {e.task_id: ptext(names.get(e.task_id)) for e in events if e.task_id}
    rows = []
    for event in events:
        data = event.data or {}
        detail = ""
        if event.event_type == "task_reassigned":
            detail = "→ " + str(data.get("assignee") or "")
        elif event.event_type == "task_created" and data.get("candidate_role"):
            detail = role_name(data.get("candidate_role"))
        elif event.event_type == "instance_started":
            detail = f"{data.get('process_id', '')} v{data.get('version', '')}"
        elif event.event_type in ("message_delivered", "message_queued"):
            detail = str(data.get("name") or "")
        elif event.event_type == "incident_raised" and viewer.is_staff:
            detail = str(data.get("message") or "")[:300]
        rows.append(
            {
                "event": event,
                "who": people.get(event.actor, event.actor),
                "username": event.actor,
                "what": labels[event.event_type],
                "subject": subjects.get(event.task_id or "") or event.element_id or "",
                "detail": detail,
            }
        )
    return rows


def _case_attachments(
    organisation: Organisation,
    applications: list[Application],
    instance_ids: list[int],
    viewer: Viewer,
) -> list[Attachment]:
    """Files of the case the user may download: those of the organisation and its applications,
    and those submitted in the completed forms of its process instances."""
    conditions = [Attachment.organisation_id == organisation.id]
    if applications:
        conditions.append(Attachment.application_id.in_([a.id for a in applications]))
    submitted = submitted_attachment_ids(get_engine(), instance_ids)
    if submitted:
        conditions.append(Attachment.id.in_(sorted(submitted)))
    rows = db.session.scalars(  # one query for the three sources (issue 16)
        select(Attachment).where(or_(*conditions)).order_by(Attachment.uploaded_at, Attachment.id)
    ).all()
    return [a for a in rows if may_download(viewer, a)]


def _documents(organisation_id: int, viewer: Viewer) -> list[Document]:
    # The list shows titles, kinds and dates: not the bodies (each a whole letter; issue 16).
    statement = (
        select(Document)
        .where(Document.organisation_id == organisation_id)
        .options(defer(Document.body))
    )
    if not viewer.is_staff:
        statement = statement.where(Document.kind.in_(sorted(CLIENT_DOCUMENT_KINDS)))
    return list(
        db.session.scalars(statement.order_by(Document.created_at.desc(), Document.id.desc()))
    )


@bp.get("/cases/<int:organisation_id>")
@login_required
def show(organisation_id: int):
    organisation, refused = visible_case(organisation_id)
    if organisation is None:
        return refused
    viewer = current_viewer()
    instances = case_instances(organisation.id)
    instance_ids = [i.id for i in instances]
    applications = list(
        db.session.scalars(
            select(Application)
            .where(Application.organisation_id == organisation.id)
            .order_by(Application.submitted_at, Application.id)
        )
    )
    certificates = list(
        db.session.scalars(
            select(Certificate)
            .where(Certificate.organisation_id == organisation.id)
            .order_by(Certificate.issued_on.desc(), Certificate.id.desc())
        )
    )
    events = timeline(instance_ids, viewer, limit=MAX_EVENTS + 1, newest_first=True)
    tasks, other_tasks = open_tasks(instance_ids, viewer)
    return render_template(
        "cases/show.html",
        organisation=organisation,
        instances=instances,
        process_names={i.id: ptext(i.process_version.name) for i in instances},
        applications=applications,
        certificates=certificates,
        open_tasks=tasks,
        other_tasks=other_tasks,
        events=event_rows(events[:MAX_EVENTS], instance_ids, viewer),
        more_events=len(events) > MAX_EVENTS,
        documents=_documents(organisation.id, viewer),
        attachments=_case_attachments(organisation, applications, instance_ids, viewer),
        audits=case_audits(organisation.id),
        # R-10.1(a, f), R-10.2: the certificates' records (the page has read the certificates)
        mark_use=mark_use_of_certificates({c.id: c.number for c in certificates}),
        viewer=viewer,
    )


@bp.get("/cases/<int:organisation_id>/documents/<int:document_id>")
@login_required
def document(organisation_id: int, document_id: int):
    organisation, refused = visible_case(organisation_id)
    if organisation is None:
        return refused
    row = db.session.get(Document, document_id) if valid_id(document_id) else None
    if row is None or row.organisation_id != organisation.id:
        return deny(404, f"document {document_id} is not part of case {organisation.id}")
    if not may_read_document(current_viewer(), row):
        return deny(404, f"document {row.id} ({row.kind}) is not for this user")
    return render_template(
        "cases/document.html",
        organisation=organisation,
        document=row,
        body=render_markdown(row.body),
        # The CB issues every document (issue 10): `created_by` is only whose step produced
        # it (e.g. the client's confirmation that triggered the NC report), not its author.
        issuer=ISSUING_BODY,
    )
