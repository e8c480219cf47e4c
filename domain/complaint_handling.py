"""The steps of complaint.bpmn (R-12): acknowledgement, reminder, overdue flag, investigation,
follow-up record and the written reply, without Flask or the engine.

Letters are `Document` rows of the organisation's case, rendered from `domain/letters/`; staff
only (they are not among the client-visible kinds of webapp.access, so a client never learns who
complained about it). A complaint linked to no organisation (a public complaint about the CB
without a certificate number) keeps its letters as documents all the same (issue 11), with no
organisation: no case page lists them, their `data` names the complaint.
"""

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from certflow.dates import china_date
from domain.certificates import current_certificate
from domain.checks import optional_text
from domain.complaints import (
    FOLLOW_UP_MESSAGES,
    KIND_LABELS,
    cycle_number,
    eligible_handlers,
    follow_up_problem,
    get_complaint,
    handler_problem,
    timer_instants,
)
from domain.documents import create_document
from domain.errors import RuleViolation
from domain.letter_templates import render_letter
from domain.models import Certificate, Complaint, Organisation

ACKNOWLEDGEMENT_KIND = "complaint_acknowledgement"
REMINDER_KIND = "complaint_reminder"
FOLLOW_UP_KIND = "complaint_follow_up"
REPLY_KIND = "complaint_reply"
CNCA = "国家认证认可监督管理委员会（CNCA）"


def _organisation_name(session: Session, complaint: Complaint) -> str:
    organisation = (
        session.get(Organisation, complaint.organisation_id) if complaint.organisation_id else None
    )
    return organisation.name if organisation else ""


def _certificate_number(session: Session, complaint: Complaint) -> str:
    certificate = (
        session.get(Certificate, complaint.certificate_id) if complaint.certificate_id else None
    )
    return certificate.number if certificate else ""


def _letter(
    session: Session,
    complaint: Complaint,
    *,
    kind: str,
    template: str,
    facts: dict[str, Any],
    data: dict[str, Any],
    actor: str,
    now: datetime,
) -> tuple[int | None, str]:
    """Store a letter with the complaint (and the organisation's case when it has one);
    (document id, the text)."""
    zh, en = KIND_LABELS[complaint.kind]
    body = render_letter(template, complaint=complaint, kind_zh=zh, kind_en=en, **facts)
    document = create_document(
        session,
        kind=kind,
        title_facts={"reference": complaint.reference},
        body=body,
        organisation_id=complaint.organisation_id,
        application_id=complaint.application_id,
        data={"complaint_id": complaint.id, "reference": complaint.reference, **data},
        created_by=actor,
        now=now,
    )
    return document.id, body


def acknowledge(
    session: Session, *, complaint_id: int, instance_id: int, actor: str, now: datetime
) -> dict:
    """R-12: the acknowledgement to the complainant (reference, receipt, the reply date) and the
    30-day clock from receipt: `reminder_at` (day 20), `escalate_at` (day 25), `overdue_at`
    (day 30) for the boundary timers of the investigation; `instance_id` is the complaint's
    process instance."""
    complaint = get_complaint(session, complaint_id)
    if complaint.status != "received":
        raise RuleViolation(
            "R-12", f"complaint {complaint.reference} is {complaint.status}, not newly received"
        )
    complaint.instance_id = instance_id
    received_on = china_date(complaint.received_at)
    due = complaint.reply_due_on.isoformat()
    timers = timer_instants(complaint)
    document_id, letter = _letter(
        session,
        complaint,
        kind=ACKNOWLEDGEMENT_KIND,
        template="complaint_acknowledgement",
        facts={"received_on": received_on.isoformat(), "due": due},
        data={"received_on": received_on.isoformat(), "reply_due_on": due, **timers},
        actor=actor,
        now=now,
    )
    return {
        "reference": complaint.reference,
        "kind": complaint.kind,
        "channel": complaint.channel,
        "subject": complaint.subject,
        "description": complaint.description,
        "complainant": complaint.complainant_name,
        "organisation_name": _organisation_name(session, complaint),
        "certificate_number": _certificate_number(session, complaint),
        "received_on": received_on.isoformat(),
        "reply_due_on": due,
        **timers,
        "eligible_handlers": eligible_handlers(session, complaint),
        "acknowledgement_document_id": document_id,
        "letter": None if document_id else letter,
    }


def remind(session: Session, *, complaint_id: int, actor: str, now: datetime) -> dict:
    """R-12: day 20 without a reply — the handler is reminded of the reply date."""
    complaint = get_complaint(session, complaint_id)
    if complaint.status in ("answered", "closed"):
        return {"document_id": None, "reminded": False}
    due = complaint.reply_due_on.isoformat()
    days_left = (complaint.reply_due_on - china_date(now)).days
    document_id, letter = _letter(
        session,
        complaint,
        kind=REMINDER_KIND,
        template="complaint_reminder",
        facts={"due": due, "days_left": days_left},
        data={"reply_due_on": due, "days_left": days_left},
        actor=actor,
        now=now,
    )
    return {"document_id": document_id, "reminded": True, "letter": None if document_id else letter}


