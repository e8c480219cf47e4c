"""Complaints and appeals (R-12, with R-8.10.1a, R-8.11 and R-9.5.1d): the registration rules,
the reply clock and the impartiality rules, without Flask or the engine (the web pages and the
handlers of complaint.bpmn both call them; docs/complaints-and-changes.md).

Two kinds are kept apart: complaints about a certified client's service (`about_client`, linked
to the client by its certificate number) and complaints or appeals about the CB or its auditors
(`about_cb`, `appeal` — incl. appeals against a certification decision).

* Registration (`validate_registration`): field errors as codes the web turns into messages;
  the reference is `TS-YYYY-NNNN`, the reply is due by the last of the 30 days that start on
  the China date of receipt (day 29; day 30 is overdue).
* The 30-day clock (`timer_instants`): reminder on day 20, escalation to the quality manager on
  day 25, overdue on day 30, each at 09:00 China time.
* Impartiality (R-12): the handler must not be involved in the matter — not on the team of any
  audit of the organisation concerned (its applications, certificates, surveillance and special
  audits), not a decision maker of its applications, not the person who recorded a status
  decision on its certificates (`case_involvement`, `handler_problem`).
* Follow-up of a substantiated complaint against a client (`about_client` only): extra
  surveillance (R-8.10.1a), a special audit (R-8.11) or suspension (R-9.5.1d)
  (`follow_up_problem`).
"""

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from certflow.dates import china_date, day_number, last_day_of_days, timer_on
from certflow.models import User
from domain.certificates import HELD, current_certificate
from domain.checks import require_id
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
OVERDUE_DAY = REPLY_DAYS  # the first day after the 30 days (certflow/dates.py)


def reply_due_on(received_on: date) -> date:
    """R-12: the last day of the 30 days that start on the day of receipt (day 0): received
    2026-03-10 → reply by 2026-04-08; overdue on day 30, 2026-04-09."""
    return last_day_of_days(received_on, REPLY_DAYS)


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


def timer_instants(complaint: Complaint) -> dict[str, str]:
    """R-12: reminder (day 20), escalation (day 25) and overdue (day 30) after the China date of
    receipt, each at 09:00 China time, as ISO timestamps with offset."""
    received_on = china_date(complaint.received_at)

    def at(day: int) -> str:
        return timer_on(day_number(received_on, day))

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


def cycle_number(session: Session, certificate: Certificate) -> str:
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
