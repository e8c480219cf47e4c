"""Complaints and appeals on the web (R-12, R-11): the public form, the public status lookup and the
registration by a client in its portal or by complaints staff.

* `GET/POST /complaints/new` — public, no sign-in, CSRF-protected. At most COMPLAINT_RATE_LIMIT
  (5) submissions per address within COMPLAINT_RATE_WINDOW_MINUTES (60), wall-clock time like the
  sign-in throttling; beyond it 429. Each submission takes its place in the address's counter
  atomically before it is registered (webapp/throttle.py, shared by all app processes), so a burst
  cannot slip past the limit; an invalid or failed submission gives its place back. Invalid input
  → 422 with the field errors, the values kept. On success the complaint is registered
  (`handlers.complaints.register_complaint`, channel `public`) and the `complaint` process started
  as the system, in one transaction; then 303 to `/complaints/received?reference=…`, which shows
  the reference and the acknowledgement (id="complaint-reference"), so a reload sends nothing.
* `GET /complaints/status?reference=…` — public: the status (received / under investigation /
  answered) and the dates, nothing else (no names, texts, handler, findings or follow-up, R-11).
  Unknown or malformed references → 404.
* `GET/POST /complaints/register` — signed in, roles client or complaints. A client (channel
  `portal`) complains about the CB or appeals, for its own organisation (a certificate number it
  names must be one of its organisation's); the process is started as the system so that the
  case stays invisible to the client. Complaints staff (channel `staff`) register any kind and
  start the process themselves.

Stable ids for browser tests: form id="complaint-form", result id="complaint-reference", status
id="complaint-status" (with data-status).
"""

from datetime import timedelta
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from certflow.dates import china_date
from certflow.db import db, is_conflict
from domain.complaints import (
    KINDS,
    MAX_LENGTHS,
    ComplaintInputError,
    find_by_reference,
    validate_registration,
)
from domain.models import Certificate, Organisation
from engine.errors import ConflictError, EngineError
from engine.service import SYSTEM, Actor
from handlers.complaints import public_status, register_complaint
from webapp import throttle
from webapp.auth import current_viewer, log_access, remote_addr, roles_required, wall_clock
from webapp.layout import nav_item
from webapp.runtime import get_clock, get_engine, get_settings

bp = Blueprint("complaints", __name__, url_prefix="/complaints")

FIELDS = (
    "kind",
    "certificate_number",
    "complainant_name",
    "complainant_contact",
    "subject",
    "description",
)
CLIENT_KINDS = ("about_cb", "appeal")  # a client complains about the CB or appeals
SUBMITTED_EVENT = "complaint_submitted"
REGISTER_ATTEMPTS = 3  # a busy database (SQLite's single writer) is tried again

KIND_LABELS = {
    "about_client": lazy_gettext("The after-sales service of a certified organisation"),
    "about_cb": lazy_gettext("The certification body or its auditors"),
    "appeal": lazy_gettext("Appeal against a decision of the certification body"),
}
STATUS_LABELS = {
    "received": lazy_gettext("Received"),
    "investigating": lazy_gettext("Under investigation"),
    "answered": lazy_gettext("Answered"),
}


@bp.record_once
def _navigation(state) -> None:
    nav_item(
        "complaints.register",
        lazy_gettext("Complaints and appeals"),
        roles={"client", "complaints"},
        order=60,
    )


# -- helpers --------------------------------------------------------------------------------------
def _rate_bucket() -> str:
    return throttle.bucket("complaint-addr", remote_addr())


def take_submission_slot() -> throttle.Taken:
    """Count this public submission for its address (atomically, before registering it)."""
    settings = get_settings()
    window = timedelta(minutes=settings.complaint_rate_window_minutes)
    limit = settings.complaint_rate_limit
    taken = throttle.take(_rate_bucket(), limit, window, wall_clock())
    if not taken.allowed:
        throttle.give_back(_rate_bucket())  # refused submissions do not count
    return taken


def _error_message(code: str, field: str) -> str:
    if code == "required":
        return _("This field is required.")
    if code == "too_long":
        return _(
            "Please shorten this text to at most %(limit)d characters.",
            limit=MAX_LENGTHS.get(field, 0),
        )
    if code == "choice":
        return _("Choose one of the options.")
    if code == "certificate_required":
        return _("A complaint about a certified organisation needs its certificate number.")
    if code == "unknown_certificate":
        return _("There is no certificate with this number.")
    if code == "other_organisation":
        return _("This certificate is not one of your organisation's.")
    return code


