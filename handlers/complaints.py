"""Complaints and appeals (R-12, with R-8.10.1a, R-8.11 and R-9.5.1d): registration, the service
tasks, the guard and the validators of complaint.bpmn (docs/complaints-and-changes.md).

Two kinds are kept apart: complaints about a certified client's service (`about_client`, linked
to the client by its certificate number) and complaints or appeals about the CB or its auditors
(`about_cb`, `appeal` — incl. appeals against a certification decision).

* `register_complaint` (called by the public form, the client portal and staff registration in
  webapp/complaints.py) creates the `Complaint` with its reference `TS-YYYY-NNNN` and the reply
  date (the China date of receipt + 30 days, R-12); the web layer then starts `complaint` with
  `{"complaint_id": id}` and the reference as business key.
* `complaints.acknowledge` writes the acknowledgement and computes the timers from the receipt:
  reminder on day 20, escalation to the quality manager on day 25, overdue on day 30, each at
  09:00 China time (ISO timestamps with offset for the boundary timers).
* Impartiality (R-12): the handler must not be involved in the matter — not on the team of any
  audit of the organisation concerned (its applications, certificates, surveillance and special
  audits), not a decision maker of its applications, not the person who recorded a status
  decision on its certificates (`case_involvement`). The validator
  `complaint_handler_not_involved` refuses such a handler with 422; the guard `complaint_handler`
  lets only the assigned handler investigate; `record_investigation` checks both again.
* Follow-up of a substantiated complaint against a client (`about_client` only): extra
  surveillance (R-8.10.1a), a special audit (R-8.11, sent as extra_surveillance reason d) or
  suspension (R-9.5.1d), by BPMN messages whose payload carries the certificate number as
  business key and `complaint_reference`. The link is kept both ways:
  - follow-up → complaint: the payload (kept by the receiving process, e.g. `suspend`), the
    detail text of the certificate event / extra-audit record naming the complaint, and a
    `complaint_follow_up` document on the client's case (`complaints.link_follow_up`);
  - complaint → follow-up: `Complaint.follow_up_instance_id` is the process instance that
    received the message. The engine routes thrown messages only after the sending instance has
    run its steps, so no service task of the complaint can see that instance; the engine's
    `MessageDelivered` hook (which names the receiving instance and carries the payload) sets
    it, in the same transaction (`_link_delivery`).
* `complaints.reply` writes the reply letter: the decision with its reasons and the right to
  escalate to CNCA (国家认证认可监督管理委员会); status `answered`.

Letters are `Document` rows of the organisation's case; staff only (they are not among the
client-visible kinds of webapp.access, so a client never learns who complained about it). A
complaint linked to no organisation (a public complaint about the CB without a certificate
number) has no case to store them with while `document.organisation_id` is required: its letters
are then returned in the task data only (`letter`).
"""

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from certflow.dates import TIMER_HOUR_CHINA, china_date, china_time_in_utc, iso_utc
from certflow.models import User
from domain.certificates import HELD, current_certificate
from domain.documents import create_document
from domain.errors import RuleViolation
from domain.models import (
    Application,
    Audit,
    Auditor,
    AuditProgramme,
    AuditTeamMember,
    Certificate,
    CertificateEvent,
    Complaint,
    Decision,
    Document,
    Organisation,
)
from domain.numbering import next_number
from engine.records import record_event, task_completed
from handlers.audit import optional_text, require_id
from handlers.registry import (
    GuardContext,
    HandlerContext,
    MessageDelivered,
    guard,
    handler,
    on_event,
    validator,
)

REFERENCE_PREFIX = "TS"  # 投诉 tousu
REFERENCE_PATTERN = re.compile(r"^TS-\d{4}-\d{4,}$")
KINDS = ("about_client", "about_cb", "appeal")
CHANNELS = ("public", "portal", "staff")
FOLLOW_UPS = ("none", "extra_surveillance", "special_audit", "suspension")
HANDLER_ROLE = "complaints"

REPLY_DAYS = 30  # a written reply within 30 days of receipt
REMINDER_DAY = 20
ESCALATION_DAY = 25
OVERDUE_DAY = REPLY_DAYS

