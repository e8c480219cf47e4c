"""Complaints and appeals through the API (issue 11; R-12, R-11) — the web's registration
(webapp/complaints.py `_register`: validation, registration and the `complaint` process start in
one transaction) behind three doors:

* `POST /complaints` — a client (channel `portal`: about the CB or an appeal, for its own
  organisation; the process is started by the system so the case stays invisible to it) or
  complaints staff (channel `staff`: any kind). Other roles: 403.
* `POST /complaints/public` — no token; the web form's rate limit, in the same per-address
  counter (webapp/throttle.py): beyond it 429 with Retry-After.
* `GET /complaints/{reference}/status` — no token, as the web's status lookup: the status and dates
  only (no names, texts, handler or findings, R-11), and `overdue`: not answered and the 30 days
  from receipt (R-12) are over — whatever the state, waiting for a handler included.
"""

from datetime import date
from typing import Any, Literal

from flask import Response, jsonify
from pydantic import BaseModel, Field
from spectree import Response as Answers

from certflow.dates import china_date
from certflow.db import db
from domain.complaints import KINDS, find_by_reference
from domain.models_cases import Complaint
from engine.errors import ConflictError, EngineError, ForbiddenError, NotFoundError
from engine.service import SYSTEM
from handlers.complaints import public_status
from webapp import complaints as web_complaints
from webapp import throttle
from webapp.api import responses
from webapp.api.auth import ApiError, public
from webapp.api.blueprint import bp
from webapp.api.models import RegisterComplaint
from webapp.api.openapi import ERRORS, api_spec
from webapp.api.parsing import body
from webapp.api.serialize import viewer
from webapp.runtime import get_clock

REFERENCE = "string(maxlength=40)"
# Field error codes of domain.complaints.validate_registration, in the API's words.
RULES = {
    "required": "required",
    "too_long": "too long",
    "choice": "not one of the kinds you may register",
    "certificate_required": "a complaint about a certified organisation names its certificate",
    "unknown_certificate": "no certificate has this number",
    "other_organisation": "not a certificate of your organisation (R-11)",
}


class ComplaintStatus(BaseModel):
    reference: str = Field(description="e.g. TS-2026-0001; the key of the status lookup.")
    status: Literal["received", "investigating", "answered"]
    received_on: date
    reply_due_on: date = Field(description="30 days from receipt (R-12).")
    answered_on: date | None
    overdue: bool = Field(
        description="Not answered and the reply is due before today (China date), whatever "
        "the state — also while it waits for a handler."
    )


def _answers(status: int, description: str, errors: tuple[int, ...], extra: dict) -> Answers:
    codes: dict[str, Any] = {f"HTTP_{status}": (ComplaintStatus, description)}
    for code in errors:
        codes[f"HTTP_{code}"] = ERRORS[code]
    return Answers(**codes, **extra)


UNPROCESSABLE = {
    "HTTP_422": (
        responses.ValidationError,
        "Malformed JSON or a body of the wrong shape (NUL characters included); or a field "
        "breaks a registration rule: a kind the caller may not register, an unknown "
        "certificate, a certificate of another organisation (R-11), no certificate for "
        "about_client.",
    )
}
THROTTLED = {
    "HTTP_429": (
        responses.Error,
        "Too many complaints from this address within the window (as the web form); the "
        "Retry-After header gives the seconds to wait.",
    )
}


def status_json(complaint: Complaint) -> dict[str, Any]:
    today = china_date(get_clock().now())
    state = public_status(db.session, complaint)
    return {
        "reference": complaint.reference,
        "status": state,
        "received_on": china_date(complaint.received_at).isoformat(),
        "reply_due_on": complaint.reply_due_on.isoformat(),
        "answered_on": china_date(complaint.answered_at).isoformat()
        if complaint.answered_at
        else None,
        "overdue": state != "answered" and today > complaint.reply_due_on,
    }


def _registered(values: dict[str, str], **how: Any) -> dict[str, Any]:
    """Register through the web's one path; field rule breaches → 422, nothing stored."""
    try:
        facts, errors = web_complaints._register(values, **how)
    except ConflictError:
        raise
    except EngineError as err:  # e.g. the complaint process is not deployed: our problem
        db.session.rollback()
        raise ApiError(503, "the complaint could not be registered; try again later") from err
    if errors:
        rules = {field: [RULES.get(c, c) for c in codes] for field, codes in errors.items()}
        raise ApiError(422, "the complaint breaks a registration rule", errors=rules)
    complaint = find_by_reference(db.session, facts["reference"])
    assert complaint is not None
    return status_json(complaint)


def _values(request_body: RegisterComplaint) -> dict[str, str]:
    values = request_body.model_dump()
    values["certificate_number"] = values["certificate_number"] or ""
    return values


@bp.post("/complaints")
@api_spec.validate(
    json=RegisterComplaint,
    resp=_answers(201, "Registered.", (401, 403, 409, 413), UNPROCESSABLE),
    tags=["complaints"],
    operation_id="registerComplaint",
)
def register_complaint() -> tuple[Response, int]:
    """Register a complaint or appeal: a client for its own organisation (about_cb, appeal),
    complaints staff any kind (R-12)."""
    who = viewer()
    staff = "complaints" in who.roles
    if not staff and "client" not in who.roles:
        raise ForbiddenError("registering a complaint needs the role client or complaints")
    answer = _registered(
        _values(body()),
        channel="staff" if staff else "portal",
        kinds=KINDS if staff else web_complaints.CLIENT_KINDS,
        starter=who.actor if staff else SYSTEM,
        registrar=who.username,
        organisation_id=None if staff else who.organisation_id,
    )
    return jsonify(answer), 201


@bp.post("/complaints/public")
@public
@api_spec.validate(
    json=RegisterComplaint,
    resp=_answers(201, "Registered.", (409, 413), {**UNPROCESSABLE, **THROTTLED}),
    tags=["complaints"],
    operation_id="submitPublicComplaint",
    security={},
)
def submit_public_complaint() -> tuple[Response, int]:
    """Lodge a complaint or appeal without an account, as the public web form does (R-12)."""
    slot = web_complaints.take_submission_slot()
    if not slot.allowed:
        raise ApiError(
            429,
            "too many complaints from this address; try again later",
            headers={"Retry-After": str(slot.retry_after)},
        )
    try:
        answer = _registered(
            _values(body()),
            channel="public",
            kinds=KINDS,
            starter=SYSTEM,
            registrar=SYSTEM.username,
        )
    except BaseException:
        throttle.give_back(web_complaints._rate_bucket())  # nothing registered: not counted
        raise
    return jsonify(answer), 201


@bp.get(f"/complaints/<{REFERENCE}:reference>/status")
@public
@api_spec.validate(
    resp=_answers(200, "The status.", (404,), {}),
    tags=["complaints"],
    operation_id="getComplaintStatus",
    path_parameter_descriptions={"reference": "The complaint's reference, e.g. TS-2026-0001."},
    security={},
)
def complaint_status(reference: str) -> Response:
    """A complaint's status and dates by its reference, as the public status page (R-11)."""
    complaint = None if "\x00" in reference else find_by_reference(db.session, reference)
    if complaint is None:
        raise NotFoundError("no complaint with this reference")
    return jsonify(status_json(complaint))
