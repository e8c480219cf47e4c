"""The auditor register through the API (issue 11 "People"; issue 15, R-7.2.2 由人力资源部评价):
hr and admin register auditors and technical experts, record evaluations and renew
registrations — the rules of domain/auditor_register.py. An allowlist: MANAGE_AUDITORS (hr,
admin); everyone else 403. A rule broken → 422 with the field and the rule; two renewals on
the same evaluation at once → one wins, 409 for the other.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Response, jsonify
from sqlalchemy.orm import Session

from certflow.dates import china_date
from certflow.db import db
from domain import auditor_register as register
from domain.models import Auditor
from domain.models_people import AuditorEvent
from engine.errors import ForbiddenError, NotFoundError
from webapp.access import AUDITOR_REGISTER_ROLES
from webapp.api import people_models as pm
from webapp.api.auth import ApiError
from webapp.api.blueprint import bp
from webapp.api.models import MAX_INT32
from webapp.api.openapi import answers, api_spec
from webapp.api.parsing import body, query
from webapp.api.routes import checked_first
from webapp.api.serialize import timestamp, viewer
from webapp.runtime import get_clock

ID = f"int(min=1, max={MAX_INT32})"
RULES = "a rule of the register is broken; the field errors name the field and the rule (R-7.2.2)"


@dataclass
class _Act:
    session: Session
    now: datetime
    actor: str


def _hr() -> _Act:
    who = viewer()
    if who.roles.isdisjoint(AUDITOR_REGISTER_ROLES):  # the allowlist of webapp/access.py
        raise ForbiddenError("the auditor register needs the role hr or admin")
    return _Act(db.session, get_clock().now(), who.username)


def event_json(event: AuditorEvent | None) -> dict[str, Any] | None:
    if event is None:
        return None
    return {
        "id": event.id,
        "kind": event.kind,
        "on_date": event.on_date.isoformat(),
        "result": event.result,
        "evaluator": event.evaluator,
        "note": event.note,
        "expires_before": event.expires_before.isoformat() if event.expires_before else None,
        "expires_after": event.expires_after.isoformat() if event.expires_after else None,
        "evaluation_id": event.evaluation_id,
        "recorded_by": event.recorded_by,
        "recorded_at": timestamp(event.recorded_at),
    }


def auditor_json(auditor: Auditor, *, history: bool = False) -> dict[str, Any]:
    today = china_date(get_clock().now())
    expires = auditor.registration_expires_on
    answer = {
        "id": auditor.id,
        "name": auditor.name,
        "username": auditor.user.username if auditor.user else None,
        "is_technical_expert": bool(auditor.is_technical_expert),
        "registration_number": auditor.registration_number,
        "registration_expires_on": expires.isoformat() if expires else None,
        "registration_valid": bool(expires and auditor.registration_number and expires >= today),
        "level": auditor.level,
        "team_leader_qualified": bool(auditor.team_leader_qualified),
        "fields": list(auditor.fields or []),
        "languages": list(auditor.languages or []),
        "latest_evaluation": event_json(register.latest_evaluation(auditor)),
        "renewal_refused": register.renewal_refusal(auditor),
    }
    if history:
        answer["history"] = [event_json(e) for e in auditor.events]
    return answer


def _auditor(auditor_id: int) -> Auditor:
    try:
        return register.get_auditor(db.session, auditor_id)
    except LookupError as err:
        raise NotFoundError(str(err)) from None


def _recorded(work) -> Any:
    try:
        return work()
    except register.RegisterProblems as refused:
        db.session.rollback()
        raise ApiError(422, "the register refuses this (R-7.2.2)", errors=refused.errors) from None


@bp.get("/auditors")
@checked_first(_hr)
@api_spec.validate(
    query=pm.AuditorQuery,
    resp=answers(200, pm.AuditorList, "The register, by name.", (401, 403)),
    tags=["people"],
    operation_id="listAuditors",
)
def list_auditors() -> Response:
    """Auditors and technical experts of the register (hr, admin); `expiring=true`: the
    registrations lapsed or ending within 90 days (R-7.2.2)."""
    act = _hr()
    filters: pm.AuditorQuery = query()
    if filters.expiring == "true":
        found = register.expiring(act.session, china_date(act.now))
    else:
        found = register.all_auditors(act.session)
    return jsonify({"items": [auditor_json(a) for a in found]})


@bp.post("/auditors")
@checked_first(_hr)
@api_spec.validate(
    json=pm.RegisterAuditor,
    resp=answers(201, pm.AuditorDetail, "Registered.", (401, 403, 409, 413), unprocessable=RULES),
    tags=["people"],
    operation_id="registerAuditor",
)
def register_auditor() -> tuple[Response, int]:
    """Register an auditor (registration, validity, level, fields, leader qualification,
    languages) or a technical expert (R-7.2.2, R-7.2.4)."""
    act = _hr()
    given: pm.RegisterAuditor = body()
    record = register.AuditorRecord(**given.model_dump())
    auditor = _recorded(lambda: register.register_auditor(act, record))
    db.session.commit()
    return jsonify(auditor_json(auditor, history=True)), 201


@bp.get(f"/auditors/<{ID}:auditor_id>")
@checked_first(_hr)
@api_spec.validate(
    resp=answers(200, pm.AuditorDetail, "The record and its history.", (401, 403, 404)),
    tags=["people"],
    operation_id="getAuditor",
    path_parameter_descriptions={"auditor_id": "Auditor id (the team forms' auditor_id)."},
)
def get_auditor(auditor_id: int) -> Response:
    """One auditor's record with its history: registration, evaluations, renewals."""
    _hr()
    return jsonify(auditor_json(_auditor(auditor_id), history=True))