# Field limits of the registration (the columns of `complaint`).
MAX_LENGTHS = {
    "complainant_name": 200,
    "complainant_contact": 300,
    "subject": 300,
    "description": 8000,
    "certificate_number": 40,
}

ACKNOWLEDGEMENT_KIND = "complaint_acknowledgement"
REMINDER_KIND = "complaint_reminder"
FOLLOW_UP_KIND = "complaint_follow_up"
REPLY_KIND = "complaint_reply"

KIND_LABELS = {
    "about_client": ("对获证组织的投诉", "complaint about a certified client"),
    "about_cb": ("对认证机构或其审查人员的投诉", "complaint about the CB or its auditors"),
    "appeal": ("申诉（含对认证决定的申诉）", "appeal (incl. against a certification decision)"),
}
# follow_up → (message, reason letter, rule, Chinese, English)
FOLLOW_UP_MESSAGES = {
    "extra_surveillance": (
        "extra_surveillance",
        "a",
        "R-8.10.1a",
        "额外监督审查",
        "extra surveillance",
    ),
    "special_audit": ("extra_surveillance", "d", "R-8.11", "特别审查", "special audit"),
    "suspension": ("suspend_certificate", "d", "R-9.5.1d", "暂停证书", "suspension"),
}
CNCA = "国家认证认可监督管理委员会（CNCA）"


