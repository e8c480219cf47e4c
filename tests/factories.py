"""Domain rows for tests: organisations, auditors, applications, audits with teams."""

from datetime import date, timedelta
from decimal import Decimal

from domain.models import (
    Application,
    Audit,
    AuditProgramme,
    AuditTeamMember,
    Organisation,
    Site,
)
from domain.programme import create_programme
from scenarios.people import VALID_USCC, make_auditor  # noqa: F401 (the tests import them here)
from tests.helpers import handler_context


def make_organisation(session, now, *, name="福州优服电器有限公司", uscc=VALID_USCC, sites=1):
    org = Organisation(
        name=name,
        uscc=uscc,
        address="福建省福州市鼓楼区五四路 1 号",
        contact_name="王芳",
        contact_phone="0591-0000000",
        contact_email="service@example.cn",
        created_at=now,
    )
    session.add(org)
    session.flush()
    for i in range(sites):
        session.add(
            Site(organisation_id=org.id, name=f"服务网点 {i + 1}", address=f"五四路 {i + 1} 号")
        )
    session.flush()
    return org


def make_application(session, now, org, *, requested_level=4, status="contracted", number=None):
    application = Application(
        number=number or f"APP-{now.year}-{session.query(Application).count() + 1:04d}",
        organisation_id=org.id,
        requested_level=requested_level,
        scope="家用电器的安装、维修与退换货服务",
        shift_work=False,
        headcount=120,
        status=status,
        submitted_by="client",
        submitted_at=now,
        man_days=Decimal("3.0"),
    )
    session.add(application)
    session.flush()
    return application


def make_audit(session, now, org, application, *, team=(), start=None, days=2, kind="initial"):
    """A programme and an audit; `team` is a sequence of (auditor, role)."""
    programme = AuditProgramme(
        organisation_id=org.id,
        application_id=application.id,
        man_days=Decimal("3.0"),
        created_by="scheduler",
        created_at=now,
    )
    session.add(programme)
    session.flush()
    start = start or (now.date() + timedelta(days=14))
    audit = Audit(
        programme_id=programme.id,
        application_id=application.id,
        organisation_id=org.id,
        kind=kind,
        start_date=start,
        end_date=start + timedelta(days=days - 1),
        status="planned",
    )
    session.add(audit)
    session.flush()
    for auditor, role in team:
        session.add(
            AuditTeamMember(
                audit_id=audit.id,
                auditor_id=auditor.id,
                role=role,
                flags=[],
                appointed_by="scheduler",
                appointed_at=now,
            )
        )
    session.flush()
    return audit


def today(now) -> date:
    return now.date()


def make_programme(
    session, now, application, *, by: str, mystery_shopping: bool, sizing_notes: str
) -> int:
    """The application's audit programme (revision 1) established by `by` through the domain
    rule: document review on 2 March 2026, initial audit on 16–17 March, 3 man-days."""
    return create_programme(
        handler_context(session, now, actor=by),
        application.id,
        mystery_shopping=mystery_shopping,
        random_survey=False,
        document_review_date="2026-03-02",
        initial_audit_start="2026-03-16",
        initial_audit_end="2026-03-17",
        man_days="3.0",
        sizing_notes=sizing_notes,
        shift_work_notes="",
    )["id"]
