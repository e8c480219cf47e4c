"""An early recertification agreed in a surveillance cycle, remembered for the cycle's normal
recertification time (R-8.11; issue 11, docs/decisions.md "Early recertification and the
normal window").

R-8.11's last paragraph lets the body agree with the client an early recertification on a major
change. That recertification runs the initial procedure and carries the certificate's expiry
(R-9.5.3b); its new certificate ends the old cycle. Until then the old cycle still waits for its
normal recertification time (3 months before expiry): when it comes, no second recertification
may start. The agreement is therefore a certificate event (`early_recertification_agreed`, in
the history) that the cycle reads at that time.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.certificates import get_certificate, record_event, reissued_as
from domain.checks import optional_text
from domain.models import Certificate, CertificateEvent

AGREED = "early_recertification_agreed"


def _cycle_chain(session: Session, first: Certificate) -> list[int]:
    """The ids of the cycle's certificates: its first and every reissue of it (R-9.3)."""
    ids, certificate = [first.id], first
    while (successor := reissued_as(session, certificate)) is not None and successor.id not in ids:
        ids.append(successor.id)
        certificate = successor
    return ids


def record_agreed(
    session: Session, *, certificate_id: Any, note: Any, actor: str, now: datetime
) -> dict:
    """R-8.11: the early recertification agreed with the client, in the current certificate's
    history."""
    chain = _cycle_chain(session, get_certificate(session, certificate_id))
    current = session.get(Certificate, chain[-1])
    note = optional_text(note)
    record_event(
        session,
        current,
        event=AGREED,
        rule="R-8.11",
        actor=actor,
        now=now,
        status_before=current.status,
        reason=note or "与获证组织商定提前再认证 early recertification agreed with the client",
        data={"note": note},
    )
    return {"certificate_number": current.number}


def agreed_in_cycle(session: Session, *, certificate_id: Any) -> dict:
    """Whether an early recertification was agreed in the cycle of `certificate_id` (its first
    certificate): then the normal recertification time starts none (R-8.11)."""
    chain = _cycle_chain(session, get_certificate(session, certificate_id))
    event = session.scalars(
        select(CertificateEvent)
        .where(CertificateEvent.certificate_id.in_(chain), CertificateEvent.event == AGREED)
        .order_by(CertificateEvent.id)
        .limit(1)
    ).first()
    return {"agreed": event is not None, "on": event.effective_on.isoformat() if event else None}
