"""R-9.4.1 扩大服务场所时，应安排现场审查，有关要求同初次认证；符合要求的，换发证书及附件：
the decision on a new site (scope extension) of certificate_change.bpmn, without Flask or the
engine.

The new site goes through the steps of an initial certification after the market department
approved the request (the application review of a change): team appointment, audit plan,
document review (R-8.1), pre-audit training (R-8.4), on-site audit (onsite_audit), written
report with its receipt (R-8.6), the nonconformity cycle (R-8.7) and an independent decision
(R-8.8, R-13) — never an automatic step. This module is that decision: who decided, when, the
outcome and its reasons are kept in the change's details (`details["decision"]`), and only a
granted decision lets `change_steps.apply` put the site on a reissued certificate (same expiry
date, R-9.3; the registry shows the reissue, R-14).
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.changes import current_of, get_change
from domain.checks import optional_text
from domain.errors import RuleViolation
from domain.form_checks import CheckCase, form_check
from domain.models import Audit, ChangeRequest, Nonconformity
from domain.people import audited_application

OUTCOMES = ("grant", "refuse")
CLOSED_NC = "accepted"


def _extension(session: Session, change_id: Any) -> tuple[ChangeRequest, Audit]:
    change = get_change(session, change_id)
    if change.kind != "add_site" or change.status != "approved":
        raise RuleViolation(
            "R-9.4.1",
            f"change {change.reference} ({change.kind}, {change.status}) is not an approved new "
            "site awaiting its decision",
        )
    audit = session.get(Audit, change.audit_id) if change.audit_id else None
    if audit is None:
        raise RuleViolation("R-9.4.1", f"change {change.reference}: the new site was not audited")
    return change, audit


def open_nonconformities(session: Session, audit_id: int) -> list[str]:
    """R-8.7: the audit's nonconformities not yet accepted (their numbers)."""
    rows = session.scalars(
        select(Nonconformity)
        .where(Nonconformity.audit_id == audit_id, Nonconformity.status != CLOSED_NC)
        .order_by(Nonconformity.id)
    )
    return [nc.number for nc in rows]


def grant_problem(session: Session, change: ChangeRequest, audit: Audit) -> str | None:
    """Why the new site cannot be granted (None when it can): as for an initial certification
    (R-9.4.1) the on-site audit was completed, reached at least the level the certificate holds,
    its report was received (R-8.6) and every nonconformity was closed (R-8.7, R-8.8)."""
    held = (change.details or {}).get("held_level")
    if audit.status != "completed":
        return f"R-9.4.1: the on-site audit of the new site is {audit.status}, not completed"
    if (audit.star_level_achieved or 0) < (held or 0):
        return (
            f"R-9.4.1: the new site reached level {audit.star_level_achieved}, below the held "
            f"level {held}: refuse the extension"
        )
    if audit.report_received_on is None:
        return "R-8.6: the client has not confirmed receipt of the audit report"
    still_open = open_nonconformities(session, audit.id)
    if still_open:
        return (
            f"R-8.7/R-8.8: nonconformities {', '.join(still_open)} of the new site are not closed: "
            "refuse the extension"
        )
    return None


def decision_problems(
    session: Session, change: ChangeRequest, audit: Audit, outcome: Any, reasons: Any, actor: str
) -> None:
    """Raise the first problem of the decision `outcome` by `actor` (field-named)."""
    if outcome not in OUTCOMES:
        raise RuleViolation(
            "R-8.8", f"the decision is grant or refuse, got {outcome!r}", field="outcome"
        )
    if not optional_text(reasons):
        raise RuleViolation("R-13", "the reasons of the decision are required", field="reasons")
    if actor and audited_application(session, audit.application_id, actor):
        raise RuleViolation(
            "R-8.8",
            f"{actor} was on an audit team of this certification: the decision is made by "
            "people who took no part in the audit",
            field="outcome",
        )
    if outcome == "grant":
        problem = grant_problem(session, change, audit)
        if problem:
            rule, _, text = problem.partition(": ")
            raise RuleViolation(rule, text, field="outcome")


def decide(
    session: Session, *, change_id: int, outcome: Any, reasons: Any, actor: str, now: datetime
) -> dict:
    """R-9.4.1, R-8.8, R-13: the independent decision on the new site: `grant` (the site joins
    a reissued certificate) or `refuse` (written notice, the certificate unchanged); the
    decision maker, the time and the reasons are recorded with the change."""
    change, audit = _extension(session, change_id)
    if (change.details or {}).get("decision"):
        raise RuleViolation("R-8.8", f"change {change.reference} has been decided already")
    decision_problems(session, change, audit, outcome, reasons, actor)
    certificate = current_of(session, change.certificate_id)
    decision = {
        "outcome": outcome,
        "reasons": optional_text(reasons),
        "decided_by": actor,
        "decided_at": now.isoformat(),
        "audit_id": audit.id,
        "star_level_achieved": audit.star_level_achieved,
        "held_level": certificate.star_level,
    }
    change.details = {**(change.details or {}), "decision": decision}
    return {"outcome": outcome, "granted": outcome == "grant", "reference": change.reference}


def granted(change: ChangeRequest) -> bool:
    """R-9.4.1: a new site joins the certificate only after a granting decision."""
    return ((change.details or {}).get("decision") or {}).get("outcome") == "grant"


def refusal_by_decision(change: ChangeRequest) -> tuple[str, dict[str, Any]] | None:
    """The refusal's reason and facts when the decision refused the new site."""
    decision = (change.details or {}).get("decision") or {}
    if decision.get("outcome") != "refuse":
        return None
    return decision["reasons"], {
        "stage": "decision",
        "decided_by": decision["decided_by"],
        "audit_id": decision.get("audit_id"),
        "star_level_achieved": decision.get("star_level_achieved"),
        "held_level": decision.get("held_level"),
    }


@form_check("changes.site_extension_decision_fits")
def site_extension_decision_fits(case: CheckCase) -> None:
    """The decision form (Task_SiteExtensionDecision): the same rules as `decide`, as a 422."""
    data: Mapping[str, Any] = case.data
    change, audit = _extension(case.session, data.get("change_id"))
    decision_problems(
        case.session, change, audit, data.get("outcome"), data.get("reasons"), case.actor
    )
