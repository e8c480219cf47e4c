"""The audit report (R-8.6): its facts, contents (1)–(7), built from the audit's records and
rendered with the letter template `domain/letters/audit_report.md.j2`; the client's receipt."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from certflow.dates import china_date
from domain.acting import Acting
from domain.audit.common import (
    MYSTERY_SHOPPING_KIND,
    REPORT_KIND,
    active_sites,
    application_of,
    audit_indicator_set,
    get_audit,
    latest_findings,
    latest_report,
    require_status,
)
from domain.checks import require_past_date, require_text
from domain.documents import create_document
from domain.errors import RuleViolation
from domain.letter_templates import render_letter
from domain.models import Application, Audit, Document, Finding
from domain.scoring import IndicatorSet

DEFAULT_CRITERIA = "GB/T 27922-2011 商品售后服务评价体系"
UNCERTAINTY_STATEMENT = (
    "审查基于对可获得信息的抽样，审查结论存在一定的不确定性。 "
    "The audit is based on a sample of the available information; its conclusions carry "
    "sampling uncertainty."
)


def issue_report(act: Acting, audit_id: int) -> Document:
    """R-8.6: the written audit report with contents (1)–(7), stored with the case; `data` holds
    the same facts structured."""
    audit = get_audit(act.session, audit_id)
    require_status(audit, ["completed"], "R-8.6", "issue the audit report")
    application = application_of(act.session, audit)
    data = report_data(act.session, audit, application)
    return create_document(
        act.session,
        kind=REPORT_KIND,
        title_facts={"reference": application.number},
        body=render_report(data),
        organisation_id=audit.organisation_id,
        application_id=application.id,
        audit_id=audit.id,
        data=data,
        created_by=act.actor,
        now=act.now,
    )


def render_report(data: dict) -> str:
    """The report's Markdown body from its facts (`report_data`)."""
    return render_letter("audit_report", data=data)


def record_report_receipt(
    act: Acting, audit_id: int, *, received_by: Any, received_on: Any
) -> None:
    """R-8.6: evidence that the client received the audit report."""
    audit = get_audit(act.session, audit_id)
    day = check_receipt_date(act.session, audit, received_on, act.now)
    audit.report_received_by = require_text(received_by, "received_by", "R-8.6")
    audit.report_received_on = day


def check_receipt_date(session: Session, audit: Audit, received_on: Any, now: datetime) -> date:
    """R-8.6: the report was received, not in the future and not before it was issued (form
    check `audit.report_receipt_fits` and record_report_receipt)."""
    report = latest_report(session, audit.id)
    if report is None:
        raise RuleViolation("R-8.6", "no audit report has been issued for this audit")
    day = require_past_date(received_on, "received_on", "R-8.6", now)
    if day < china_date(report.created_at):
        raise RuleViolation(
            "R-8.6",
            f"收到日期 {day} 早于报告出具日 {china_date(report.created_at)} "
            f"received on {day}, before the report was issued",
            field="received_on",
        )
    return day


