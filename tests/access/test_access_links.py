"""Which organisation a process instance belongs to (R-11): by application, certificate number,
mark-misuse reference or disclosure reference — the rule the inbox, case pages and API share."""

from sqlalchemy import literal, select

from certflow.db import db
from domain.models import Certificate, Disclosure, MisuseCase
from tests.factories import make_application, make_organisation
from webapp.access import belongs_to_organisation


def owns(organisation_id, business_key) -> bool:
    clause = belongs_to_organisation(organisation_id, literal(0), literal(business_key))
    return bool(db.session.scalar(select(clause)))


def test_every_kind_of_case_key_links_to_its_organisation(ctx, clock):
    now = clock.now()
    mine = make_organisation(db.session, now)
    other = make_organisation(db.session, now, name="别家", uscc="91110108MA01C2D3EG")
    application = make_application(db.session, now, mine, number="APP-2026-0007")
    certificate = Certificate(
        number="CTC-SHFW-2026-0007",
        organisation_id=mine.id,
        application_id=application.id,
        organisation_name=mine.name,
        organisation_address=mine.address,
        sites=[],
        scope="s",
        star_level=4,
        standard="GB/T 27922-2011",
        rules="r",
        issuing_body="CTC",
        signatory="x",
        issued_on=now.date(),
        original_issued_on=now.date(),
        expires_on=now.date(),
        status="valid",
        mark="m",
    )
    db.session.add(certificate)
    db.session.flush()
    db.session.add(
        MisuseCase(
            reference="WY-2026-0001",
            certificate_id=certificate.id,
            reported_by="x",
            description="d",
            reported_at=now,
            status="reported",
        )
    )
    db.session.add(
        Disclosure(
            reference="PL-0001",
            organisation_id=mine.id,
            recipient="CNAS",
            information="i",
            purpose="p",
            requested_by="q",
            requested_at=now,
            status="requested",
        )
    )
    db.session.flush()
    for key in ("APP-2026-0007", "CTC-SHFW-2026-0007", "WY-2026-0001", "PL-0001"):
        assert owns(mine.id, key), key
        assert not owns(other.id, key), key
    assert not owns(mine.id, "UNKNOWN-1")
    assert not owns(None, "APP-2026-0007")
