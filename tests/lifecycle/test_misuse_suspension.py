"""Misuse of the certificate or mark that suspends the certificate (R-9.5.1c) and the
publication of the violation (R-10.3 公布违规行为) through mark_misuse.bpmn and the suspension
process, with the engine API and the simulated clock, on both databases."""

import pytest
from sqlalchemy import select

from certflow.dates import china_date
from certflow.db import db
from domain.errors import RuleViolation
from domain.models import Announcement, Certificate, CertificateEvent
from engine.errors import FormValidationError
from tests.lifecycle.test_mark_misuse import (
    FINDINGS,
    call,
    case,  # noqa: F401 (fixture)
    documents,
    investigate,
    issue_for_engine,
    misuse_case,
    registered,
    report_misuse,
)


def announcements(certificate: Certificate, kind: str) -> list[Announcement]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(Announcement).where(
                Announcement.certificate_number == certificate.number, Announcement.kind == kind
            )
        )
    )


def test_misuse_suspends_the_certificate_through_the_suspension_process(case) -> None:  # noqa: F811
    certificate = case.certify()
    case.at(60)
    instance = report_misuse(case, certificate)
    investigate(case, "suspension", publish=True)

    assert case.engine.get_instance(instance.id).status == "completed"
    misuse = misuse_case()
    assert (misuse.status, misuse.action) == ("suspended", "suspension")
    (closure,) = documents("misuse_closure")
    assert closure.data["outcome"] == "suspended"
    # The suspension process took over: R-9.5.1(c), published, the client corrects.
    (suspension,) = case.instances("suspension")
    assert suspension.business_key == certificate.number and suspension.status == "running"
    suspended = case.certificate(certificate.number)
    assert suspended.status == "suspended" and suspended.mark_use_allowed is False  # R-10.1e
    event = db.session.scalars(
        select(CertificateEvent)
        .where(CertificateEvent.certificate_id == certificate.id)
        .order_by(CertificateEvent.id.desc())
    ).first()
    assert (event.event, event.rule) == ("suspended", "R-9.5.1c")
    assert misuse.reference in event.reason or misuse.reference in str(event.data)
    assert len(announcements(certificate, "suspended")) == 1
    assert case.open_in("suspension", "Task_SubmitSuspensionCorrection").candidate_role == "client"
    # 公布违规行为: the clause and the measure, never the findings.
    (violation,) = announcements(certificate, "misuse_published")
    assert violation.published_on == china_date(case.clock.now())
    assert "规则第10.3条" in violation.body and "暂停证书" in violation.body
    assert FINDINGS not in violation.body
    assert case.instances("withdrawal") == []


def test_corrective_action_publishes_the_violation_when_decided(case) -> None:  # noqa: F811
    certificate = issue_for_engine(case)
    report_misuse(case, certificate)
    task = case.open_in("mark_misuse", "Task_InvestigateMisuse")
    # Not confirmed → nothing is published (the form refuses it).
    with pytest.raises(FormValidationError) as refused:
        case.engine.complete_task(
            task.id,
            actor=case.people.audit_dept,
            data={
                "confirmed": False,
                "investigation": FINDINGS,
                "action": "none",
                "publish_violation": True,
                "legal_follow_up": None,
            },
        )
    assert "publish_violation" in refused.value.errors

    investigate(case, "corrective_action", publish=True)
    (violation,) = announcements(certificate, "misuse_published")
    assert "限期纠正" in violation.body and FINDINGS not in violation.body
    assert case.certificate(certificate.number).status == "valid"  # corrective action only
    assert misuse_case().status == "corrective_action"


def test_corrective_action_without_publication_publishes_nothing(case) -> None:  # noqa: F811
    certificate = issue_for_engine(case)
    report_misuse(case, certificate)
    investigate(case, "corrective_action")
    assert announcements(certificate, "misuse_published") == []


def test_the_handler_refuses_publishing_an_unconfirmed_misuse(ctx) -> None:
    result, _ = registered()
    with pytest.raises(RuleViolation, match="only a confirmed misuse"):
        call(
            "misuse.record_investigation",
            {
                "misuse_id": result["id"],
                "confirmed": False,
                "investigation": FINDINGS,
                "action": "none",
                "publish_violation": True,
                "legal_follow_up": None,
            },
        )
