"""Handlers: disclosure of client information to a third party (R-11) — the service tasks and
the validator of disclosure.bpmn (docs/complaints-and-changes.md).

Client information is confidential. Before anything goes to a third party (an accreditation
body, an authority on request …) the client is told in advance, in writing, what will be
disclosed, to whom, why and when (`disclosure_notice`, addressed to the client); only then may
it be disclosed. Where the law requires disclosure without notice, the legal basis is recorded
instead, and no notice is sent.

The audit trail is the `Disclosure` row (requested by/at, the notice and when it was sent, or
the legal basis; disclosed by/at) with the notice Document and a `disclosure_record` Document
(the day and the channel of the disclosure).

Settings (app config): DISCLOSURE_NOTICE_DAYS (10) — how long the client has to acknowledge or
comment before the disclosure goes ahead without the acknowledgement (`acknowledge_by_at`:
09:00 China time on the day after, for the interrupting boundary timer).
"""

from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from certflow.dates import TIMER_HOUR_CHINA, china_date, china_time_in_utc, iso_utc
from domain.documents import create_document
from domain.errors import RuleViolation
from domain.models import Disclosure, Organisation
from domain.programme_dates import parse_iso_date
from handlers.audit import optional_text, require_id, require_text
from handlers.nonconformity import setting
from handlers.registry import GuardContext, HandlerContext, handler, validator

RULE = "R-11"
REFERENCE_PREFIX = "PL"  # 披露
DEFAULT_DISCLOSURE_NOTICE_DAYS = 10
NOTICE_KIND = "disclosure_notice"
RECORD_KIND = "disclosure_record"


def reference_of(disclosure: Disclosure) -> str:
    """The case's reference and business key (the table keeps no number of its own)."""
    return f"{REFERENCE_PREFIX}-{disclosure.id:04d}"


def get_disclosure(session: Session, disclosure_id: Any) -> Disclosure:
    disclosure = session.get(Disclosure, require_id(disclosure_id, "disclosure_id"))
    if disclosure is None:
        raise LookupError(f"disclosure {disclosure_id} not found")
    return disclosure


def notice_required(disclosure: Disclosure) -> bool:
    return not (disclosure.legal_basis_no_notice or "").strip()


def _summary(disclosure: Disclosure) -> dict:
    return {
        "id": disclosure.id,
        "reference": reference_of(disclosure),
        "notice_required": notice_required(disclosure),
        "status": disclosure.status,
    }


