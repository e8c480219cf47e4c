"""The routine surveillance a suspension interrupted, after the certificate is restored
(R-9.1, R-8.10.1, R-9.5.1; docs/decisions.md "A restored certificate is surveilled again").

R-9.1: the validity is kept by the results of the periodic surveillance; the verification of the
corrections during a suspension (R-9.5.1) is not a routine surveillance (it covers the cause of
the suspension, not the contents of R-8.10.2, and has no mystery shopping, R-8.10.1(2)). So a
routine surveillance whose latest date passed (the certificate was suspended under R-9.5.1(a))
is caught up after the restoration: planned at once, done within CATCH_UP_MONTHS of the
restoration day and never extended, and before the recertification window opens (R-8.11: the
recertification audit covers everything then). The next routine surveillance follows from the
end of the caught-up one with the ordinary 12/15-month rules.

Without Flask or the engine; the dates follow certflow/dates.py (docs/calendar.md).
"""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from certflow.dates import last_day_of_months
from domain.models import Certificate, CertificateEvent, ProgrammeActivity
from domain.programme_dates import recertification_window_opens

CATCH_UP_MONTHS = 3  # decision (docs/decisions.md): the missed surveillance within 3 months


@dataclass(frozen=True)
class CatchUp:
    """A missed routine surveillance after the certificate's restoration."""

    restored_on: date
    due: date  # its latest date: no extension (the 12/15-month limits are already behind)
    needed: bool  # False when the recertification window opened first (R-8.11 covers it)


def restoration_after(
    session: Session, certificate: Certificate, last_day: date
) -> CertificateEvent | None:
    """The first restoration of the certificate that took effect after `last_day`."""
    return session.scalars(
        select(CertificateEvent)
        .where(
            CertificateEvent.certificate_id == certificate.id,
            CertificateEvent.event == "restored",
            CertificateEvent.effective_on > last_day,
        )
        .order_by(CertificateEvent.id)
        .limit(1)
    ).first()


def catch_up(
    session: Session,
    certificate: Certificate,
    activity: ProgrammeActivity | None,
    normal_hard_limit: date,
) -> CatchUp | None:
    """R-9.1/R-8.10.1: the catch-up of a routine surveillance not done by its latest date
    `normal_hard_limit` when the certificate was restored after that date; None otherwise."""
    if activity is not None and activity.status == "completed":
        return None
    restored = restoration_after(session, certificate, normal_hard_limit)
    if restored is None:
        return None
    restored_on = restored.effective_on
    window_opens = recertification_window_opens(certificate.expires_on)
    due = min(
        last_day_of_months(restored_on, CATCH_UP_MONTHS),
        window_opens - timedelta(days=1),
    )
    return CatchUp(
        restored_on=restored_on, due=max(due, restored_on), needed=restored_on < window_opens
    )
