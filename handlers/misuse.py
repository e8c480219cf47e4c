"""Handlers: misuse of a certificate or the certification mark (R-10.3, R-9.5.2, R-14) — the
service tasks of mark_misuse.bpmn (docs/complaints-and-changes.md).

A reported misuse is registered (reference `WY-YYYY-NNNN`, the business key of the case) and
investigated by the audit department. A confirmed misuse ends either in corrective action with a
deadline (today + MISUSE_CORRECTION_DAYS, 30 by default, China date; the client has the whole
deadline day: the process's interrupting timer `deadline_at` is 09:00 China time the day after)
or in the withdrawal of the certificate, which the process hands to the `withdrawal` process by
the `withdraw_certificate` message (that process publishes it, R-14). The legal follow-up the
CB intends (R-10.3 "+ legal action") is recorded with the case.

Statuses of a MisuseCase: reported → corrective_action (waiting for the client) → closed or
withdrawn; a case without corrective action goes reported → investigating → closed or withdrawn
within one step of the engine.
"""

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from certflow.dates import TIMER_HOUR_CHINA, china_date, china_time_in_utc, iso_utc
from domain.certificates import HELD, STATUS_LABELS, current_certificate, get_certificate
from domain.documents import create_document
from domain.errors import RuleViolation
from domain.models import Certificate, MisuseCase
from domain.numbering import next_number
from handlers.audit import optional_text, require_id, require_text
from handlers.nonconformity import setting
from handlers.registry import HandlerContext, handler

RULE = "R-10.3"
REFERENCE_PREFIX = "WY"  # 误用
DEFAULT_MISUSE_CORRECTION_DAYS = 30
ACTIONS = ("none", "corrective_action", "withdrawal")
# misuse.close: how the case ends, and which investigation action allows that ending.
OUTCOMES = {
    "no_action": ("none",),
    "corrected": ("corrective_action",),
    "withdrawn": ("withdrawal", "corrective_action"),
}
NOTICE_KIND = "misuse_notice"
CLOSURE_KIND = "misuse_closure"


def get_misuse(session: Session, misuse_id: Any) -> MisuseCase:
    case = session.get(MisuseCase, require_id(misuse_id, "misuse_id"))
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


