"""The client's home (issue 10, R-11): `GET /home`, where a client lands after signing in, and
`POST /home/apply`, "申请认证 / Apply for certification".

The home shows, for the signed-in client's own organisation only: its applications (status),
certificates (status, validity, next surveillance due), open tasks (the access allowlist of
webapp/access.py: the client tasks of its own cases), the documents addressed to it
(CLIENT_DOCUMENT_KINDS) and the complaints and appeals it filed in the portal (public status
only). Every value comes from a table column chosen here — no process variable is read, so no
internal record (mystery shopping, internal review, impartiality, staff comments) can reach it.
A user whose link request is pending or refused sees that, and nothing of any organisation.

Apply starts `certification` as the signed-in client; the engine hook
(handlers/client_cases.py) binds the instance to the client's organisation (from its account)
and refuses a second running application (409). The client then lands on its application task.
"""

from datetime import date
from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user
from sqlalchemy import select

from certflow.db import db
from domain.client_cases import prefill
from domain.client_signup import latest_request_of
from domain.mark_plaque import plaques_of
from domain.models import (
    Application,
    AuditProgramme,
    CaseBinding,
    Certificate,
    Complaint,
    Document,
    Organisation,
    ProgrammeActivity,
)
from engine.errors import ConflictError, EngineError
from engine.query_scope import running_instance_exists
from engine.service import TaskFilter, TaskView
from handlers.client_cases import CLIENT_ROLE, has_running_application
from handlers.complaints import public_status
from webapp.access import CLIENT_DOCUMENT_KINDS, Viewer, task_scope
from webapp.auth import current_viewer, roles_required
from webapp.complaints import STATUS_LABELS
from webapp.layout import nav_item
from webapp.runtime import get_engine

bp = Blueprint("client_home", __name__)

APPLY_PROCESS = "certification"
SURVEILLANCE_KINDS = ("surveillance_1", "surveillance_2")
SHOWN_CERTIFICATE_STATUSES = ("valid", "suspended", "withdrawn", "cancelled")


@bp.record_once
def _navigation(state) -> None:
    nav_item("client_home.home", lazy_gettext("My home"), roles={CLIENT_ROLE}, order=5)


def is_client_only(roles: frozenset[str]) -> bool:
    return roles == {CLIENT_ROLE}


# -- what the home shows --------------------------------------------------------------------------
def applications(organisation_id: int) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(Application)
        .where(Application.organisation_id == organisation_id)
        .order_by(Application.submitted_at.desc(), Application.id.desc())
    ).all()
    items = [{"application": row, "preparing": False} for row in rows]
    applied = {row.instance_id for row in rows if row.instance_id is not None}
    # A case started from this page whose application is not submitted yet.
    preparing = db.session.scalars(
        select(CaseBinding)
        .where(
            CaseBinding.organisation_id == organisation_id,
            running_instance_exists(
                lambda instance_id, _key: instance_id == CaseBinding.instance_id
            ),
        )
        .order_by(CaseBinding.started_at.desc())
    ).all()
    drafts = [
        {"application": None, "preparing": True, "binding": binding}
        for binding in preparing
        if binding.instance_id not in applied
    ]
    return drafts + items


def next_surveillance(certificate: Certificate) -> date | None:
    """The due date of the next routine surveillance not yet done (R-8.10.1)."""
    if certificate.status != "valid" or certificate.application_id is None:
        return None
    return db.session.scalar(
        select(ProgrammeActivity.due_date)
        .join(AuditProgramme, AuditProgramme.id == ProgrammeActivity.programme_id)
        .where(
            AuditProgramme.application_id == certificate.application_id,
            ProgrammeActivity.kind.in_(SURVEILLANCE_KINDS),
            ProgrammeActivity.status != "completed",
            ProgrammeActivity.due_date.is_not(None),
        )
        .order_by(ProgrammeActivity.due_date)
        .limit(1)
    )


def certificates(organisation_id: int) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(Certificate)
        .where(
            Certificate.organisation_id == organisation_id,
            Certificate.status.in_(SHOWN_CERTIFICATE_STATUSES),
        )
        .order_by(Certificate.issued_on.desc(), Certificate.id.desc())
    ).all()
    return [
        {
            "certificate": row,
            "next_surveillance": next_surveillance(row),
            "plaques": plaques_of(db.session, [row.id]),  # R-10.1(f)
        }
        for row in rows
    ]


def open_tasks(viewer: Viewer) -> list[TaskView]:
    return get_engine().list_tasks(
        TaskFilter(state="open", visible_to=task_scope(viewer)), sort="due", limit=100
    )


def documents(organisation_id: int) -> list[Document]:
    return list(
        db.session.scalars(
            select(Document)
            .where(
                Document.organisation_id == organisation_id,
                Document.kind.in_(sorted(CLIENT_DOCUMENT_KINDS)),
            )
            .order_by(Document.created_at.desc(), Document.id.desc())
            .limit(100)
        )
    )


def complaints(organisation_id: int) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(Complaint)
        .where(Complaint.organisation_id == organisation_id, Complaint.channel == "portal")
        .order_by(Complaint.received_at.desc())
        .limit(100)
    ).all()
    return [
        {"complaint": row, "status": STATUS_LABELS[public_status(db.session, row)]} for row in rows
    ]


# -- views ----------------------------------------------------------------------------------------
@bp.get("/home")
@roles_required(CLIENT_ROLE)
def home():
    viewer = current_viewer()
    organisation = (
        db.session.get(Organisation, viewer.organisation_id) if viewer.organisation_id else None
    )
    if organisation is None:  # not linked (yet): nothing of any organisation is shown
        link_request = latest_request_of(db.session, current_user.id)
        return render_template("client_home.html", organisation=None, link_request=link_request)
    return render_template(
        "client_home.html",
        organisation=organisation,
        link_request=None,
        may_apply=not has_running_application(db.session, organisation.id, except_instance=0),
        applications=applications(organisation.id),
        certificates=certificates(organisation.id),
        tasks=open_tasks(viewer),
        documents=documents(organisation.id),
        complaints=complaints(organisation.id),
    )


@bp.post("/home/apply")
@roles_required(CLIENT_ROLE)
def apply():
    viewer = current_viewer()
    organisation = (
        db.session.get(Organisation, viewer.organisation_id) if viewer.organisation_id else None
    )
    if organisation is None:
        flash(_("Your account is not linked to an organisation yet."), "error")
        return redirect(url_for("client_home.home")), 303
    try:
        instance = get_engine().start(APPLY_PROCESS, actor=viewer.actor, data=prefill(organisation))
    except ConflictError:
        db.session.rollback()
        flash(_("Your organisation has an application in progress: one at a time."), "error")
        return redirect(url_for("client_home.home")), 303
    except EngineError:  # not deployed (NotFoundError), refused (ForbiddenError) …
        db.session.rollback()
        flash(_("Applying is not possible at the moment. Please contact us."), "error")
        return redirect(url_for("client_home.home")), 303
    first = get_engine().list_tasks(
        TaskFilter(state="open", visible_to=task_scope(viewer), instance_ids=(instance.id,)),
        sort="created",
        limit=1,
    )
    task_id = first[0].id if first else None
    if task_id is None:
        return redirect(url_for("client_home.home")), 303
    return redirect(url_for("tasks.show", task_id=task_id)), 303
