"""Indicators read from the certificates' events: suspension resolved within 6 months
(R-9.5.1), every status change published (R-14, R-9.5.2, R-9.5.3), recertification decided by
the last valid day (R-8.11)."""

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from certflow.dates import china_date, last_day_of_months
from domain.certificates import reissued_as
from domain.compliance.common import deadline_case, organisation_names
from domain.compliance.model import Case, Definition
from domain.models import Announcement, Application, Certificate, CertificateEvent, Decision
from domain.programme_dates import recertification_window_opens

SUSPENSION = Definition("suspension_resolved", ("R-9.5.1",), "suspension")
PUBLICATION = Definition("status_published", ("R-14", "R-9.5.2", "R-9.5.3"), "certification")
RECERTIFICATION = Definition("recertification_in_time", ("R-8.11",), "recertification")

SUSPENSION_MONTHS = 6  # 暂停期限最长不超过 6 个月
RESOLVING_EVENTS = ("restored", "withdrawn", "cancelled", "superseded")
# the status changes the public registry announces, with the announcement kind of each
# (an issue — initial or recertification — is announced as "certified").
PUBLISHED_AS = {
    "issued": "certified",
    "suspended": "suspended",
    "restored": "restored",
    "withdrawn": "withdrawn",
    "cancelled": "cancelled",
}
# domain/certificates.py `publish`: announced on the day of the change, a suspension within 5 days.
PUBLICATION_DAYS = 5


def _events(session: Session, names: tuple[str, ...]):
    return session.execute(
        select(CertificateEvent, Certificate)
        .join(Certificate, Certificate.id == CertificateEvent.certificate_id)
        .where(CertificateEvent.event.in_(names))
        .order_by(CertificateEvent.id)
    ).all()


def suspension_cases(session: Session, today: date) -> list[Case]:
    """Each suspension ends — restored, withdrawn, cancelled or reissued — by the last day of
    the 6 months that start on its effective day (R-9.5.1)."""
    names = organisation_names(session)
    found = []
    for event, certificate in _events(session, ("suspended",)):
        last_day = last_day_of_months(event.effective_on, SUSPENSION_MONTHS)
        resolved = session.scalars(
            select(CertificateEvent.effective_on)
            .where(
                CertificateEvent.certificate_id == certificate.id,
                CertificateEvent.id > event.id,
                CertificateEvent.event.in_(RESOLVING_EVENTS),
            )
            .order_by(CertificateEvent.id)
            .limit(1)
        ).first()
        case = deadline_case(
            key=f"event:{event.id}",
            subject=certificate.number,
            last_day=last_day,
            done_on=resolved,
            today=today,
            organisation_id=certificate.organisation_id,
            names=names,
        )
        if case is not None:
            found.append(case)
    return found


def publication_cases(session: Session, today: date) -> list[Case]:
    """Each status change R-14 names has its announcement on the registry, published from the
    day of the change to PUBLICATION_DAYS later."""
    names = organisation_names(session)
    found = []
    for event, certificate in _events(session, tuple(PUBLISHED_AS)):
        if event.event == "issued" and certificate.changed_on is not None:
            continue  # a reissue within the cycle is announced as a change
        day = china_date(event.at)
        last_day = day + timedelta(days=PUBLICATION_DAYS)
        published = session.scalars(
            select(Announcement.published_on)
            .where(
                Announcement.certificate_id == certificate.id,
                Announcement.kind == PUBLISHED_AS[event.event],
                Announcement.published_on >= day,
            )
            .order_by(Announcement.published_on)
            .limit(1)
        ).first()
        case = deadline_case(
            key=f"event:{event.id}",
            subject=certificate.number,
            last_day=last_day,
            done_on=published,
            today=today,
            organisation_id=certificate.organisation_id,
            names=names,
            reference_day=day,
            event=event.event,
        )
        if case is not None:
            found.append(case)
    return found


def recertification_cases(session: Session, today: date) -> list[Case]:
    """R-8.11: recertification starts 3 months before expiry so that the holder who asked for it
    is recertified by the certificate's last valid day. Measured for each certificate whose
    holder asked (a recertification application while it was in force): decided by
    `expires_on`. A holder who declines is no breach (R-9.5.3b: cancelled at expiry)."""
    names = organisation_names(session)
    found = []
    for certificate in session.scalars(select(Certificate).order_by(Certificate.id)):
        if recertification_window_opens(certificate.expires_on) > today:
            continue
        if reissued_as(session, certificate) is not None:
            continue  # the cycle goes on with its reissue, measured there
        application = _recertification_request(session, certificate)
        if application is None:
            continue
        decided = session.scalars(
            select(Decision.decided_on)
            .where(Decision.application_id == application.id)
            .order_by(Decision.id)
            .limit(1)
        ).first()
        case = deadline_case(
            key=f"certificate:{certificate.id}",
            subject=certificate.number,
            last_day=certificate.expires_on,
            done_on=decided,
            today=today,
            organisation_id=certificate.organisation_id,
            names=names,
        )
        if case is not None:
            found.append(case)
    return found


def _recertification_request(session: Session, certificate: Certificate) -> Application | None:
    for application in session.scalars(
        select(Application)
        .where(
            Application.organisation_id == certificate.organisation_id,
            Application.kind == "recertification",
        )
        .order_by(Application.submitted_at, Application.id)
    ):
        if certificate.issued_on <= china_date(application.submitted_at) <= certificate.expires_on:
            return application
    return None