@handler("misuse.register")
def register(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-10.3: register a reported misuse of a certificate or the mark; the reference
    `WY-YYYY-NNNN` becomes the business key of the case."""
    certificate = get_certificate(ctx.session, params.get("certificate_id"))
    reported_by = require_text(params.get("reported_by"), "reported_by", RULE)
    description = require_text(params.get("description"), "description", RULE)
    today = china_date(ctx.now)
    case = MisuseCase(
        reference=next_number(ctx.session, MisuseCase.reference, REFERENCE_PREFIX, today.year),
        certificate_id=certificate.id,
        reported_by=reported_by,
        description=description,
        reported_at=ctx.now,
        status="reported",
        investigation="",
        legal_follow_up="",
    )
    ctx.session.add(case)
    ctx.session.flush()
    ctx.set_business_key(case.reference)
    current = current_certificate(ctx.session, certificate)
    return {
        "id": case.id,
        "reference": case.reference,
        "certificate_id": certificate.id,
        # The business key of the certificate's lifecycle processes (withdraw_certificate).
        "certificate_number": cycle_certificate(ctx.session, certificate).number,
        "current_certificate_number": current.number,
        "certificate_status": current.status,
        "organisation_name": current.organisation_name,
    }


@handler("misuse.record_investigation")
def record_investigation(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-10.3: the audit department's findings. Not confirmed → no action; confirmed →
    corrective action with a deadline, or withdrawal (R-9.5.2). A confirmed misuse is notified
    to the client in writing (`misuse_notice`). The legal follow-up is recorded."""
    case = get_misuse(ctx.session, params.get("misuse_id"))
    if case.status != "reported":
        raise RuleViolation(
            RULE, f"misuse case {case.reference} is {case.status}: already investigated"
        )
    confirmed = params.get("confirmed")
    if not isinstance(confirmed, bool):
        raise RuleViolation(RULE, f"'confirmed' must be true or false, got {confirmed!r}")
    investigation = require_text(params.get("investigation"), "investigation", RULE)
    action = params.get("action")
    if action not in ACTIONS:
        raise RuleViolation(RULE, f"'action' must be one of {list(ACTIONS)}, got {action!r}")
    if not confirmed and action != "none":
        raise RuleViolation(
            RULE, f"a misuse that is not confirmed takes no action (got '{action}')"
        )
    if confirmed and action == "none":
        raise RuleViolation(
            RULE, "a confirmed misuse needs corrective action or the withdrawal of the certificate"
        )
    legal_follow_up = optional_text(params.get("legal_follow_up"))
    certificate = current_certificate(
        ctx.session, get_certificate(ctx.session, case.certificate_id)
    )
    if action != "none":
        _require_held(case, certificate, action)

    deadline = deadline_at = None
    if action == "corrective_action":
        deadline = china_date(ctx.now) + timedelta(
            days=setting("MISUSE_CORRECTION_DAYS", DEFAULT_MISUSE_CORRECTION_DAYS)
        )
        deadline_at = iso_utc(china_time_in_utc(deadline + timedelta(days=1), TIMER_HOUR_CHINA))
    case.confirmed = confirmed
    case.investigation = investigation
    case.action = action
    case.deadline = deadline
    case.legal_follow_up = legal_follow_up
    case.status = "corrective_action" if action == "corrective_action" else "investigating"
    notice_id = _notice(ctx, case, certificate, deadline).id if confirmed else None
    return {
        "id": case.id,
        "confirmed": confirmed,
        "action": action,
        "deadline": deadline.isoformat() if deadline else None,
        "deadline_at": deadline_at,
        "notice_document_id": notice_id,
    }


def _notice(ctx: HandlerContext, case: MisuseCase, certificate: Certificate, deadline):
    """The written notice of a confirmed misuse to the client: what was found and what follows
    (R-10.3). The CB's legal follow-up is internal and not part of it."""
    if deadline is not None:
        consequence = [
            f"请于 {deadline.isoformat()} 前停止误用、采取纠正措施并提交证据；逾期未纠正或纠正未获"
            "认可的，将撤销认证证书（R-9.5.2）并予以公布（R-14）。",
            f"Stop the misuse, take corrective action and submit the evidence by "
            f"{deadline.isoformat()}; if it is not corrected by then, or the correction is not "
            "accepted, the certificate is withdrawn (R-9.5.2) and the withdrawal published (R-14).",
        ]
    else:
        consequence = [
            "认证证书将被撤销（R-9.5.2），撤销将予以公布（R-14），撤销后不得继续使用认证证书和认证标志"
            "（R-10.1）。",
            "The certificate will be withdrawn (R-9.5.2) and the withdrawal published (R-14); "
            "afterwards neither the certificate nor the mark may be used (R-10.1).",
        ]
    return create_document(
        ctx.session,
        kind=NOTICE_KIND,
        title=f"认证证书和标志误用通知 Notice of misuse — {case.reference}",
        lines=[
            f"致 To: {certificate.organisation_name}",
            f"证书 Certificate: {certificate.number}",
            "",
            "经调查，贵组织存在误用认证证书或认证标志的情况（R-10.3）：",
            "Our investigation confirmed a misuse of the certificate or the certification mark "
            "(R-10.3):",
            "",
            case.investigation,
            "",
            *consequence,
        ],
        organisation_id=certificate.organisation_id,
        application_id=certificate.application_id,
        created_by=ctx.actor,
        now=ctx.now,
        data={
            "misuse_id": case.id,
            "reference": case.reference,
            "certificate_number": certificate.number,
            "action": case.action,
            "deadline": deadline.isoformat() if deadline else None,
        },
    )


@handler("misuse.close")
def close(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-10.3: the case ends — `no_action` (not confirmed), `corrected` (the corrective action
    was verified and accepted) or `withdrawn` (the withdrawal was handed to the withdrawal
    process, which withdraws and publishes the certificate). A closure record keeps who closed
    it, when and why (R-13)."""
    case = get_misuse(ctx.session, params.get("misuse_id"))
    outcome = params.get("outcome")
    if outcome not in OUTCOMES:
        raise RuleViolation(RULE, f"'outcome' must be one of {list(OUTCOMES)}, got {outcome!r}")
    if case.status not in ("investigating", "corrective_action"):
        raise RuleViolation(
            RULE, f"misuse case {case.reference} is {case.status}: it cannot be closed now"
        )
    if case.action not in OUTCOMES[outcome]:
        raise RuleViolation(
            RULE,
            f"misuse case {case.reference} (action '{case.action}') cannot end as '{outcome}'",
        )
    note = optional_text(params.get("note"))
    case.status = "withdrawn" if outcome == "withdrawn" else "closed"
    case.closed_at = ctx.now
    certificate = get_certificate(ctx.session, case.certificate_id)
    record = create_document(
        ctx.session,
        kind=CLOSURE_KIND,
        title=f"误用案件结案 Misuse case closed — {case.reference}",
        lines=[
            f"案件 Case: {case.reference}（证书 certificate {certificate.number}）",
            f"结果 Outcome: {outcome}",
            f"说明 Note: {note}",
            f"法律追究 Legal follow-up: {case.legal_follow_up or '无 none'}",
        ],
        organisation_id=certificate.organisation_id,
        application_id=certificate.application_id,
        created_by=ctx.actor,
        now=ctx.now,
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
