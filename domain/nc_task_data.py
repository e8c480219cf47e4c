"""The nonconformities a task works on, as task data (issue 11; R-8.7): the answer task gets
those awaiting the client's answer (`nc_to_answer`), the verification task those awaiting
verification (`nc_to_verify`) — with the id its form's `nc_id` takes and the texts the person
answering needs, so an API integrator reads them from GET /tasks/{id} like the page does."""

from typing import Any

from sqlalchemy.orm import Session

from domain.audit.common import get_audit
from domain.models import Nonconformity
from domain.nonconformity import AWAITING_ANSWER, AWAITING_VERIFICATION, nonconformities_of


def nc_entry(nc: Nonconformity) -> dict[str, Any]:
    return {
        "nc_id": nc.id,
        "number": nc.number,
        "item_code": nc.item_code,
        "description": nc.description,
        "evidence": nc.evidence or "",
        "deadline": nc.deadline.isoformat() if nc.deadline else None,
        "status": nc.status,
        "root_cause": nc.root_cause or "",
        "correction": nc.correction or "",
        "corrective_action": nc.corrective_action or "",
        "verification_note": nc.verification_note or "",
    }


def to_answer(session: Session, audit_id: Any) -> list[dict[str, Any]]:
    """The audit's NCs awaiting the client's answer (open, confirmed, sent back)."""
    audit = get_audit(session, audit_id)
    return [nc_entry(nc) for nc in nonconformities_of(session, audit, AWAITING_ANSWER)]


def to_verify(session: Session, audit_id: Any) -> list[dict[str, Any]]:
    """The audit's NCs answered and awaiting the team leader's verification."""
    audit = get_audit(session, audit_id)
    return [nc_entry(nc) for nc in nonconformities_of(session, audit, AWAITING_VERIFICATION)]