class ComplaintInputError(ValueError):
    """Registration data that breaks the rules; `errors` maps fields to codes (see
    `validate_registration`), which the web layer turns into messages in the user's language."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(
            "; ".join(f"{field}: {', '.join(codes)}" for field, codes in errors.items())
        )
        self.errors = errors


# -- registration ---------------------------------------------------------------------------------
def normalise_certificate_number(value: Any) -> str:
    """Certificate numbers as people type them: any case, spaces ignored."""
    return re.sub(r"\s+", "", value).upper() if isinstance(value, str) else ""


def find_certificate(session: Session, number: str) -> Certificate | None:
    number = normalise_certificate_number(number)
    if not number:
        return None
    return session.scalars(select(Certificate).where(Certificate.number == number)).first()


def validate_registration(
    session: Session,
    *,
    kind: Any,
    complainant_name: Any,
    complainant_contact: Any,
    subject: Any,
    description: Any,
    certificate_number: Any,
    organisation_id: int | None = None,
    kinds: Iterable[str] = KINDS,
    own_organisation: bool = False,
) -> dict[str, list[str]]:
    """Field errors of a registration as codes: `required`, `too_long`, `choice`,
    `certificate_required` (a complaint about a client names its certificate),
    `unknown_certificate`, `other_organisation` (a client's own complaint or appeal concerns its
    own certificates; with `own_organisation` also for a complainant without organisation)."""
    errors: dict[str, list[str]] = {}
    if kind not in tuple(kinds):
        errors["kind"] = ["required" if not kind else "choice"]
    texts = {
        "complainant_name": complainant_name,
        "complainant_contact": complainant_contact,
        "subject": subject,
        "description": description,
    }
    for field, value in texts.items():
        text = value.strip() if isinstance(value, str) else ""
        if not text:
            errors[field] = ["required"]
        elif len(text) > MAX_LENGTHS[field]:
            errors[field] = ["too_long"]
    raw_number = certificate_number if isinstance(certificate_number, str) else ""
    number = normalise_certificate_number(raw_number)
    if len(number) > MAX_LENGTHS["certificate_number"]:
        errors["certificate_number"] = ["too_long"]
    elif number:
        certificate = find_certificate(session, number)
        if certificate is None:
            errors["certificate_number"] = ["unknown_certificate"]
        elif (own_organisation or organisation_id is not None) and (
            certificate.organisation_id != organisation_id
        ):
            errors["certificate_number"] = ["other_organisation"]
    elif kind == "about_client":
        errors["certificate_number"] = ["certificate_required"]
    return errors


def register_complaint(
    session: Session,
    *,
    kind: str,
    channel: str,
    complainant_name: str,
    complainant_contact: str,
    subject: str,
    description: str,
    certificate_number: str | None,
    actor: str,
    now: datetime,
    organisation_id: int | None = None,
) -> Complaint:
    """R-12: register a complaint or appeal received now: reference TS-YYYY-NNNN (China year),
    reply due on the China date of receipt + 30 days, linked to the certificate named (and so to
    its organisation and application). `organisation_id` is the complainant's own organisation
    (the client portal): its latest application is linked when no certificate is named (an
    appeal against a refusal has none). Raises ComplaintInputError for bad input; the caller
    starts the `complaint` process."""
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {CHANNELS}, got {channel!r}")
    errors = validate_registration(
        session,
        kind=kind,
        complainant_name=complainant_name,
        complainant_contact=complainant_contact,
        subject=subject,
        description=description,
        certificate_number=certificate_number,
        organisation_id=organisation_id,
    )
    if errors:
        raise ComplaintInputError(errors)
    certificate = find_certificate(session, certificate_number or "")
    application_id = certificate.application_id if certificate else None
    if certificate is not None:
        organisation_id = certificate.organisation_id
    elif organisation_id is not None:
        application_id = session.scalars(
            select(Application.id)
            .where(Application.organisation_id == organisation_id)
            .order_by(Application.submitted_at.desc(), Application.id.desc())
            .limit(1)
        ).first()
    received_on = china_date(now)
    complaint = Complaint(
        reference=next_number(session, Complaint.reference, REFERENCE_PREFIX, received_on.year),
        kind=kind,
        channel=channel,
        complainant_name=complainant_name.strip(),
        complainant_contact=complainant_contact.strip(),
        subject=subject.strip(),
        description=description.strip(),
        organisation_id=organisation_id,
        certificate_id=certificate.id if certificate else None,
        application_id=application_id,
        status="received",
        received_at=now,
        reply_due_on=received_on + timedelta(days=REPLY_DAYS),
        overdue=False,
        findings="",
        decision="",
    )
    session.add(complaint)
    session.flush()
    # who registered it, through which channel (the process is often started by the
    # system on the complainant's behalf).
    record_event(
        session,
        "complaint_registered",
        actor=actor,
        at=now,
        data={
            "complaint_id": complaint.id,
            "reference": complaint.reference,
            "kind": kind,
            "channel": channel,
        },
    )
    session.flush()
    return complaint


# -- reading --------------------------------------------------------------------------------------
def get_complaint(session: Session, complaint_id: Any) -> Complaint:
    complaint = session.get(Complaint, require_id(complaint_id, "complaint_id"))
    if complaint is None:
        raise LookupError(f"complaint {complaint_id} not found")
    return complaint


def find_by_reference(session: Session, reference: Any) -> Complaint | None:
    """The complaint of a reference as typed (any case, spaces ignored); None when malformed or
    unknown."""
    if not isinstance(reference, str):
        return None
    reference = re.sub(r"\s+", "", reference).upper()[:40]
    if not REFERENCE_PATTERN.fullmatch(reference):
        return None
    return session.scalars(select(Complaint).where(Complaint.reference == reference)).first()


def public_status(session: Session, complaint: Complaint) -> str:
    """What the complainant may know (R-11, R-12): `received`, `investigating` (a handler is
    assigned) or `answered` — nothing about findings, handler or follow-up."""
    if complaint.status in ("answered", "closed"):
        return "answered"
    if complaint.status in ("investigating", "decided"):
        return "investigating"
    if complaint.instance_id is not None and task_completed(
        session, complaint.instance_id, "Task_AssignHandler"
    ):
        return "investigating"
    return "received"


def timer_instants(complaint: Complaint) -> dict[str, str]:
    """R-12: reminder (day 20), escalation (day 25) and overdue (day 30) after the China date of
    receipt, each at 09:00 China time, as ISO timestamps with offset."""
    received_on = china_date(complaint.received_at)

    def at(day: int) -> str:
        return iso_utc(china_time_in_utc(received_on + timedelta(days=day), TIMER_HOUR_CHINA))

    return {
        "reminder_at": at(REMINDER_DAY),
        "escalate_at": at(ESCALATION_DAY),
        "overdue_at": at(OVERDUE_DAY),
    }


# -- impartiality ---------------------------------------------------------------------------------
def _certificates_of(session: Session, complaint: Complaint) -> list[int]:
    if complaint.organisation_id is not None:
        return list(
            session.scalars(
                select(Certificate.id).where(
                    Certificate.organisation_id == complaint.organisation_id
                )
            )
        )
    return [complaint.certificate_id] if complaint.certificate_id else []


def _applications_of(session: Session, complaint: Complaint) -> set[int]:
    ids: set[int] = set()
    if complaint.application_id:
        ids.add(complaint.application_id)
    if complaint.certificate_id:
        certificate = session.get(Certificate, complaint.certificate_id)
        if certificate is not None and certificate.application_id:
            ids.add(certificate.application_id)
    if complaint.organisation_id is not None:
        ids.update(
            session.scalars(
                select(Application.id).where(
                    Application.organisation_id == complaint.organisation_id
                )
            )
        )
    return ids


def case_involvement(session: Session, complaint: Complaint) -> dict[str, str]:
    """username → why the person is involved in the matter of the complaint (R-12): on the team
    of an audit of the organisation concerned (any application, certificate, surveillance or
    special audit; technical experts included), decision maker of one of its applications, or
    the person who recorded a status decision on one of its certificates. A complaint without
    organisation, application or certificate names nobody."""
    involved: dict[str, str] = {}
    applications = _applications_of(session, complaint)
    certificates = _certificates_of(session, complaint)
    audit_filters = []
    if complaint.organisation_id is not None:
        audit_filters.append(Audit.organisation_id == complaint.organisation_id)
    if applications:
        audit_filters.append(Audit.application_id.in_(applications))
        audit_filters.append(AuditProgramme.application_id.in_(applications))
    if certificates:
        audit_filters.append(Audit.certificate_id.in_(certificates))
    if audit_filters:
        rows = session.execute(
            select(User.username, AuditTeamMember.role, Audit.id, Audit.kind)
            .select_from(AuditTeamMember)
            .join(Audit, Audit.id == AuditTeamMember.audit_id)
            .outerjoin(AuditProgramme, AuditProgramme.id == Audit.programme_id)
            .join(Auditor, Auditor.id == AuditTeamMember.auditor_id)
            .join(User, User.id == Auditor.user_id)
            .where(or_(*audit_filters))
            .order_by(Audit.id, AuditTeamMember.id)
        )
        for username, role, audit_id, kind in rows:
            involved.setdefault(username, f"audit team member ({role}) of {kind} audit {audit_id}")
    if applications:
        rows = session.execute(
            select(Decision.decided_by, Application.number)
            .join(Application, Application.id == Decision.application_id)
            .where(Decision.application_id.in_(applications))
            .order_by(Decision.id)
        )
        for username, number in rows:
            involved.setdefault(username, f"certification decision maker of {number}")
    if certificates:
        rows = session.execute(
            select(CertificateEvent.actor, CertificateEvent.event, Certificate.number)
            .join(Certificate, Certificate.id == CertificateEvent.certificate_id)
            .where(
                CertificateEvent.certificate_id.in_(certificates),
                CertificateEvent.actor != "system",
            )
            .order_by(CertificateEvent.id)
        )
        for username, what, number in rows:
            involved.setdefault(username, f"recorded the decision '{what}' on {number}")
    return involved


def handler_problem(session: Session, complaint: Complaint, username: Any) -> str | None:
    """Why `username` may not handle the complaint (R-12), or None."""
    if not isinstance(username, str) or not username.strip():
        return "R-12: name the handler (a username)"
    username = username.strip()
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None or not user.active:
        return f"R-12: there is no active user {username!r}"
    if not user.has_role(HANDLER_ROLE):
        return f"R-12: {username} does not hold the role '{HANDLER_ROLE}' (投诉处理)"
    why = case_involvement(session, complaint).get(username)
    if why:
        return (
            f"R-12: {username} is involved in the matter ({why}); complaints and appeals are "
            "handled by people not involved in it"
        )
    return None


def eligible_handlers(session: Session, complaint: Complaint) -> list[str]:
    """Active users of the complaints role who are not involved in the matter (for the
    instructions; the validator decides)."""
    involved = case_involvement(session, complaint)
    users = session.scalars(select(User).where(User.active.is_(True)).order_by(User.username))
    return [u.username for u in users if u.has_role(HANDLER_ROLE) and u.username not in involved]


# -- helpers of the letters -----------------------------------------------------------------------
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


def _documents_need_organisation() -> bool:
    return not Document.__table__.c.organisation_id.nullable


def _letter(
    ctx: HandlerContext,
    complaint: Complaint,
    *,
    kind: str,
    title: str,
    lines: list[str],
    data: dict[str, Any],
) -> tuple[int | None, str]:
    """Store a letter with the organisation's case; (document id or None, the text)."""
    body = "\n".join(lines) + "\n"
    if complaint.organisation_id is None and _documents_need_organisation():
        return None, body
    document = create_document(
        ctx.session,
        kind=kind,
        title=title,
        lines=lines,
        organisation_id=complaint.organisation_id,
        application_id=complaint.application_id,
        data={"complaint_id": complaint.id, "reference": complaint.reference, **data},
        created_by=ctx.actor,
        now=ctx.now,
    )
    return document.id, body