def mark_overdue(session: Session, *, complaint_id: int) -> dict:
    """R-12: day 30 without a written reply — the complaint is flagged overdue (kept after the
    reply: the quality manager's record of replies that came late)."""
    complaint = get_complaint(session, complaint_id)
    if complaint.status in ("answered", "closed"):
        return {"overdue": False}
    complaint.overdue = True
    return {"overdue": True, "reply_due_on": complaint.reply_due_on.isoformat()}


def record_investigation(
    session: Session,
    *,
    complaint_id: int,
    handler: Any,
    findings: Any,
    substantiated: Any,
    follow_up: Any,
    decision: Any,
) -> dict:
    """R-12: the handler's findings, whether the complaint is substantiated, the decision with its
    reasons (it goes into the reply) and the follow-up. → `investigation` with what the follow-up
    message needs (`certificate_number` of the cycle, current `certificate_id`, `detail`)."""
    complaint = get_complaint(session, complaint_id)
    if complaint.status not in ("received", "investigating"):
        raise RuleViolation(
            "R-12", f"complaint {complaint.reference} is already {complaint.status}"
        )
    problem = handler_problem(session, complaint, handler)
    if problem:
        raise RuleViolation("R-12", problem.removeprefix("R-12: "))
    handler_name = handler.strip()
    findings = optional_text(findings)
    decision = optional_text(decision)
    if not findings or not decision:
        raise RuleViolation("R-12", "the findings and the decision with its reasons are required")
    if not isinstance(substantiated, bool):
        raise RuleViolation("R-12", f"substantiated must be true or false, got {substantiated!r}")
    follow_up = follow_up or "none"
    found = follow_up_problem(session, complaint, substantiated, follow_up)
    if found:
        raise RuleViolation(*found)
    complaint.handler = handler_name
    complaint.findings = findings
    complaint.decision = decision
    complaint.substantiated = substantiated
    complaint.follow_up = follow_up
    complaint.status = "decided"
    result: dict[str, Any] = {
        "substantiated": substantiated,
        "follow_up": follow_up,
        "certificate_id": None,
        "certificate_number": None,
        "detail": None,
    }
    if follow_up != "none":
        certificate = current_certificate(
            session, session.get(Certificate, complaint.certificate_id)
        )
        _message, _reason, rule, zh, en = FOLLOW_UP_MESSAGES[follow_up]
        result.update(
            certificate_id=certificate.id,
            certificate_number=cycle_number(session, certificate),
            detail=(
                f"{rule} {zh} {en}: 经查实的投诉 substantiated complaint {complaint.reference} — "
                f"{decision[:1000]}"
            ),
        )
    return result


def link_follow_up(session: Session, *, complaint_id: int, actor: str, now: datetime) -> dict:
    """R-8.10.1a, R-8.11, R-9.5.1d: the follow-up message has been sent; the client's case gets a
    record naming the complaint and the measure (the receiving instance is linked to the
    complaint when the engine delivers the message, see handlers/complaints.py)."""
    complaint = get_complaint(session, complaint_id)
    follow_up = complaint.follow_up or "none"
    if follow_up == "none":
        raise RuleViolation("R-12", f"complaint {complaint.reference} has no follow-up to link")
    message, reason, rule, zh, en = FOLLOW_UP_MESSAGES[follow_up]
    document_id, _letter_text = _letter(
        session,
        complaint,
        kind=FOLLOW_UP_KIND,
        template="complaint_follow_up",
        facts={
            "number": _certificate_number(session, complaint),
            "measure": f"{zh} {en}（{rule}）",
            "message": message,
            "reason": reason,
        },
        data={"follow_up": follow_up, "message": message, "reason": reason, "rule": rule},
        actor=actor,
        now=now,
    )
    return {
        "follow_up": follow_up,
        "message": message,
        "rule": rule,
        "document_id": document_id,
        "follow_up_instance_id": complaint.follow_up_instance_id,
    }


def reply(session: Session, *, complaint_id: int, actor: str, now: datetime) -> dict:
    """R-12: the written reply — the decision and its reasons, the follow-up in general terms,
    and the right to escalate to CNCA (国家认证认可监督管理委员会); status answered."""
    complaint = get_complaint(session, complaint_id)
    if complaint.status != "decided":
        raise RuleViolation(
            "R-12", f"complaint {complaint.reference} is {complaint.status}: nothing decided yet"
        )
    answered_on = china_date(now)
    late = now >= datetime.fromisoformat(timer_instants(complaint)["overdue_at"])
    document_id, letter = _letter(
        session,
        complaint,
        kind=REPLY_KIND,
        template="complaint_reply",
        facts={
            "received_on": china_date(complaint.received_at).isoformat(),
            "answered_on": answered_on.isoformat(),
            "with_follow_up": bool(complaint.follow_up and complaint.follow_up != "none"),
            "cnca": CNCA,
        },
        data={
            "substantiated": complaint.substantiated,
            "decision": complaint.decision,
            "follow_up": complaint.follow_up,
            "answered_on": answered_on.isoformat(),
            "reply_due_on": complaint.reply_due_on.isoformat(),
            "late": late,
            "escalation_to": "CNCA",
        },
        actor=actor,
        now=now,
    )
    complaint.status = "answered"
    complaint.answered_at = now
    complaint.reply_document_id = document_id
    return {
        "document_id": document_id,
        "answered_on": answered_on.isoformat(),
        "late": late,
        "letter": None if document_id else letter,
    }
