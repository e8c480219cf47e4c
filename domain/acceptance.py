"""The acceptance review and what follows it (R-6.2.1, R-6.2.2, R-6.2.2b, R-8.5.6, R-13): the
review's confirmations and conclusion, the not-accepted notice, the closing of an application
whose audit was terminated."""

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from certflow.dates import china_date
from domain.acting import Acting
from domain.application import ISSUING_BODY
from domain.documents import create_document
from domain.errors import RuleViolation
from domain.letter_templates import render_letter
from domain.models import Application, Audit, Document
from domain.values import decimal_number, flag, load, optional_text

CONFIRMATIONS = (
    ("information_sufficient", "(1) 客户信息充分，足以建立审查方案 information suffices"),
    ("differences_resolved", "(2) 理解上的分歧已解决 differences of understanding resolved"),
    ("scope_determined", "(3) 认证范围已确定 scope determined"),
    ("cb_able", "(4) 认证机构有能力实施认证 the CB is able to certify"),
)
MIN_MAN_DAYS = Decimal("0.5")


def record_review(
    act: Acting,
    application_id: int,
    *,
    confirmations: dict[str, Any],
    accepted: Any,
    man_days: Any,
    man_days_basis: Any,
    scope: Any,
    not_accepted_reason: Any,
) -> bool:
    """Record the acceptance review and its conclusion, by whom and when (R-6.2, R-13).
    `confirmations` maps each name of CONFIRMATIONS to its value. Returns `accepted`."""
    application = load(act.session, Application, application_id)
    if application.status != "submitted":
        raise RuleViolation(
            "R-6.2.1",
            f"申请 {application.number} 状态为 {application.status}，不能评审 cannot be reviewed",
        )
    confirmed = {name: flag(confirmations[name], name, "R-6.2.1") for name, _ in CONFIRMATIONS}
    accepted = flag(accepted, "accepted", "R-6.2.2")
    man_days = decimal_number(man_days, "man_days", "R-6.2.1", "审查人日 man-days", optional=True)
    man_days_basis = optional_text(man_days_basis, "man_days_basis")
    scope = optional_text(scope, "scope")
    reason = optional_text(not_accepted_reason, "not_accepted_reason")

    if man_days is not None and man_days < 0:
        raise RuleViolation("R-6.2.1", f"审查人日不能为负 man-days cannot be negative: {man_days}")
    if accepted:
        missing = [label for name, label in CONFIRMATIONS if not confirmed[name]]
        if missing:
            raise RuleViolation(
                "R-6.2.1", "受理前须确认 accepting needs the confirmations: " + "; ".join(missing)
            )
        if man_days is None or man_days < MIN_MAN_DAYS:
            raise RuleViolation(
                "R-6.2.1",
                f"(5) 受理须确定审查人日（至少 0.5）man-days must be determined, at least 0.5: "
                f"{man_days}",
            )
    elif not reason:
        raise RuleViolation(
            "R-6.2.2b", "不受理须记录原因 a non-acceptance needs the reason (not_accepted_reason)"
        )

    application.review = {
        **confirmed,
        "man_days": str(man_days) if man_days is not None else None,
        "man_days_basis": man_days_basis,
        "scope": scope or application.scope,
        "accepted": accepted,
        "not_accepted_reason": None if accepted else reason,
    }
    if scope:
        application.scope = scope
    application.man_days = man_days
    application.reviewed_by = act.actor
    application.reviewed_at = act.now
    application.not_accepted_reason = None if accepted else reason
    application.status = "accepted" if accepted else "not_accepted"
    act.session.flush()
    return accepted


def close_terminated(act: Acting, application_id: int) -> None:
    """Close the application after its audit was terminated with the CB's approval (R-8.5.6)."""
    application = load(act.session, Application, application_id)
    if application.status == "terminated":
        return
    if application.status not in ("accepted", "contracted"):
        raise RuleViolation(
            "R-8.5.6",
            f"申请 {application.number} 状态为 {application.status}，不能终止 cannot be terminated",
        )
    terminated_audit = act.session.scalars(
        select(Audit.id).where(Audit.application_id == application.id, Audit.status == "terminated")
    ).first()
    if terminated_audit is None:
        raise RuleViolation(
            "R-8.5.6",
            f"申请 {application.number} 没有已终止的审查 has no terminated audit (the audit "
            "department's approval is recorded by audit.terminate)",
        )
    application.status = "terminated"
    act.session.flush()


def issue_not_accepted_notice(act: Acting, application_id: int) -> Document:
    """The written notice to the applicant that its application is not accepted, with the
    reason; it may be re-reviewed when the conditions are met (R-6.2.2b)."""
    application = load(act.session, Application, application_id)
    if application.status != "not_accepted" or not application.not_accepted_reason:
        raise RuleViolation(
            "R-6.2.2b",
            f"申请 {application.number} 未被记录为不受理 "
            "is not recorded as not accepted with a reason",
        )
    organisation = application.organisation
    today = china_date(act.now)
    reason = application.not_accepted_reason
    body = render_letter(
        "not_accepted_notice",
        organisation=organisation,
        application=application,
        submitted_on=application.submitted_at.date(),
        reason=reason,
        issuing_body=ISSUING_BODY,
        today=today,
    )
    return create_document(
        act.session,
        kind="not_accepted_notice",
        title_facts={"reference": application.number},
        body=body,
        organisation_id=organisation.id,
        application_id=application.id,
        created_by=act.actor,
        now=act.now,
        data={
            "application_number": application.number,
            "organisation_name": organisation.name,
            "uscc": organisation.uscc,
            "reason": reason,
            "date": today.isoformat(),
            "may_be_re_reviewed": True,
            "issuing_body": ISSUING_BODY,
        },
    )