def _kind_line(complaint: Complaint) -> str:
    zh, en = KIND_LABELS[complaint.kind]
    return f"- 类别 Kind: {zh} {en}"


# -- service tasks --------------------------------------------------------------------------------
@handler("complaints.acknowledge")
def acknowledge(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-12: the acknowledgement to the complainant (reference, receipt, the reply date) and the
    30-day clock from receipt: `reminder_at` (day 20), `escalate_at` (day 25), `overdue_at`
    (day 30) for the boundary timers of the investigation."""
    complaint = get_complaint(ctx.session, params.get("complaint_id"))
    if complaint.status != "received":
        raise RuleViolation(
            "R-12", f"complaint {complaint.reference} is {complaint.status}, not newly received"
        )
    complaint.instance_id = ctx.instance_id
    ctx.set_business_key(complaint.reference)
    received_on = china_date(complaint.received_at)
    due = complaint.reply_due_on.isoformat()
    timers = timer_instants(complaint)
    document_id, letter = _letter(
        ctx,
        complaint,
        kind=ACKNOWLEDGEMENT_KIND,
        title=f"投诉/申诉受理回执 Acknowledgement — {complaint.reference}",
        lines=[
            f"# 投诉/申诉受理回执 Acknowledgement of receipt — {complaint.reference}",
            f"致 To: {complaint.complainant_name}（{complaint.complainant_contact}）",
            "",
            f"- 编号 Reference: {complaint.reference}",
            _kind_line(complaint),
            f"- 事由 Subject: {complaint.subject}",
            f"- 收到日期 Received on: {received_on.isoformat()}",
            f"- 书面答复期限 Written reply by: {due}",
            "",
            f"我们已收到您的来信，将由与该事项无关的人员调查处理，并于 {due} 前书面答复（R-12）。"
            "凭编号可在网站查询处理状态。",
            f"We have received your submission. People not involved in the matter will "
            f"investigate it and we will reply in writing by {due} (R-12). You can follow the "
            "status on our website with the reference.",
        ],
        data={"received_on": received_on.isoformat(), "reply_due_on": due, **timers},
    )
    return {
        "reference": complaint.reference,
        "kind": complaint.kind,
        "channel": complaint.channel,
        "subject": complaint.subject,
        "description": complaint.description,
        "complainant": complaint.complainant_name,
        "organisation_name": _organisation_name(ctx.session, complaint),
        "certificate_number": _certificate_number(ctx.session, complaint),
        "received_on": received_on.isoformat(),
        "reply_due_on": due,
        **timers,
        "eligible_handlers": eligible_handlers(ctx.session, complaint),
        "acknowledgement_document_id": document_id,
        "letter": None if document_id else letter,
    }


@handler("complaints.remind")
def remind(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-12: day 20 without a reply — the handler is reminded of the reply date."""
    complaint = get_complaint(ctx.session, params.get("complaint_id"))
    if complaint.status in ("answered", "closed"):
        return {"document_id": None, "reminded": False}
    due = complaint.reply_due_on.isoformat()
    days_left = (complaint.reply_due_on - china_date(ctx.now)).days
    document_id, letter = _letter(
        ctx,
        complaint,
        kind=REMINDER_KIND,
        title=f"投诉答复提醒 Reply reminder — {complaint.reference}",
        lines=[
            f"# 投诉答复提醒 Reply reminder — {complaint.reference}",
            f"- 事由 Subject: {complaint.subject}",
            f"- 书面答复期限 Written reply due by: {due}（剩余 {days_left} 天 days left）",
            "",
            "请尽快完成调查并作出决定，以便在期限内书面答复（R-12）。",
            "Please complete the investigation and decide, so that the written reply goes out in "
            "time (R-12).",
        ],
        data={"reply_due_on": due, "days_left": days_left},
    )
    return {"document_id": document_id, "reminded": True, "letter": None if document_id else letter}


@handler("complaints.mark_overdue")
def mark_overdue(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-12: day 30 without a written reply — the complaint is flagged overdue (kept after the
    reply: the quality manager's record of replies that came late)."""
    complaint = get_complaint(ctx.session, params.get("complaint_id"))
    if complaint.status in ("answered", "closed"):
        return {"overdue": False}
    complaint.overdue = True
    return {"overdue": True, "reply_due_on": complaint.reply_due_on.isoformat()}


def follow_up_problem(
    session: Session, complaint: Complaint, substantiated: Any, follow_up: Any
) -> tuple[str, str] | None:
    """(rule, message) when the follow-up does not fit the complaint, else None: only a
    substantiated complaint about a certified client whose certificate is in force leads to extra
    surveillance, a special audit (R-8.10.1a, R-8.11) or a suspension of a valid certificate
    (R-9.5.1d)."""
    if follow_up not in FOLLOW_UPS:
        return "R-12", f"follow_up must be one of {list(FOLLOW_UPS)}, got {follow_up!r}"
    if follow_up == "none":
        return None
    rule = FOLLOW_UP_MESSAGES[follow_up][2]
    if complaint.kind != "about_client":
        return rule, (
            "follow-up measures concern a certified client; this complaint is "
            f"{complaint.kind} (choose none)"
        )
    if substantiated is not True:
        return rule, "only a substantiated complaint leads to a follow-up measure"
    if complaint.certificate_id is None:
        return rule, "the complaint names no certificate"
    certificate = current_certificate(session, session.get(Certificate, complaint.certificate_id))
    if certificate.status not in HELD:
        return rule, f"certificate {certificate.number} is {certificate.status}"
    if follow_up == "suspension" and certificate.status != "valid":
        return rule, f"certificate {certificate.number} is already {certificate.status}"
    return None


def _cycle_number(session: Session, certificate: Certificate) -> str:
    """The number of the first certificate of the cycle (a reissue keeps the cycle): the
    business key of the surveillance and suspension processes."""
    seen = {certificate.id}
    while certificate.changed_on is not None and certificate.replaces_id is not None:
        previous = session.get(Certificate, certificate.replaces_id)
        if previous is None or previous.id in seen:
            break
        seen.add(previous.id)
        certificate = previous
    return certificate.number


@handler("complaints.record_investigation")
def record_investigation(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-12: the handler's findings, whether the complaint is substantiated, the decision with its
    reasons (it goes into the reply) and the follow-up. → `investigation` with what the follow-up
    message needs (`certificate_number` of the cycle, current `certificate_id`, `detail`)."""
    complaint = get_complaint(ctx.session, params.get("complaint_id"))
    if complaint.status not in ("received", "investigating"):
        raise RuleViolation(
            "R-12", f"complaint {complaint.reference} is already {complaint.status}"
        )
    problem = handler_problem(ctx.session, complaint, params.get("handler"))
    if problem:
        raise RuleViolation("R-12", problem.removeprefix("R-12: "))
    handler_name = params["handler"].strip()
    findings = optional_text(params.get("findings"))
    decision = optional_text(params.get("decision"))
    if not findings or not decision:
        raise RuleViolation("R-12", "the findings and the decision with its reasons are required")
    substantiated = params.get("substantiated")
    if not isinstance(substantiated, bool):
        raise RuleViolation("R-12", f"substantiated must be true or false, got {substantiated!r}")
    follow_up = params.get("follow_up") or "none"
    found = follow_up_problem(ctx.session, complaint, substantiated, follow_up)
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
            ctx.session, ctx.session.get(Certificate, complaint.certificate_id)
        )
        _message, _reason, rule, zh, en = FOLLOW_UP_MESSAGES[follow_up]
        result.update(
            certificate_id=certificate.id,
            certificate_number=_cycle_number(ctx.session, certificate),
            detail=(
                f"{rule} {zh} {en}: 经查实的投诉 substantiated complaint {complaint.reference} — "
                f"{decision[:1000]}"
            ),
        )
    return result


@handler("complaints.link_follow_up")
def link_follow_up(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-8.10.1a, R-8.11, R-9.5.1d: the follow-up message has been sent; the client's case gets a
    record naming the complaint and the measure (the link from the follow-up side; the receiving
    instance is linked to the complaint when the engine delivers the message, see the module
    docstring)."""
    complaint = get_complaint(ctx.session, params.get("complaint_id"))
    follow_up = complaint.follow_up or "none"
    if follow_up == "none":
        raise RuleViolation("R-12", f"complaint {complaint.reference} has no follow-up to link")
    message, reason, rule, zh, en = FOLLOW_UP_MESSAGES[follow_up]
    number = _certificate_number(ctx.session, complaint)
    document_id, _letter_text = _letter(
        ctx,
        complaint,
        kind=FOLLOW_UP_KIND,
        title=f"投诉后续措施 Complaint follow-up — {complaint.reference}",
        lines=[
            f"# 投诉后续措施 Complaint follow-up — {complaint.reference}",
            f"- 证书 Certificate: {number}",
            f"- 措施 Measure: {zh} {en}（{rule}）",
            f"- 消息 Message: {message}（原因 reason {reason}）",
            f"- 投诉处理人 Handler: {complaint.handler}",
            f"- 决定 Decision: {complaint.decision}",
        ],
        data={"follow_up": follow_up, "message": message, "reason": reason, "rule": rule},
    )
    return {
        "follow_up": follow_up,
        "message": message,
        "rule": rule,
        "document_id": document_id,
        "follow_up_instance_id": complaint.follow_up_instance_id,
    }


@handler("complaints.reply")
def reply(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-12: the written reply — the decision and its reasons, the follow-up in general terms,
    and the right to escalate to CNCA (国家认证认可监督管理委员会); status answered."""
    complaint = get_complaint(ctx.session, params.get("complaint_id"))
    if complaint.status != "decided":
        raise RuleViolation(
            "R-12", f"complaint {complaint.reference} is {complaint.status}: nothing decided yet"
        )
    answered_on = china_date(ctx.now)
    late = ctx.now >= datetime.fromisoformat(timer_instants(complaint)["overdue_at"])
    outcome = (
        "经调查，投诉/申诉内容属实。 After investigation the complaint is substantiated."
        if complaint.substantiated
        else "经调查，投诉/申诉内容不成立。 After investigation the complaint is not substantiated."
    )
    lines = [
        f"# 投诉/申诉答复 Reply — {complaint.reference}",
        f"致 To: {complaint.complainant_name}（{complaint.complainant_contact}）",
        "",
        f"- 编号 Reference: {complaint.reference}",
        _kind_line(complaint),
        f"- 事由 Subject: {complaint.subject}",
        f"- 收到日期 Received on: {china_date(complaint.received_at).isoformat()}",
        f"- 答复日期 Replied on: {answered_on.isoformat()}",
        "",
        outcome,
        "",
        "## 决定及理由 Decision and reasons",
        complaint.decision,
    ]
    if complaint.follow_up and complaint.follow_up != "none":
        lines += [
            "",
            "本机构已依据认证规则对获证组织采取后续措施（R-8.10.1、R-8.11、R-9.5.1）。",
            "The CB has taken follow-up measures against the certified client under the "
            "certification rules (R-8.10.1, R-8.11, R-9.5.1).",
        ]
    lines += [
        "",
        f"如您对本答复不满意，可向{CNCA}投诉或申诉。",
        "If you are not satisfied with this reply, you may escalate the matter to the "
        "Certification and Accreditation Administration of the P.R. China (CNCA, "
        "国家认证认可监督管理委员会).",
    ]
    document_id, letter = _letter(
        ctx,
        complaint,
        kind=REPLY_KIND,
        title=f"投诉/申诉答复 Reply — {complaint.reference}",
        lines=lines,
        data={
            "substantiated": complaint.substantiated,
            "decision": complaint.decision,
            "follow_up": complaint.follow_up,
            "answered_on": answered_on.isoformat(),
            "reply_due_on": complaint.reply_due_on.isoformat(),
            "late": late,
            "escalation_to": "CNCA",
        },
    )
    complaint.status = "answered"
    complaint.answered_at = ctx.now
    complaint.reply_document_id = document_id
    return {
        "document_id": document_id,
        "answered_on": answered_on.isoformat(),
        "late": late,
        "letter": None if document_id else letter,
    }


# -- guard and validators -------------------------------------------------------------------------
def _complaint_of(ctx: GuardContext) -> Complaint | None:
    try:
        return get_complaint(ctx.session, ctx.data.get("complaint_id"))
    except (LookupError, ValueError):
        return None


@guard("complaint_handler")
def complaint_handler(ctx: GuardContext) -> str | None:
    """R-12: only the assigned handler investigates and decides."""
    assigned = ctx.data.get("handler")
    if not isinstance(assigned, str) or not assigned.strip():
        return "R-12: no handler is assigned to this complaint"
    if ctx.actor != assigned.strip():
        return (
            f"R-12: only the assigned handler ({assigned.strip()}) may investigate this complaint"
        )
    return None


@validator("complaint_handler_not_involved")
def complaint_handler_not_involved(ctx: GuardContext) -> dict[str, list[str]]:
    """R-12: the handler holds the complaints role and is not involved in the matter (not an
    auditor, team member or decision maker of the case)."""
    complaint = _complaint_of(ctx)
    if complaint is None:
        return {"_form": ["R-12: the case has no complaint_id"]}
    problem = handler_problem(ctx.session, complaint, ctx.data.get("handler"))
    return {"handler": [problem]} if problem else {}


@validator("complaint_follow_up_fits")
def complaint_follow_up_fits(ctx: GuardContext) -> dict[str, list[str]]:
    """R-8.10.1a, R-8.11, R-9.5.1d: a follow-up only for a substantiated complaint about a
    certified client whose certificate is in force (a suspension: valid)."""
    complaint = _complaint_of(ctx)
    if complaint is None:
        return {"_form": ["R-12: the case has no complaint_id"]}
    found = follow_up_problem(
        ctx.session, complaint, ctx.data.get("substantiated"), ctx.data.get("follow_up", "none")
    )
    return {"follow_up": [f"{found[0]}: {found[1]}"]} if found else {}


# -- complaint → follow-up instance ---------------------------------------------------------------
@on_event(MessageDelivered)
def _link_delivery(delivered: MessageDelivered) -> None:
    """A message carrying `complaint_reference` was delivered to an instance (started by it, or
    reached by it): that instance is the complaint's follow-up (the first one is kept)."""
    payload = delivered.payload
    reference = payload.get("complaint_reference") if isinstance(payload, dict) else None
    if not isinstance(reference, str) or not reference:
        return
    delivered.session.execute(
        update(Complaint.__table__)
        .where(
            Complaint.__table__.c.reference == reference,
            Complaint.__table__.c.follow_up_instance_id.is_(None),
        )
        .values(follow_up_instance_id=delivered.instance_id)
    )
