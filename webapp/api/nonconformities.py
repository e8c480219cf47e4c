"""GET /nonconformities…: a case's nonconformities as a resource (issue 11, R-8.7).

Their ids are what the answer and verification forms take as `nc_id` (those forms' `nc_id`
fields also list them as choices, `oneOf` in the task's form_schema). Who sees a nonconformity:
whoever may see its audit's organisation's case (webapp/access.py, R-11) — a client its own
organisation's (the NC report is addressed to it, R-8.7); others get 404 or an empty list.
"""

from typing import Any

from flask import Response, jsonify
from sqlalchemy import ColumnElement, func, or_, select

from certflow.db import db
from domain.models import Application, Audit, Certificate, Nonconformity, Organisation
from domain.nonconformity import AWAITING_ANSWER, AWAITING_VERIFICATION
from engine.errors import NotFoundError
from webapp import access
from webapp.api import nonconformity_models as ncm
from webapp.api.blueprint import bp
from webapp.api.models import MAX_INT32
from webapp.api.openapi import answers, api_spec
from webapp.api.parsing import query
from webapp.api.serialize import timestamp, viewer

ID = f"int(min=1, max={MAX_INT32})"
AWAITING = {"answer": AWAITING_ANSWER, "verification": AWAITING_VERIFICATION}


def visible_clause(who: access.Viewer) -> ColumnElement[bool]:
    """SQL condition on Audit: the viewer may see the audited organisation's case (R-11)."""
    cases = select(Organisation.id).where(access.case_visible_clause(who))
    return Audit.organisation_id.in_(cases)


def _rows(*conditions: ColumnElement[bool]) -> list[tuple]:
    return list(
        db.session.execute(
            select(Nonconformity, Audit, Application.number, Certificate.number)
            .join(Audit, Audit.id == Nonconformity.audit_id)
            .outerjoin(Application, Application.id == Audit.application_id)
            .outerjoin(Certificate, Certificate.id == Audit.certificate_id)
            .where(visible_clause(viewer()), *conditions)
            .order_by(Audit.id, Nonconformity.number, Nonconformity.id)
        ).all()
    )


def nc_json(nc: Nonconformity, audit: Audit, application: str | None, certificate: str | None):
    return {
        "id": nc.id,
        "number": nc.number,
        "audit_id": audit.id,
        "audit_kind": audit.kind,
        "application_number": application,
        "certificate_number": certificate,
        "item_code": nc.item_code,
        "description": nc.description,
        "evidence": nc.evidence or "",
        "deadline": nc.deadline.isoformat() if nc.deadline else None,
        "status": nc.status,
        "confirmed_at": timestamp(nc.confirmed_at),
        "root_cause": nc.root_cause or "",
        "correction": nc.correction or "",
        "corrective_action": nc.corrective_action or "",
        "answered_at": timestamp(nc.answered_at),
        "rounds": nc.rounds or 0,
        "verification_method": nc.verification_method,
        "verification_note": nc.verification_note or "",
        "verified_at": timestamp(nc.verified_at),
    }


def _upper(text: str) -> str:
    return "".join(text.split()).upper()


@bp.get("/nonconformities")
@api_spec.validate(
    query=ncm.NonconformityQuery,
    resp=answers(200, ncm.NonconformityList, "The nonconformities.", (401,)),
    tags=["nonconformities"],
    operation_id="listNonconformities",
)
def list_nonconformities() -> Response:
    """Nonconformities of the cases the user may see, filtered by application, certificate,
    audit, status or what they await (R-8.7)."""
    filters: ncm.NonconformityQuery = query()
    conditions: list[Any] = []
    if filters.application is not None:
        conditions.append(func.upper(Application.number) == _upper(filters.application))
    if filters.certificate is not None:
        # Surveillance/special audits name the certificate; the initial audit its application.
        by_cycle = select(Certificate.application_id).where(
            func.upper(Certificate.number) == _upper(filters.certificate)
        )
        conditions.append(
            or_(
                func.upper(Certificate.number) == _upper(filters.certificate),
                Audit.application_id.in_(by_cycle),
            )
        )
    if filters.audit is not None:
        conditions.append(Audit.id == filters.audit)
    if filters.status is not None:
        conditions.append(Nonconformity.status == filters.status)
    if filters.awaiting is not None:
        conditions.append(Nonconformity.status.in_(AWAITING[filters.awaiting]))
    return jsonify({"items": [nc_json(*row) for row in _rows(*conditions)]})


@bp.get(f"/nonconformities/<{ID}:nc_id>")
@api_spec.validate(
    resp=answers(200, ncm.Nonconformity, "The nonconformity.", (401, 404)),
    tags=["nonconformities"],
    operation_id="getNonconformity",
    path_parameter_descriptions={"nc_id": "Nonconformity id (the forms' `nc_id`)."},
)
def get_nonconformity(nc_id: int) -> Response:
    """One nonconformity with its answer and verification (R-8.7)."""
    rows = _rows(Nonconformity.id == nc_id)
    if not rows:
        raise NotFoundError(f"nonconformity {nc_id} not found")
    return jsonify(nc_json(*rows[0]))
