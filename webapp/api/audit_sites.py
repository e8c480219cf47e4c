"""GET /audits/{audit_id}/sites: the service sites an audit covers (issue 11) — the audited
organisation's active sites, the `site` choices of the audit plan (R-7.3). Visible to whoever
may see the organisation's case (webapp/access.py, R-11); others get 404."""

from flask import Response, jsonify
from pydantic import BaseModel, Field

from certflow.db import db
from domain.audit.common import active_sites
from domain.models import Audit
from engine.errors import NotFoundError
from webapp import access
from webapp.api.blueprint import bp
from webapp.api.models import MAX_INT32
from webapp.api.openapi import answers, api_spec
from webapp.api.serialize import viewer

ID = f"int(min=1, max={MAX_INT32})"


class AuditSite(BaseModel):
    id: int = Field(description="Site id (the audit plan's `site`).")
    name: str
    address: str
    is_fixed: bool = Field(description="A fixed site; false for a mobile service point.")


class AuditSiteList(BaseModel):
    audit_id: int
    organisation_id: int
    items: list[AuditSite]


@bp.get(f"/audits/<{ID}:audit_id>/sites")
@api_spec.validate(
    resp=answers(200, AuditSiteList, "The sites.", (401, 404)),
    tags=["audits"],
    operation_id="listAuditSites",
    path_parameter_descriptions={"audit_id": "Audit id (in the task data and NC answers)."},
)
def list_audit_sites(audit_id: int) -> Response:
    """The service sites of the audited organisation the audit covers (R-7.3)."""
    audit = db.session.get(Audit, audit_id)
    if audit is None or not access.may_see_case(viewer(), audit.organisation_id):
        raise NotFoundError(f"audit {audit_id} not found")
    sites = active_sites(db.session, audit.organisation_id)
    return jsonify(
        {
            "audit_id": audit.id,
            "organisation_id": audit.organisation_id,
            "items": [
                {"id": s.id, "name": s.name, "address": s.address, "is_fixed": bool(s.is_fixed)}
                for s in sites
            ],
        }
    )
