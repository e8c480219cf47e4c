"""The client asks for a change of its certificate from its home (issue 15, R-9.3, R-9.4):
`POST /home/certificates/<number>/change`, "申请变更 / Apply for a change" — a new service site
(scope extension, R-9.4.1: the initial procedure follows), a dropped site, a name, address or
scope wording, a downgrade or new criteria; the kind is chosen in the request form.

Allowlist: only a client of the certificate's organisation, only for a valid certificate it holds
now (not one superseded by a reissue); anything else is 404 (nothing of another organisation is
confirmed to exist, R-11). The case is `certificate_change`, business key the certificate number,
started as the client; its first task (the request form) opens at once. One change of a
certificate at a time: while one runs, a request is answered 409 and says so; two requests at the
same moment cannot both start one (a unique index of the running change per certificate, the
loser gets 409).
"""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from certflow.db import db
from domain.models import Certificate
from engine.errors import ConflictError, EngineError
from engine.query_scope import InstanceFilter
from engine.service import TaskFilter
from handlers.client_cases import CLIENT_ROLE
from webapp.access import task_scope
from webapp.auth import current_viewer, roles_required
from webapp.client_home import bp
from webapp.runtime import get_engine

CHANGE_PROCESS = "certificate_change"


def changeable_certificate(number: str, organisation_id: int | None) -> Certificate | None:
    """The valid certificate `number` of the client's own organisation, or None."""
    if organisation_id is None:
        return None
    return db.session.scalars(
        select(Certificate).where(
            Certificate.number == number,
            Certificate.organisation_id == organisation_id,
            Certificate.status == "valid",
        )
    ).first()


def change_in_progress(number: str) -> bool:
    """A change of the certificate is running (its request form or later steps)."""
    running = InstanceFilter(
        everything=True, process_id=CHANGE_PROCESS, business_key=number, status="running"
    )
    total, _rows = get_engine().page_instances(running, limit=1)
    return total > 0


@bp.post("/home/certificates/<number>/change")
@roles_required(CLIENT_ROLE)
def request_change(number: str):
    viewer = current_viewer()
    certificate = changeable_certificate(number, viewer.organisation_id)
    if certificate is None:
        abort(404)
    if change_in_progress(certificate.number):
        return _one_at_a_time()
    try:
        instance = get_engine().start(
            CHANGE_PROCESS,
            actor=viewer.actor,
            data={"certificate_id": certificate.id},
            business_key=certificate.number,
        )
    except ConflictError:
        # Two requests at once both passed the check above: the database's unique index of the
        # running change per certificate (engine/models.py) let one start; this one is refused.
        db.session.rollback()
        return _one_at_a_time()
    except EngineError:
        db.session.rollback()
        flash(_("Applying is not possible at the moment. Please contact us."), "error")
        return redirect(url_for("client_home.home")), 303
    first = get_engine().list_tasks(
        TaskFilter(state="open", visible_to=task_scope(viewer), instance_ids=(instance.id,)),
        sort="created",
        limit=1,
    )
    if not first:
        return redirect(url_for("client_home.home")), 303
    return redirect(url_for("tasks.show", task_id=first[0].id)), 303


def _one_at_a_time():
    """409: a change of the certificate runs already (R-9.3, one at a time)."""
    page = render_template(
        "message.html",
        title=_("A change is in progress"),
        message=_("A change of this certificate is in progress: one at a time."),
        back=url_for("client_home.home"),
    )
    return page, 409