def _messages(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    return {
        field: [_error_message(code, field) for code in codes] for field, codes in errors.items()
    }


def _submitted_values() -> dict[str, str]:
    values = {}
    for name in FIELDS:
        value = request.form.get(name, "")
        values[name] = value.replace("\x00", "")[:10000]
    return values


def _register(
    values: dict[str, str],
    *,
    channel: str,
    kinds: tuple[str, ...],
    starter: Actor,
    registrar: str,
    organisation_id: int | None = None,
) -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
    """Validate, register and start the process in one transaction: (the facts for the page,
    {}) or (None, field error codes). EngineError propagates (the transaction is rolled back)."""
    errors = validate_registration(
        db.session,
        kind=values["kind"],
        complainant_name=values["complainant_name"],
        complainant_contact=values["complainant_contact"],
        subject=values["subject"],
        description=values["description"],
        certificate_number=values["certificate_number"],
        organisation_id=organisation_id,
        kinds=kinds,
        own_organisation=channel == "portal",
    )
    if errors:
        return None, errors
    for attempt in range(REGISTER_ATTEMPTS):
        try:
            complaint = register_complaint(
                db.session,
                kind=values["kind"],
                channel=channel,
                complainant_name=values["complainant_name"],
                complainant_contact=values["complainant_contact"],
                subject=values["subject"],
                description=values["description"],
                certificate_number=values["certificate_number"] or None,
                actor=registrar,
                now=get_clock().now(),
                organisation_id=organisation_id,
            )
            facts = {
                "reference": complaint.reference,
                "received_on": china_date(complaint.received_at),
                "reply_due_on": complaint.reply_due_on,
            }
            # The one commit of this unit of work: `start` is an engine operation, one
            # transaction that commits the registration above with the new instance or rolls
            # both back (tests/complaints/test_web_complaints.py::
            # test_registration_and_process_start_are_one_transaction). Nothing here commits
            # on its own.
            get_engine().start(
                "complaint",
                actor=starter,
                data={"complaint_id": complaint.id},
                business_key=complaint.reference,
            )
            return facts, {}
        except ComplaintInputError as err:
            db.session.rollback()
            return None, err.errors
        except (ConflictError, DBAPIError) as err:
            db.session.rollback()
            # SQLite's single writer refuses a transaction whose snapshot went stale: try again
            # with a fresh one. Anything else, or the last attempt, goes up (409 or 500).
            if attempt == REGISTER_ATTEMPTS - 1 or not (
                isinstance(err, ConflictError) or is_conflict(err)
            ):
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _failure(err: BaseException, what: str):
    """An engine failure is our problem (503 page); conflicts (409) and anything else are
    answered by the app-wide handlers (webapp/conflicts.py)."""
    if isinstance(err, EngineError) and not isinstance(err, ConflictError):
        current_app.logger.exception(what)
        return _failed_page()
    raise err


def _failed_page():
    db.session.rollback()
    return (
        render_template(
            "complaints/notice.html",
            title=_("Your submission could not be registered"),
            message=_("Something went wrong on our side. Please try again later."),
        ),
        503,
    )


def _form_page(template: str, status: int = 200, **context: Any):
    context.setdefault("errors", {})
    context.setdefault("kinds", KINDS)
    return render_template(
        template,
        kind_labels=KIND_LABELS,
        max_lengths=MAX_LENGTHS,
        **context,
    ), status


# -- public form ----------------------------------------------------------------------------------
@bp.route("/new", methods=["GET", "POST"])
def new():
    if request.method == "GET":
        return _form_page("complaints/new.html", values=dict.fromkeys(FIELDS, ""))
    slot = take_submission_slot()
    if not slot.allowed:
        log_access("complaint_throttled", status=429)
        response = render_template(
            "complaints/notice.html",
            title=_("Too many submissions"),
            message=_(
                "Too many complaints were sent from your network in the last hour. "
                "Please try again later or contact us by phone or letter."
            ),
        )
        return response, 429, {"Retry-After": str(slot.retry_after)}
    values = _submitted_values()
    try:
        facts, errors = _register(
            values, channel="public", kinds=KINDS, starter=SYSTEM, registrar=SYSTEM.username
        )
    except BaseException as err:
        throttle.give_back(_rate_bucket())  # nothing was registered: the place is free again
        return _failure(err, "a public complaint could not be registered")
    if errors:
        throttle.give_back(_rate_bucket())
        return _form_page("complaints/new.html", 422, values=values, errors=_messages(errors))
    log_access(SUBMITTED_EVENT, status=200, data={"reference": facts["reference"]})
    return _to_receipt(facts["reference"])


# -- the receipt (POST/redirect/GET: reloading it registers nothing again, issue 10) -------------
def _to_receipt(reference: str):
    return redirect(url_for("complaints.received", reference=reference), code=303)


@bp.get("/received")
def received():
    """The acknowledgement after a submission: the reference and the same dates as the public
    status lookup (R-11: nothing else of the complaint)."""
    complaint = find_by_reference(db.session, request.args.get("reference", "")[:100])
    if complaint is None:
        return render_template("complaints/status.html", reference="", view=None), 404
    signed_in = getattr(current_user, "is_authenticated", False)
    return render_template(
        "complaints/submitted.html",
        public=not signed_in,
        staff=signed_in and "complaints" in current_viewer().roles,
        reference=complaint.reference,
        received_on=china_date(complaint.received_at),
        reply_due_on=complaint.reply_due_on,
    )


# -- public status --------------------------------------------------------------------------------
@bp.get("/status")
def status():
    reference = request.args.get("reference", "")[:100]
    if not reference.strip():
        return render_template("complaints/status.html", reference="", view=None)
    complaint = find_by_reference(db.session, reference)
    if complaint is None:
        return render_template("complaints/status.html", reference=reference, view=None), 404
    state = public_status(db.session, complaint)
    view = {
        "reference": complaint.reference,
        "status": state,
        "status_label": STATUS_LABELS[state],
        "received_on": china_date(complaint.received_at),
        "reply_due_on": complaint.reply_due_on,
        "answered_on": china_date(complaint.answered_at) if complaint.answered_at else None,
    }
    return render_template("complaints/status.html", reference=complaint.reference, view=view)


# -- client portal and staff registration ---------------------------------------------------------
def _client_defaults(organisation_id: int | None) -> dict[str, str]:
    values = dict.fromkeys(FIELDS, "")
    values["complainant_name"] = current_user.display_name or current_user.username
    organisation = db.session.get(Organisation, organisation_id) if organisation_id else None
    if organisation is not None:
        values["complainant_contact"] = " ".join(
            filter(None, [organisation.contact_email, organisation.contact_phone])
        )
        held = db.session.scalars(
            select(Certificate.number)
            .where(
                Certificate.organisation_id == organisation.id,
                Certificate.status.in_(("valid", "suspended")),
            )
            .order_by(Certificate.id.desc())
        ).all()
        if len(held) == 1:
            values["certificate_number"] = held[0]
    return values


@bp.route("/register", methods=["GET", "POST"])
@roles_required("client", "complaints")
def register():
    viewer = current_viewer()
    staff = "complaints" in viewer.roles
    organisation_id = None if staff else viewer.organisation_id
    organisation = db.session.get(Organisation, organisation_id) if organisation_id else None
    kinds = KINDS if staff else CLIENT_KINDS
    context = {"staff": staff, "organisation": organisation, "kinds": kinds}
    if request.method == "GET":
        values = dict.fromkeys(FIELDS, "") if staff else _client_defaults(organisation_id)
        return _form_page("complaints/register.html", values=values, **context)
    values = _submitted_values()
    try:
        facts, errors = _register(
            values,
            channel="staff" if staff else "portal",
            kinds=kinds,
            # The client's complaint is started by the system: the case stays invisible to it.
            starter=viewer.actor if staff else SYSTEM,
            registrar=viewer.username,
            organisation_id=organisation_id,
        )
    except BaseException as err:
        return _failure(err, "a complaint could not be registered")
    if errors:
        return _form_page(
            "complaints/register.html", 422, values=values, errors=_messages(errors), **context
        )
    return _to_receipt(facts["reference"])