@handler("disclosure.register")
def register(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-11: register a planned disclosure of client information: what, to whom, why. A notice
    to the client is required unless `legal_basis_no_notice` names the law that requires
    disclosure without notice (recorded as such)."""
    organisation_id = require_id(params.get("organisation_id"), "organisation_id")
    organisation = ctx.session.get(Organisation, organisation_id)
    if organisation is None:
        raise LookupError(f"organisation {organisation_id} not found")
    legal_basis = params.get("legal_basis_no_notice")
    if legal_basis is not None and not isinstance(legal_basis, str):
        raise RuleViolation(
            RULE, f"'legal_basis_no_notice' must be text or null, got {legal_basis!r}"
        )
    disclosure = Disclosure(
        organisation_id=organisation.id,
        recipient=require_text(params.get("recipient"), "recipient", RULE),
        information=require_text(params.get("information"), "information", RULE),
        purpose=require_text(params.get("purpose"), "purpose", RULE),
        legal_basis_no_notice=optional_text(legal_basis) or None,
        requested_by=ctx.actor,
        requested_at=ctx.now,
        status="requested",
    )
    ctx.session.add(disclosure)
    ctx.session.flush()
    disclosure.reference = reference_of(disclosure)
    ctx.set_business_key(disclosure.reference)
    return {**_summary(disclosure), "organisation_name": organisation.name}


@handler("disclosure.notify_client")
def notify_client(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-11: the written notice to the client, sent before anything is disclosed: what
    information, to whom, why, and when (once acknowledged, at the latest after the
    acknowledgement period). Returns the disclosure with `acknowledge_by_at`, the instant the
    process stops waiting for the client's acknowledgement."""
    disclosure = get_disclosure(ctx.session, params.get("disclosure_id"))
    if not notice_required(disclosure):
        raise RuleViolation(
            RULE,
            f"disclosure {reference_of(disclosure)} is made without notice by law "
            f"({disclosure.legal_basis_no_notice}): no notice is sent",
        )
    if disclosure.status != "requested":
        raise RuleViolation(
            RULE, f"disclosure {reference_of(disclosure)} is {disclosure.status}: already notified"
        )
    organisation = ctx.session.get(Organisation, disclosure.organisation_id)
    acknowledge_by = china_date(ctx.now) + timedelta(
        days=setting("DISCLOSURE_NOTICE_DAYS", DEFAULT_DISCLOSURE_NOTICE_DAYS)
    )
    earliest_without_acknowledgement = acknowledge_by + timedelta(days=1)
    acknowledge_by_at = iso_utc(
        china_time_in_utc(earliest_without_acknowledgement, TIMER_HOUR_CHINA)
    )
    reference = reference_of(disclosure)
    disclosure_from = earliest_without_acknowledgement.isoformat()
    notice = create_document(
        ctx.session,
        kind=NOTICE_KIND,
        title=f"信息披露事先通知 Notice of disclosure — {reference}",
        lines=[
            f"致 To: {organisation.name}（{organisation.contact_name}）",
            "",
            "根据认证规则（R-11），我们在向第三方提供贵组织的信息之前事先通知贵组织。",
            "Under the certification rules (R-11) we tell you in advance before we give "
            "information about your organisation to a third party.",
            "",
            f"披露的信息 What information: {disclosure.information}",
            f"提供给 To whom: {disclosure.recipient}",
            f"原因 Why: {disclosure.purpose}",
            f"时间 When: 贵组织确认本通知后，或（如未收到确认）自 {disclosure_from} 起 "
            f"once you have acknowledged this notice, or from {disclosure_from} if no "
            "acknowledgement is received",
            "",
            f"如有意见，请在 {acknowledge_by.isoformat()} 前通过客户门户确认并提出。",
            f"Please acknowledge this notice, with any comments, in the client portal by "
            f"{acknowledge_by.isoformat()}.",
        ],
        organisation_id=organisation.id,
        created_by=ctx.actor,
        now=ctx.now,
        data={
            "disclosure_id": disclosure.id,
            "reference": reference,
            "addressed_to": organisation.name,
            "information": disclosure.information,
            "recipient": disclosure.recipient,
            "purpose": disclosure.purpose,
            "acknowledge_by": acknowledge_by.isoformat(),
            "disclosure_from": earliest_without_acknowledgement.isoformat(),
        },
    )
    disclosure.notice_document_id = notice.id
    disclosure.notified_at = ctx.now
    disclosure.status = "notified"
    return {
        **_summary(disclosure),
        "notice_document_id": notice.id,
        "notified_at": iso_utc(ctx.now),
        "acknowledge_by": acknowledge_by.isoformat(),
        "acknowledge_by_at": acknowledge_by_at,
    }


def disclosure_problems(disclosure: Disclosure, disclosed_on: date, today: date) -> list[str]:
    """Why the disclosure may not be recorded as made on `disclosed_on` (empty: it may)."""
    problems = []
    if disclosure.status == "disclosed":
        problems.append(f"disclosure {reference_of(disclosure)} is already recorded")
    if notice_required(disclosure) and (
        disclosure.notice_document_id is None or disclosure.notified_at is None
    ):
        problems.append(
            f"the client has not been notified of disclosure {reference_of(disclosure)}: the "
            "notice comes before the disclosure (no legal basis for disclosing without notice "
            "is recorded)"
        )
    if disclosed_on > today:
        problems.append(f"the disclosure date {disclosed_on} is in the future")
    if disclosure.notified_at is not None and disclosed_on < china_date(disclosure.notified_at):
        problems.append(
            f"the disclosure date {disclosed_on} is before the client was notified "
            f"({china_date(disclosure.notified_at)})"
        )
    return problems


@handler("disclosure.record_disclosure")
def record_disclosure(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-11: record that the information was disclosed: by whom, when, on which day and by which
    channel. Refused when a required notice was not sent first."""
    disclosure = get_disclosure(ctx.session, params.get("disclosure_id"))
    try:
        disclosed_on = parse_iso_date(params.get("disclosed_on"))
    except ValueError as err:
        raise RuleViolation(RULE, f"'disclosed_on' must be an ISO date: {err}") from err
    channel = require_text(params.get("channel"), "channel", RULE)
    problems = disclosure_problems(disclosure, disclosed_on, china_date(ctx.now))
    if problems:
        raise RuleViolation(RULE, "; ".join(problems))
    disclosure.disclosed_at = ctx.now
    disclosure.disclosed_by = ctx.actor
    disclosure.status = "disclosed"
    reference = reference_of(disclosure)
    basis = (
        f"事先通知 Notified in advance: {iso_utc(disclosure.notified_at)} "
        f"(document {disclosure.notice_document_id})"
        if disclosure.notified_at is not None
        else f"依法无需通知 No notice, required by law: {disclosure.legal_basis_no_notice}"
    )
    record = create_document(
        ctx.session,
        kind=RECORD_KIND,
        title=f"信息披露记录 Disclosure record — {reference}",
        lines=[
            f"披露的信息 Information: {disclosure.information}",
            f"提供给 Recipient: {disclosure.recipient}",
            f"原因 Purpose: {disclosure.purpose}",
            f"披露日期 Disclosed on: {disclosed_on.isoformat()}",
            f"方式 Channel: {channel}",
            f"经办 Disclosed by: {ctx.actor}",
            basis,
        ],
        organisation_id=disclosure.organisation_id,
        created_by=ctx.actor,
        now=ctx.now,
        data={
            "disclosure_id": disclosure.id,
            "reference": reference,
            "disclosed_on": disclosed_on.isoformat(),
            "channel": channel,
            "notice_document_id": disclosure.notice_document_id,
            "legal_basis_no_notice": disclosure.legal_basis_no_notice,
        },
    )
    return {
        **_summary(disclosure),
        "disclosed_at": iso_utc(ctx.now),
        "disclosed_on": disclosed_on.isoformat(),
        "record_document_id": record.id,
    }


@validator("disclosure_after_notice")
def disclosure_after_notice(ctx: GuardContext) -> dict[str, list[str]]:
    """R-11 on Task_Disclose: the disclosure day is not in the future and not before the
    client was notified; a disclosure that needs a notice has one."""
    data = ctx.data
    disclosure_id = (data.get("disclosure") or {}).get("id")
    disclosure = ctx.session.get(Disclosure, disclosure_id) if disclosure_id else None
    if disclosure is None:
        return {"_form": ["no disclosure belongs to this task"]}
    try:
        disclosed_on = parse_iso_date(data.get("disclosed_on"))
    except ValueError:
        return {}  # the form schema reports the format
    problems = disclosure_problems(disclosure, disclosed_on, china_date(ctx.now))
    return {"disclosed_on": problems} if problems else {}