@bp.post(f"/auditors/<{ID}:auditor_id>/evaluations")
@checked_first(_hr)
@api_spec.validate(
    json=pm.RecordEvaluation,
    resp=answers(
        201, pm.AuditorDetail, "Recorded.", (401, 403, 404, 409, 413), unprocessable=RULES
    ),
    tags=["people"],
    operation_id="recordAuditorEvaluation",
    path_parameter_descriptions={"auditor_id": "Auditor id."},
)
def record_evaluation(auditor_id: int) -> tuple[Response, int]:
    """Record HR's evaluation of qualification and competence (R-7.2.2); it may update the
    fields, leader qualification and languages found. `not_qualified` bars appointment."""
    act = _hr()
    auditor = _auditor(auditor_id)
    given: pm.RecordEvaluation = body()
    evaluation = register.Evaluation(**given.model_dump())
    _recorded(lambda: register.record_evaluation(act, auditor.id, evaluation))
    db.session.commit()
    return jsonify(auditor_json(auditor, history=True)), 201


@bp.post(f"/auditors/<{ID}:auditor_id>/renewals")
@checked_first(_hr)
@api_spec.validate(
    json=pm.RenewRegistration,
    resp=answers(201, pm.AuditorDetail, "Renewed.", (401, 403, 404, 409, 413), unprocessable=RULES),
    tags=["people"],
    operation_id="renewAuditorRegistration",
    path_parameter_descriptions={"auditor_id": "Auditor id."},
)
def renew_registration(auditor_id: int) -> tuple[Response, int]:
    """Extend the registration on the latest evaluation, which must be positive and not used
    for a renewal yet (R-7.2.2); refused (422, field `evaluation`) otherwise."""
    act = _hr()
    auditor = _auditor(auditor_id)
    given: pm.RenewRegistration = body()
    _recorded(
        lambda: register.renew_registration(
            act,
            auditor.id,
            expires_on=given.expires_on,
            registration_number=given.registration_number,
        )
    )
    db.session.commit()
    return jsonify(auditor_json(auditor, history=True)), 201
