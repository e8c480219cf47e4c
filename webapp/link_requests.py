"""Link requests on the web (issue 10, R-11): the market role decides whether a person who signed
up for an existing organisation belongs to it.

* `GET /link-requests` — role market: the pending requests (who, which organisation by name and
  code, what the person typed, when) and the latest decisions. Reached from the navigation and
  from a notice on the inbox (`pending_link_requests()` in templates).
* `POST /link-requests/<id>/approve` — links the user to the organisation (it sees the case);
  `POST /link-requests/<id>/refuse` — needs a reason, shown to the requester on its home page.
  One decision wins: a request decided already answers 409. Each decision is written to the
  access log (`link_request_approved` / `link_request_refused`) in the same transaction.
"""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user
from sqlalchemy import func, select

from certflow.db import db
from certflow.models import User
from domain.client_signup import (
    MAX_LENGTHS,
    LinkDecisionError,
    decide_link_request,
    pending_requests,
)
from domain.models import LinkRequest, Organisation
from webapp.auth import remote_addr, roles_required, wall_clock
from webapp.layout import nav_item
from webapp.models import AccessLog
from webapp.runtime import get_clock

bp = Blueprint("link_requests", __name__, url_prefix="/link-requests")

DECIDER_ROLES = ("market",)
RECENT_DECISIONS = 20


@bp.record_once
def _navigation(state) -> None:
    nav_item("link_requests.index", lazy_gettext("Link requests"), roles=DECIDER_ROLES, order=55)
    state.app.add_template_global(pending_link_requests)


def pending_link_requests() -> int:
    """The number of pending requests, for a deciding user (0 for everyone else)."""
    if not getattr(current_user, "is_authenticated", False):
        return 0
    if not current_user.viewer.roles & set(DECIDER_ROLES):
        return 0
    return db.session.scalar(
        select(func.count(LinkRequest.id)).where(LinkRequest.status == "pending")
    )


def _rows(requests: list[LinkRequest]) -> list[dict]:
    users = {
        u.id: u
        for u in db.session.scalars(select(User).where(User.id.in_([r.user_id for r in requests])))
    }
    organisations = {
        o.id: o
        for o in db.session.scalars(
            select(Organisation).where(Organisation.id.in_([r.organisation_id for r in requests]))
        )
    }
    return [
        {
            "request": r,
            "user": users.get(r.user_id),
            "organisation": organisations.get(r.organisation_id),
        }
        for r in requests
    ]


@bp.get("")
@roles_required(*DECIDER_ROLES)
def index():
    decided = list(
        db.session.scalars(
            select(LinkRequest)
            .where(LinkRequest.status != "pending")
            .order_by(LinkRequest.decided_at.desc(), LinkRequest.id.desc())
            .limit(RECENT_DECISIONS)
        )
    )
    return render_template(
        "link_requests.html",
        pending=_rows(pending_requests(db.session)),
        decided=_rows(decided),
        reason_max=MAX_LENGTHS["reason"],
        errors={},
    )


@bp.post("/<int:request_id>/approve")
@roles_required(*DECIDER_ROLES)
def approve(request_id: int):
    return _decide(request_id, approve=True)


@bp.post("/<int:request_id>/refuse")
@roles_required(*DECIDER_ROLES)
def refuse(request_id: int):
    return _decide(request_id, approve=False)


def _decide(request_id: int, *, approve: bool):
    reason = request.form.get("reason", "").replace("\x00", "").strip()
    if not approve and not reason:
        flash(_("Please give the reason for the refusal: the requester will read it."), "error")
        return redirect(url_for("link_requests.index")), 303
    try:
        decided = decide_link_request(
            db.session,
            request_id,
            approve=approve,
            decided_by=current_user.username,
            reason=reason,
            now=get_clock().now(),
        )
    except LinkDecisionError:
        db.session.rollback()
        page = render_template(
            "message.html",
            title=_("Already decided"),
            message=_("This request was decided already (or does not exist). Please reload."),
        )
        return page, 409
    # The audit record, in the same transaction as the decision.
    db.session.add(
        AccessLog(
            at=wall_clock(),
            username=current_user.username,
            event="link_request_approved" if approve else "link_request_refused",
            method=request.method,
            path=request.path[:500],
            status=303,
            detail=reason[:2000],
            remote_addr=remote_addr(),
            data={
                "link_request": decided.id,
                "user_id": decided.user_id,
                "organisation_id": decided.organisation_id,
            },
        )
    )
    db.session.commit()
    flash(_("The request was approved.") if approve else _("The request was refused."), "success")
    return redirect(url_for("link_requests.index")), 303
