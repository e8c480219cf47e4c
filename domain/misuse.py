"""Misuse of a certificate or the certification mark (R-10.3, R-9.5.2, R-14): the rules and
records of mark_misuse.bpmn (docs/complaints-and-changes.md), without Flask or the engine.

A reported misuse is registered (reference `WY-YYYY-NNNN`, the business key of the case) and
investigated by the audit department. A confirmed misuse ends either in corrective action with a
deadline (today + the correction days, China date; the client has the whole deadline day: the
process's interrupting timer `deadline_at` is 09:00 China time the day after) or in the
withdrawal of the certificate, which the process hands to the `withdrawal` process (that process
publishes it, R-14). The legal follow-up the CB intends (R-10.3 "+ legal action") is recorded.

A confirmed misuse may also suspend the certificate (R-9.5.1c 认证证书和认证标志使用不当): the
process sends `suspend_certificate` (reason c) and the suspension process takes over (the
correction deadline, restoration or withdrawal). R-10.3 公布违规行为: when the investigation
decides so (`publish_violation`, 视情况), the violation is published on the registry on any
path, corrective action included — the clause and the certificate, never the confidential
findings (R-11).

Statuses of a MisuseCase: reported → corrective_action (waiting for the client) → closed or
withdrawn; a case without corrective action goes reported → investigating → closed or withdrawn
within one step of the engine.
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from certflow.dates import china_date, last_day_of_days, limit_timer
from domain.certificates import (
    HELD,
    STATUS_LABELS,
    current_certificate,
    get_certificate,
    publish,
)
from domain.checks import optional_text, require_choice, require_flag, require_text
from domain.documents import create_document
from domain.errors import RuleViolation
from domain.letter_templates import render_letter
from domain.models import Certificate, MisuseCase
from domain.numbering import next_number

RULE = "R-10.3"
REFERENCE_PREFIX = "WY"  # 误用
ACTIONS = ("none", "corrective_action", "suspension", "withdrawal")
VIOLATION_PUBLISHED = "misuse_published"  # Announcement.kind (R-10.3 公布违规行为, R-14)
# close: how the case ends, and which investigation action allows that ending.
OUTCOMES = {
    "no_action": ("none",),
    "corrected": ("corrective_action",),
    "withdrawn": ("withdrawal", "corrective_action"),
    "suspended": ("suspension",),  # handed to the suspension process (R-9.5.1c)
}
NOTICE_KIND = "misuse_notice"
CLOSURE_KIND = "misuse_closure"


def get_misuse(session: Session, misuse_id: int) -> MisuseCase:
    case = session.get(MisuseCase, misuse_id)
    if case is None:
        raise LookupError(f"misuse case {misuse_id} not found")
    return case


def cycle_certificate(session: Session, certificate: Certificate) -> Certificate:
    """The first certificate of this one's cycle: reissues within a cycle (R-9.3, with a change
    date) lead back to it. Its number is the business key of the cycle's lifecycle processes
    (surveillance, withdrawal …), so a `withdraw_certificate` keyed with it also stops the
    surveillance cycle through `certificate_ended`."""
    seen = {certificate.id}
    while certificate.changed_on is not None and certificate.replaces_id is not None:
        previous = session.get(Certificate, certificate.replaces_id)
        if previous is None or previous.id in seen:  # pragma: no cover - broken data
            break
        seen.add(previous.id)
        certificate = previous
    return certificate


def _require_held(case: MisuseCase, certificate: Certificate, action: str) -> None:
    if certificate.status not in HELD:
        raise RuleViolation(
            RULE,
            f"certificate {certificate.number} is {STATUS_LABELS.get(certificate.status)}: "
            f"'{action}' is not possible for misuse case {case.reference} (only the legal "
            "follow-up remains)",
        )


def register(
    session: Session, *, certificate_id: int, reported_by: Any, description: Any, now: datetime
) -> dict:
    """R-10.3: register a reported misuse; the reference `WY-YYYY-NNNN` names the case."""
    certificate = get_certificate(session, certificate_id)
    reported_by = require_text(reported_by, "reported_by", RULE)
    description = require_text(description, "description", RULE)
    today = china_date(now)
    case = MisuseCase(
        reference=next_number(session, MisuseCase.reference, REFERENCE_PREFIX, today.year),
        certificate_id=certificate.id,
        reported_by=reported_by,
        description=description,
        reported_at=now,
        status="reported",
        investigation="",
        legal_follow_up="",
    )
    session.add(case)
    session.flush()
    current = current_certificate(session, certificate)
    return {
        "id": case.id,
        "reference": case.reference,
        "certificate_id": certificate.id,
        # The business key of the certificate's lifecycle processes (withdraw_certificate).
        "certificate_number": cycle_certificate(session, certificate).number,
        "current_certificate_number": current.number,
        "certificate_status": current.status,
        "organisation_name": current.organisation_name,
    }


def record_investigation(
    session: Session,
    *,
    misuse_id: int,
    confirmed: Any,
    investigation: Any,
    action: Any,
    legal_follow_up: Any,
    publish_violation: Any = False,
    correction_days: int,
    actor: str,
    now: datetime,
) -> dict:
    """R-10.3: the audit department's findings. Not confirmed → no action; confirmed →
    corrective action with a deadline, or withdrawal (R-9.5.2). A confirmed misuse is notified
    to the client in writing (`misuse_notice`). The legal follow-up is recorded."""
    case = get_misuse(session, misuse_id)
    if case.status != "reported":
        raise RuleViolation(
            RULE, f"misuse case {case.reference} is {case.status}: already investigated"
        )
    confirmed = require_flag(confirmed, "confirmed", RULE)
    investigation = require_text(investigation, "investigation", RULE)
    action = require_choice(action, "action", RULE, ACTIONS)
    if not confirmed and action != "none":
        raise RuleViolation(
            RULE, f"a misuse that is not confirmed takes no action (got '{action}')"
        )
    if confirmed and action == "none":
        raise RuleViolation(
            RULE,
            "a confirmed misuse needs corrective action, the suspension (R-9.5.1c) or the "
            "withdrawal of the certificate",
        )
    publish_violation = require_flag(publish_violation, "publish_violation", RULE)
    if publish_violation and not confirmed:
        raise RuleViolation(RULE, "only a confirmed misuse is published as a violation")
    legal_follow_up = optional_text(legal_follow_up)
    certificate = current_certificate(session, get_certificate(session, case.certificate_id))
    if action != "none":
        _require_held(case, certificate, action)

    deadline = deadline_at = None
    if action == "corrective_action":
        # the last day of the correction period (it starts today); acts the day after.
        deadline = last_day_of_days(china_date(now), correction_days)
        deadline_at = limit_timer(deadline)
    case.confirmed = confirmed
    case.investigation = investigation
    case.action = action
    case.deadline = deadline
    case.legal_follow_up = legal_follow_up
    case.status = "corrective_action" if action == "corrective_action" else "investigating"
    notice_id = _notice(session, case, certificate, deadline, actor, now).id if confirmed else None
    announcement = None
    if publish_violation:  # 视情况公布违规行为
        announcement = _publish_violation(session, case, certificate, now)
    return {
        "id": case.id,
        "confirmed": confirmed,
        "action": action,
        "deadline": deadline.isoformat() if deadline else None,
        "deadline_at": deadline_at,
        "notice_document_id": notice_id,
        "announcement_id": announcement.id if announcement is not None else None,
    }


def _publish_violation(session: Session, case: MisuseCase, certificate: Certificate, now):
    """R-10.3 公布违规行为 (R-14): the registry states the violation — the clause, the certificate
    and the measure — never the findings of the case (R-11)."""
    measure = {
        "corrective_action": ("限期纠正", "corrective action with a deadline"),
        "suspension": ("暂停证书", "the certificate is suspended"),
        "withdrawal": ("撤销证书", "the certificate is withdrawn"),
    }[case.action]
    return publish(
        session,
        certificate,
        kind=VIOLATION_PUBLISHED,
        now=now,
        lines=[
            f"{certificate.organisation_name}（{certificate.number}）存在误用认证证书或认证标志的"
            f"违规行为，处理措施：{measure[0]}（规则第10.3条）。",
            f"{certificate.organisation_name} ({certificate.number}) misused the certificate or "
            f"the certification mark; measure: {measure[1]} (rule 10.3).",
        ],
    )


def _notice(
    session: Session,
    case: MisuseCase,
    certificate: Certificate,
    deadline: date | None,
    actor: str,
    now: datetime,
):
    """The written notice of a confirmed misuse to the client: what was found and what follows
    (R-10.3). The CB's legal follow-up is internal and not part of it."""
    return create_document(
        session,
        kind=NOTICE_KIND,
        title_facts={"reference": case.reference},
        body=render_letter("misuse_notice", certificate=certificate, case=case, deadline=deadline),
        organisation_id=certificate.organisation_id,
        application_id=certificate.application_id,
        created_by=actor,
        now=now,
        data={
            "misuse_id": case.id,
            "reference": case.reference,
            "certificate_number": certificate.number,
            "action": case.action,
            "deadline": deadline.isoformat() if deadline else None,
        },
    )


