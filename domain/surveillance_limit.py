"""What the latest date of a routine surveillance limits (R-7.1.3, R-8.10.1, decision in
docs/decisions.md): the rule times the audit — 第一次监督审查应在获证后12个月内进行 — not the
client's corrections afterwards, which have their own deadlines and overdue escalation (R-8.7,
R-8.10.3(2)). So at the latest date only a surveillance whose on-site audit was not yet
conducted (closing meeting held: the audit is `completed`) is overdue and suspends (R-9.5.1a)."""

from typing import Any

from sqlalchemy.orm import Session

from domain.certificates import get_certificate
from domain.models import Audit
from domain.surveillance import programme_of, routine_activity, routine_number


def audit_conducted(session: Session, *, certificate_id: Any, surveillance_number: Any) -> dict:
    """R-8.10.1: whether routine surveillance `surveillance_number` of the certificate's cycle
    was conducted — its on-site audit completed; the corrections may still run."""
    certificate = get_certificate(session, certificate_id)
    number = routine_number(surveillance_number)
    try:
        activity = routine_activity(session, programme_of(session, certificate), number)
    except LookupError:
        return {"conducted": False, "audit_id": None, "onsite_end": None}
    audit = session.get(Audit, activity.audit_id) if activity.audit_id is not None else None
    conducted = audit is not None and audit.status == "completed"
    return {
        "conducted": conducted,
        "audit_id": audit.id if audit is not None else None,
        "onsite_end": audit.end_date.isoformat() if conducted and audit.end_date else None,
    }