def report_data(session: Session, audit: Audit, application: Application) -> dict:
    organisation = application.organisation
    indicator_set = audit_indicator_set(session, audit)
    notes = audit.conclusion_notes or {}
    return {
        "application_number": application.number,
        "audit_id": audit.id,
        # (1) client name and address
        "client": {"name": organisation.name, "address": organisation.address},
        # (2) scope and sites
        "scope": audit.scope or application.scope,
        "sites": [
            {"id": site.id, "name": site.name, "address": site.address}
            for site in active_sites(session, audit.organisation_id)
        ],
        # (3) audit type, criteria, objectives
        "audit_type": audit.kind,
        "criteria": audit.criteria or DEFAULT_CRITERIA,
        "objectives": audit.objectives,
        # (4) team leader and members with registration numbers
        "team": [
            {
                "name": member.auditor.name,
                "role": member.role,
                "registration_number": member.auditor.registration_number,
            }
            for member in audit.team
        ],
        # (5) dates and places, deviations from the plan, uncertainty
        "dates": {
            "start": _iso(audit.start_date),
            "end": _iso(audit.end_date),
            "audit_days": sorted({day["audit_day"] for day in audit.communications or []}),
        },
        "places": sorted(
            {activity["site_name"] for activity in (audit.plan or {}).get("activities", [])}
        ),
        "deviations": [
            {
                "kind": entry.get("kind"),
                "details": entry.get("details"),
                "decision": entry.get("decision"),
                "notes": entry.get("notes", ""),
            }
            for entry in audit.escalations or []
            if entry.get("decision") in ("modify_plan", "change_scope")
        ],
        "uncertainty": UNCERTAINTY_STATEMENT,
        # (6) narrative of the audit and of each requirement
        "narrative": _narrative(session, audit, indicator_set),
        # (7) the team's recommendation
        "recommendation": {
            "conclusion": audit.conclusion,
            "star_level": audit.star_level_achieved,
            "requested_level": notes.get("requested_level", application.requested_level),
            "reason": notes.get("reason", ""),
            "follow_up": notes.get("follow_up", ""),
            "programme_adjustments": notes.get("programme_adjustments", ""),
            "concluded_by": audit.concluded_by,
            "concluded_at": audit.concluded_at.isoformat() if audit.concluded_at else None,
        },
        # §8.6.3: the team leader's submission, answering for the report
        "submission": notes.get("report_submission"),
    }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _narrative(session: Session, audit: Audit, indicator_set: IndicatorSet) -> dict:
    latest: dict[str, Finding] = {}
    deductions, bonus = [], []
    special_deductions = {special.code: special for special in indicator_set.special_deductions}
    special_bonus = {special.code: special for special in indicator_set.special_bonus}
    for finding in latest_findings(session, audit):
        if finding.item_code in special_deductions:
            deductions.append(_special_line(special_deductions[finding.item_code], finding))
        elif finding.item_code in special_bonus:
            bonus.append(_special_line(special_bonus[finding.item_code], finding))
        else:
            latest[finding.item_code] = finding
    requirements = []
    for second in indicator_set.second_levels:
        for item in second.items:
            finding = latest.get(item.code)
            requirements.append(
                {
                    "item_code": item.code,
                    "indicator": f"{second.name_zh} {second.name_en}",
                    "text_zh": item.text_zh,
                    "text_en": item.text_en,
                    "result": finding.result if finding else None,
                    "method": finding.method if finding else None,
                    "sample_size": finding.sample_size if finding else None,
                    "failures": finding.failures if finding else None,
                    "evidence": finding.evidence if finding else "",
                    "improvement_opportunity": finding.improvement_opportunity if finding else "",
                }
            )
    mystery = session.scalars(
        select(Document)
        .where(Document.audit_id == audit.id, Document.kind == MYSTERY_SHOPPING_KIND)
        .order_by(Document.id)
    ).all()
    return {
        "document_review": (audit.document_review or {}).get("findings", ""),
        "mystery_shopping": [document.data for document in mystery],
        "opening_meeting": (audit.opening_meeting or {}).get("meeting_date"),
        "daily_communications": [
            {"audit_day": day["audit_day"], "communication": day["daily_communication"]}
            for day in audit.communications or []
        ],
        "requirements": requirements,
        "special_deductions": deductions,
        "special_bonus": bonus,
        "nonconformities": [
            {
                "number": nc.number,
                "item_code": nc.item_code,
                "description": nc.description,
                "evidence": nc.evidence,
            }
            for nc in audit.nonconformities
        ],
        "indicator_set": audit.indicator_set,
        "score": float(audit.score) if audit.score is not None else None,
        "final_score": float(audit.final_score) if audit.final_score is not None else None,
        "special_deduction_count": audit.special_deductions,
        "disagreements": [
            text
            for text in (
                (audit.conclusion_notes or {}).get("disagreements", ""),
                (audit.closing_meeting or {}).get("disagreements", ""),
            )
            if text
        ],
    }


def _special_line(special: Any, finding: Finding) -> dict:
    return {
        "code": special.code,
        "text_zh": special.text_zh,
        "text_en": special.text_en,
        "evidence": finding.evidence,
    }
