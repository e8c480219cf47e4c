"""GET /programmes/{programme_id}/revisions: an audit programme's numbered revisions (R-7.1.2 审查
方案的确定和任何后续调整) — why, who, when, what changed — as the case page lists them
(domain/programme_revisions.py). The programme is the certification body's own planning: staff
who may see the organisation's case (webapp/access.py, R-11); others 404, clients 403."""

from typing import Any

from flask import Response, jsonify
from pydantic import BaseModel, Field

from certflow.db import db
from domain.models import AuditProgramme
from domain.programme_revisions import revisions_of
from engine.errors import ForbiddenError, NotFoundError
from webapp import access
from webapp.api.blueprint import bp
from webapp.api.models import MAX_INT32
from webapp.api.openapi import answers, api_spec
from webapp.api.serialize import timestamp, viewer

ID = f"int(min=1, max={MAX_INT32})"


class ProgrammeChange(BaseModel):
    field: str = Field(description="What changed: a programme field, `added`, or an activity's.")
    activity: str | None = Field(description="The activity's kind, for an activity's change.")
    before: Any = None
    after: Any = None


class ProgrammeRevision(BaseModel):
    number: int = Field(description="1 is the programme as established (or first found).")
    reason_kind: str = Field(description="Why: a reason the rule names, or the process's step.")
    reason: str = Field(description="The person's words (empty for the process's revisions).")
    revised_by: str
    revised_at: str = Field(description="ISO 8601, UTC.")
    changes: list[ProgrammeChange]


class ProgrammeRevisionList(BaseModel):
    programme_id: int
    organisation_id: int
    items: list[ProgrammeRevision]


@bp.get(f"/programmes/<{ID}:programme_id>/revisions")
@api_spec.validate(
    resp=answers(200, ProgrammeRevisionList, "The revisions, oldest first.", (401, 403, 404)),
    tags=["audits"],
    operation_id="listProgrammeRevisions",
    path_parameter_descriptions={"programme_id": "Audit programme id (task data programme_id)."},
)
def list_programme_revisions(programme_id: int) -> Response:
    """Every revision of the audit programme (R-7.1.2)."""
    who = viewer()
    if not who.is_staff:  # by role, before any look-up
        raise ForbiddenError("the audit programme is the certification body's own planning")
    programme = db.session.get(AuditProgramme, programme_id)
    if programme is None or not access.may_see_case(who, programme.organisation_id):
        raise NotFoundError(f"programme {programme_id} not found")
    return jsonify(
        {
            "programme_id": programme.id,
            "organisation_id": programme.organisation_id,
            "items": [
                {
                    "number": r.number,
                    "reason_kind": r.reason_kind,
                    "reason": r.reason or "",
                    "revised_by": r.revised_by,
                    "revised_at": timestamp(r.revised_at),
                    "changes": list(r.changes or []),
                }
                for r in revisions_of(db.session, programme.id)
            ],
        }
    )
