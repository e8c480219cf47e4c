"""Records of one organisation's case for the case / instance page tests (Flask test client and
browser): an audit with its team, findings and a nonconformity, an audit report (client may
read) and a mystery-shopping record (staff only), a certificate and an uploaded file.

The audit team's leader is the user `aldo` (role auditor, password tests.web_support.PASSWORD):
his only part in the case is his seat on the audit team.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from domain.attachments import store_attachment
from domain.documents import create_document
from domain.models import Application, Certificate, Finding, Nonconformity, Organisation
from handlers import handler, unregister
from tests.factories import make_audit, make_auditor
from tests.web_support import PASSWORD

RECORD_ACCEPTANCE = "test_record_acceptance"
# Markdown with things that must never become HTML on the document page.
HOSTILE_LINES = [
    "# 审查报告 Audit report",
    "",
    "结论 Conclusion: **推荐 recommend**",
    "",
    "<script>alert('x')</script>",
    "",
    "[click me](javascript:alert(1)) <img src=x onerror=alert(2)>",
    "",
    "| 项目 Item | 得分 Score |",
    "|---|---|",
    "| 5.1.1 | 9 |",
]


@dataclass
class CaseRecords:
    organisation_id: int
    application_id: int
    audit_id: int
    report_id: int  # audit_report: clients may read it
    internal_id: int  # mystery_shopping_record: staff only
    certificate_number: str
    file_id: int


def add_case_records(
    session, storage: Path, now: datetime, organisation_id: int, application_number: str
) -> CaseRecords:
    organisation = session.get(Organisation, organisation_id)
    application = session.scalars(
        select(Application).where(Application.number == application_number)
    ).one()
    leader = make_auditor(
        session,
        now,
        name="吴组长 Wu",
        username="aldo",
        roles=("auditor",),
        registration="CCAA-SC-0042",
        leader=True,
    )
    leader.user.set_password(PASSWORD)
    audit = make_audit(
        session, now, organisation, application, team=[(leader, "leader")], start=date(2026, 2, 2)
    )
    audit.status = "completed"
    audit.score, audit.final_score = Decimal("86.50"), Decimal("85.50")
    audit.special_deductions, audit.star_level_achieved = 1, 3
    audit.conclusion = "recommend"
    for code, result in (("5.1.1", "conform"), ("5.1.2", "conform"), ("5.2.1", "nonconform")):
        session.add(
            Finding(
                audit_id=audit.id,
                item_code=code,
                method="records",
                result=result,
                evidence="记录 records",
                recorded_by="aldo",
                recorded_at=now,
            )
        )
    session.add(
        Nonconformity(
            audit_id=audit.id,
            number="NC-01",
            item_code="5.2.1",
            description="投诉记录不全 Complaint records incomplete",
            status="answered",
        )
    )
    report = create_document(
        session,
        kind="audit_report",
        title=f"审查报告 Audit report — {application.number}",
        lines=HOSTILE_LINES,
        organisation_id=organisation.id,
        application_id=application.id,
        audit_id=audit.id,
        created_by="aldo",
        now=now,
    )
    internal = create_document(
        session,
        kind="mystery_shopping_record",
        title=f"暗访记录 Mystery shopping record — {application.number}",
        lines=["# 暗访 Mystery shopping", "- 暗访人员 Shopper: 秘密 secret"],
        organisation_id=organisation.id,
        application_id=application.id,
        audit_id=audit.id,
        created_by="aldo",
        now=now,
    )
    number = f"CTC-SC-2026-{organisation.id:04d}"
    session.add(
        Certificate(
            number=number,
            organisation_id=organisation.id,
            application_id=application.id,
            organisation_name=organisation.name,
            organisation_address=organisation.address,
            sites=[],
            scope=application.scope,
            star_level=3,
            standard="GB/T 27922-2011",
            rules="CTC rules",
            issuing_body="首认检测认证",
            signatory="签发人",
            issued_on=date(2026, 3, 1),
            original_issued_on=date(2026, 3, 1),
            expires_on=date(2029, 2, 28),
            status="valid",
            mark="CTC-SC",
        )
    )
    attachment = store_attachment(
        session,
        storage,
        filename="营业执照 licence.pdf",
        content_type="application/pdf",
        data=b"%PDF-1.4 licence of " + str(organisation.id).encode(),
        kind="legal_status",
        uploaded_by="carl",
        now=now,
        organisation_id=organisation.id,
    )
    session.commit()
    return CaseRecords(
        organisation_id=organisation.id,
        application_id=application.id,
        audit_id=audit.id,
        report_id=report.id,
        internal_id=internal.id,
        certificate_number=number,
        file_id=attachment.id,
    )


def failing_record_acceptance(params: dict, ctx: Any) -> dict:
    raise RuntimeError("registry is down")


def use_record_acceptance(fn: Any) -> None:
    """Replace the handler of the review_flow's service task (e.g. to make it fail)."""
    unregister(RECORD_ACCEPTANCE)
    handler(RECORD_ACCEPTANCE)(fn)
