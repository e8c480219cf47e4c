"""A certificate issued the way a case issues it: an initial audit made with the factories, then
decision.record and certificate.issue through the real handlers (R-9.1, R-9.2). Shared by the
certificate, surveillance, change and misuse tests."""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from certflow.dates import china_date
from certflow.db import db
from domain.models import Announcement, Certificate, CertificateEvent
from handlers import get_handler
from tests.factories import make_application, make_audit, make_organisation
from tests.helpers import handler_context

ISSUED_AT = datetime(2026, 3, 9, 17, 30, tzinfo=UTC)  # decided on 10 March 2026 (China date)
DECIDER = "tina_technical"
STAFF = "shen_auditdept"
OTHER_USCC = "91110108MA01C2D3EG"


def call(operator: str, params: dict, now=ISSUED_AT, actor: str = STAFF):
    return get_handler(operator)(params, handler_context(db.session, now, actor=actor))


def issued_certificate(
    now=ISSUED_AT,
    *,
    star_level=4,
    requested_level=None,
    sites=1,
    organisation=None,
    survey_on: date | None = None,
) -> Certificate:
    """A certificate issued through decision.record and certificate.issue, after an initial
    audit (made with the factories) that reached `star_level`; with a random survey during the
    audit's mystery shopping on `survey_on`."""
    organisation = organisation or make_organisation(db.session, now, sites=sites)
    application = make_application(
        db.session, now, organisation, requested_level=requested_level or star_level
    )
    audit = make_audit(
        db.session, now, organisation, application, start=china_date(now) - timedelta(days=30)
    )
    if survey_on is not None:
        call(
            "audit.record_mystery_shopping",
            {
                "audit_id": audit.id,
                "visit_date": survey_on.isoformat(),
                "shopper": "安暗访",
                "service_experienced": "电话报修 Repair request by phone",
                "observations": "响应及时 Prompt answer",
                "random_survey_done": True,
                "survey_sample_size": 30,
                "satisfied_count": 28,
            },
            now,
            actor="an_shopper",
        )
    audit.status, audit.conclusion, audit.star_level_achieved = "completed", "recommend", star_level
    db.session.flush()
    decision = call(
        "decision.record",
        {
            "application_id": application.id,
            "audit_id": audit.id,
            "outcome": "grant",
            "star_level": star_level,
            "reasons": "",
        },
        now,
        actor=DECIDER,
    )
    result = call(
        "certificate.issue",
        {"application_id": application.id, "decision_id": decision["id"]},
        now,
        actor="system",
    )
    return db.session.get(Certificate, result["id"])


def events_of(certificate: Certificate) -> list[CertificateEvent]:
    return list(
        db.session.scalars(
            select(CertificateEvent)
            .where(CertificateEvent.certificate_id == certificate.id)
            .order_by(CertificateEvent.id)
        )
    )


def announcements_of(certificate: Certificate) -> list[Announcement]:
    return list(
        db.session.scalars(
            select(Announcement)
            .where(Announcement.certificate_id == certificate.id)
            .order_by(Announcement.id)
        )
    )