def close(
    session: Session, *, misuse_id: int, outcome: Any, note: Any, actor: str, now: datetime
) -> dict:
    """R-10.3: the case ends — `no_action` (not confirmed), `corrected` (the corrective action
    was verified and accepted) or `withdrawn` (the withdrawal was handed to the withdrawal
    process, which withdraws and publishes the certificate). A closure record keeps who closed
    it, when and why (R-13)."""
    case = get_misuse(session, misuse_id)
    outcome = require_choice(outcome, "outcome", RULE, OUTCOMES)
    if case.status not in ("investigating", "corrective_action"):
        raise RuleViolation(
            RULE, f"misuse case {case.reference} is {case.status}: it cannot be closed now"
        )
    if case.action not in OUTCOMES[outcome]:
        raise RuleViolation(
            RULE,
            f"misuse case {case.reference} (action '{case.action}') cannot end as '{outcome}'",
        )
    note = optional_text(note)
    case.status = {"withdrawn": "withdrawn", "suspended": "suspended"}.get(outcome, "closed")
    case.closed_at = now
    certificate = get_certificate(session, case.certificate_id)
    record = create_document(
        session,
        kind=CLOSURE_KIND,
        title_facts={"reference": case.reference},
        body=render_letter(
            "misuse_closure", case=case, certificate=certificate, outcome=outcome, note=note
        ),
        organisation_id=certificate.organisation_id,
        application_id=certificate.application_id,
        created_by=actor,
        now=now,
        data={
            "misuse_id": case.id,
            "reference": case.reference,
            "outcome": outcome,
            "note": note,
            "legal_follow_up": case.legal_follow_up,
        },
    )
    return {
        "id": case.id,
        "status": case.status,
        "outcome": outcome,
        "closure_document_id": record.id,
    }
