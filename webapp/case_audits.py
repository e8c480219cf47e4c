"""The audits of a case as the case page lists them: findings by result, nonconformities open and
total, the team. A fixed number of queries however many audits the case has (issue 16: a case
over a certification cycle has several audits, each with its findings and team)."""

from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from certflow.db import db
from domain.models import Audit, AuditTeamMember, Finding, Nonconformity


def case_audits(organisation_id: int) -> list[dict[str, Any]]:
    audits = db.session.scalars(
        select(Audit)
        .where(Audit.organisation_id == organisation_id)
        .order_by(Audit.start_date.is_(None), Audit.start_date, Audit.id)
        .options(selectinload(Audit.team).selectinload(AuditTeamMember.auditor))
    ).all()
    if not audits:
        return []
    ids = [audit.id for audit in audits]
    findings: dict[int, Counter] = defaultdict(Counter)
    for audit_id, result, count in db.session.execute(
        select(Finding.audit_id, Finding.result, func.count())
        .where(Finding.audit_id.in_(ids))
        .group_by(Finding.audit_id, Finding.result)
    ):
        findings[audit_id][result] += count
    ncs: dict[int, Counter] = defaultdict(Counter)
    for audit_id, status, count in db.session.execute(
        select(Nonconformity.audit_id, Nonconformity.status, func.count())
        .where(Nonconformity.audit_id.in_(ids))
        .group_by(Nonconformity.audit_id, Nonconformity.status)
    ):
        ncs[audit_id][status] += count
    result = []
    for audit in audits:
        found, open_or_not = findings[audit.id], ncs[audit.id]
        result.append(
            {
                "audit": audit,
                "findings": [(code, found[code]) for code in sorted(found)],
                "findings_total": sum(found.values()),
                "ncs_total": sum(open_or_not.values()),
                "ncs_open": sum(n for status, n in open_or_not.items() if status != "accepted"),
                "team": list(audit.team),
            }
        )
    return result
