"""A further suspension reason while the certificate is already suspended (R-9.5.1; issue 11,
docs/decisions.md "A second suspension while suspended").

R-9.5.1 knows one suspension of a certificate at a time — at most 6 months, one correction
deadline, verified once, then restored or withdrawn. A new cause (another case of R-9.5.1 a–e,
e.g. a surveillance passing its latest date during a suspension for a complaint) therefore does
not start a second suspension: it is recorded on the open one (event `suspension_reason_added`,
the rule of its case), which keeps its deadlines — the 6 months are never extended — and whose
verification must now cover it too. A full suspension asked for while only some sites are
suspended widens it to the whole certificate (mark use stops, R-10.1; published, R-14); more
sites widen it to them. A suspension the surveillance cycle asked for (`surveillance_number`)
is remembered so that the restoration tells the waiting cycle to catch up (R-9.1).
"""

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from certflow.dates import china_date
from domain.certificates import SUSPENSION_REASONS, reason_label, record_event, suspension_rule
from domain.models import Certificate, CertificateEvent

REASON_ADDED = "suspension_reason_added"


def widened_sites(open_sites: list[int], new_sites: list[int]) -> list[int]:
    """The suspended sites after a further reason: [] (full) if either is full, else both."""
    if not open_sites or not new_sites:
        return []
    return sorted(set(open_sites) | set(new_sites))


def add_reason(
    session: Session,
    certificate: Certificate,
    suspension: CertificateEvent | None,
    *,
    reason: str,
    sites: list[int],
    detail: str | None,
    surveillance_number: Any,
    actor: str,
    now: datetime,
) -> dict:
    """Record `reason` on the open suspension of `certificate` (status suspended); returns the
    open suspension's deadlines with `joined` = True."""
    before = list(certificate.suspended_sites or [])
    after = widened_sites(before, sites)
    widened = after != before
    if widened:
        certificate.suspended_sites = after
        certificate.mark_use_allowed = bool(after)  # a full suspension stops all use
    rule = suspension_rule(reason)
    record_event(
        session,
        certificate,
        event=REASON_ADDED,
        rule=rule,
        actor=actor,
        now=now,
        status_before=certificate.status,
        reason=detail or reason_label(SUSPENSION_REASONS, reason),
        sites=sites,
        data={
            "reason": reason,
            "detail": detail,
            "sites_before": before,
            "sites_after": after,
            "surveillance_number": surveillance_number,
            "suspension_event_id": suspension.id if suspension else None,
        },
    )
    opened = (suspension.data or {}) if suspension else {}
    return {
        "joined": True,
        "widened": widened,
        "rule": rule,
        "correction_deadline": opened.get("correction_deadline"),
        "correction_deadline_at": opened.get("correction_deadline_at"),
        "six_months_at": opened.get("six_months_at"),
        "partial": bool(after),
        "sites": after,
        "today": china_date(now).isoformat(),
    }


def waiting_surveillance(session: Session, suspension: CertificateEvent | None) -> Any:
    """The routine surveillance number a surveillance cycle waits on for this suspension (its
    own message or a reason added to it later), or None."""
    if suspension is None:
        return None
    added = session.scalars(
        select(CertificateEvent.data)
        .where(
            CertificateEvent.certificate_id == suspension.certificate_id,
            CertificateEvent.event == REASON_ADDED,
            CertificateEvent.id > suspension.id,
        )
        .order_by(CertificateEvent.id)
    ).all()
    numbers = [(data or {}).get("surveillance_number") for data in [suspension.data, *added]]
    return next((number for number in numbers if number is not None), None)
