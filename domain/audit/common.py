"""Queries and checks every audit step needs: the audit, its application, its status, its team,
its indicator set, the client's active sites."""

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.checks import require_id
from domain.errors import RuleViolation
from domain.indicators import active_indicator_set, indicator_set_by_label, indicator_set_label
from domain.models import Application, Audit, AuditProgramme, Document, Finding, Site
from domain.scoring import IndicatorSet

REPORT_KIND = "audit_report"
MYSTERY_SHOPPING_KIND = "mystery_shopping_record"
# Audits of a certificate in force: their conclusion compares with the held level (R-8.10.2/3).
SURVEILLANCE_AUDIT_KINDS = ("surveillance", "extra_surveillance")


def get_audit(session: Session, audit_id: Any) -> Audit:
    audit = session.get(Audit, require_id(audit_id, "audit_id"))
    if audit is None:
        raise LookupError(f"audit {audit_id} not found")
    return audit


def application_of(session: Session, audit: Audit) -> Application:
    application_id = audit.application_id
    if application_id is None:
        programme = session.get(AuditProgramme, audit.programme_id)
        application_id = programme.application_id if programme else None
    application = session.get(Application, application_id) if application_id else None
    if application is None:
        raise LookupError(f"audit {audit.id} has no application")
    return application


def require_status(audit: Audit, allowed: Iterable[str], rule: str, doing: str) -> None:
    allowed = tuple(allowed)
    if audit.status not in allowed:
        raise RuleViolation(
            rule, f"audit {audit.id} is {audit.status}; cannot {doing} (needs {'/'.join(allowed)})"
        )


def team_auditor_ids(audit: Audit, *, include_experts: bool = True) -> set[int]:
    return {
        member.auditor_id
        for member in audit.team
        if include_experts or member.role != "tech_expert"
    }


def audit_indicator_set(session: Session, audit: Audit, *, pin: bool = True) -> IndicatorSet:
    """The set the audit is assessed against: the one it recorded, else the active one (pinned,
    unless `pin` is false: a form check only reads).

    Pinning on first use keeps an audit's findings and score on one version even when a process
    owner deploys a new version during the audit."""
    try:
        if audit.indicator_set:
            return indicator_set_by_label(session, audit.indicator_set)[1]
        row, indicator_set = active_indicator_set(session)
    except LookupError as err:
        raise RuleViolation("R-3", str(err)) from err
    if pin:
        audit.indicator_set = indicator_set_label(row)
    return indicator_set


def active_sites(session: Session, organisation_id: int) -> list[Site]:
    return list(
        session.scalars(
            select(Site)
            .where(Site.organisation_id == organisation_id, Site.active.is_(True))
            .order_by(Site.id)
        )
    )


def latest_findings(session: Session, audit: Audit) -> list[Finding]:
    return list(
        session.scalars(
            select(Finding)
            .where(Finding.audit_id == audit.id)
            .order_by(Finding.recorded_at, Finding.id)
        )
    )


def latest_report(session: Session, audit_id: int) -> Document | None:
    return session.scalars(
        select(Document)
        .where(Document.audit_id == audit_id, Document.kind == REPORT_KIND)
        .order_by(Document.id.desc())
        .limit(1)
    ).first()
