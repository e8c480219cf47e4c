"""Disclosure of client information to a third party (R-11): the rules and records of
disclosure.bpmn (docs/complaints-and-changes.md), without Flask or the engine.

Client information is confidential. Before anything goes to a third party (an accreditation
body, an authority on request …) the client is told in advance, in writing, what will be
disclosed, to whom, why and when (`disclosure_notice`, addressed to the client); only then may
it be disclosed. Where the law requires disclosure without notice, the legal basis is recorded
instead, and no notice is sent.

The audit trail is the `Disclosure` row (requested by/at, the notice and when it was sent, or
the legal basis; disclosed by/at) with the notice Document and a `disclosure_record` Document
(the day and the channel of the disclosure).
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from certflow.dates import china_date, first_day_after, iso_utc, last_day_of_days, limit_timer
from domain.checks import optional_text, require_text
from domain.documents import create_document
from domain.errors import RuleViolation
from domain.letter_templates import render_letter
from domain.models import Disclosure, Organisation
from domain.programme_dates import parse_iso_date

RULE = "R-11"
REFERENCE_PREFIX = "PL"  # 披露
NOTICE_KIND = "disclosure_notice"
RECORD_KIND = "disclosure_record"


def reference_of(disclosure: Disclosure) -> str:
    """The case's reference and business key (the table keeps no number of its own)."""
    return f"{REFERENCE_PREFIX}-{disclosure.id:04d}"


def get_disclosure(session: Session, disclosure_id: int) -> Disclosure:
    disclosure = session.get(Disclosure, disclosure_id)
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


def register(
    session: Session,
    *,
    organisation_id: int,
    recipient: Any,
    information: Any,
    purpose: Any,
    legal_basis_no_notice: Any,
    actor: str,
    now: datetime,
) -> dict:
    """R-11: register a planned disclosure of client information: what, to whom, why. A notice
    to the client is required unless `legal_basis_no_notice` names the law that requires
    disclosure without notice (recorded as such)."""
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise LookupError(f"organisation {organisation_id} not found")
    legal_basis = legal_basis_no_notice
    if legal_basis is not None and not isinstance(legal_basis, str):
        raise RuleViolation(
            RULE, f"'legal_basis_no_notice' must be text or null, got {legal_basis!r}"
        )
    disclosure = Disclosure(
        organisation_id=organisation.id,
        recipient=require_text(recipient, "recipient", RULE),
        information=require_text(information, "information", RULE),
        purpose=require_text(purpose, "purpose", RULE),
        legal_basis_no_notice=optional_text(legal_basis) or None,
        requested_by=actor,
        requested_at=now,
        status="requested",
    )
    session.add(disclosure)
    session.flush()
    disclosure.reference = reference_of(disclosure)
    return {**_summary(disclosure), "organisation_name": organisation.name}


def notify_client(
    session: Session, *, disclosure_id: int, notice_days: int, actor: str, now: datetime
) -> dict:
    """R-11: the written notice to the client, sent before anything is disclosed: what
    information, to whom, why, and when (once acknowledged, at the latest after the
    acknowledgement period). Returns the disclosure with `acknowledge_by_at`, the instant the
    process stops waiting for the client's acknowledgement."""
    disclosure = get_disclosure(session, disclosure_id)
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
    organisation = session.get(Organisation, disclosure.organisation_id)
    # the notice period starts today; its last day is `acknowledge_by`, disclosure without
    # the client's acknowledgement is possible from the first day after it.
    acknowledge_by = last_day_of_days(china_date(now), notice_days)
    acknowledge_by_at = limit_timer(acknowledge_by)
    reference = reference_of(disclosure)
    notice = create_document(
        session,
        kind=NOTICE_KIND,
        title_facts={"reference": reference},
        body=render_letter(
            "disclosure_notice",
            organisation=organisation,
            disclosure=disclosure,
            disclosure_from=first_day_after(acknowledge_by).isoformat(),
            acknowledge_by=acknowledge_by.isoformat(),
        ),
        organisation_id=organisation.id,
        created_by=actor,
        now=now,
        data={
            "disclosure_id": disclosure.id,
            "reference": reference,
            "addressed_to": organisation.name,
            "information": disclosure.information,
            "recipient": disclosure.recipient,
            "purpose": disclosure.purpose,
            "acknowledge_by": acknowledge_by.isoformat(),
            "disclosure_from": first_day_after(acknowledge_by).isoformat(),
        },
    )
    disclosure.notice_document_id = notice.id
    disclosure.notified_at = now
    disclosure.status = "notified"
    return {
        **_summary(disclosure),
        "notice_document_id": notice.id,
        "notified_at": iso_utc(now),
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


def record_disclosure(
    session: Session,
    *,
    disclosure_id: int,
    disclosed_on: Any,
    channel: Any,
    actor: str,
    now: datetime,
) -> dict:
    """R-11: record that the information was disclosed: by whom, when, on which day and by which
    channel. Refused when a required notice was not sent first."""
    disclosure = get_disclosure(session, disclosure_id)
    try:
        day = parse_iso_date(disclosed_on)
    except ValueError as err:
        raise RuleViolation(RULE, f"'disclosed_on' must be an ISO date: {err}") from err
    channel = require_text(channel, "channel", RULE)
    problems = disclosure_problems(disclosure, day, china_date(now))
    if problems:
        raise RuleViolation(RULE, "; ".join(problems))
    disclosure.disclosed_at = now
    disclosure.disclosed_by = actor
    disclosure.status = "disclosed"
    reference = reference_of(disclosure)
    record = create_document(
        session,
        kind=RECORD_KIND,
        title_facts={"reference": reference},
        body=render_letter(
            "disclosure_record",
            disclosure=disclosure,
            disclosed_on=day.isoformat(),
            channel=channel,
            actor=actor,
            notified_at=iso_utc(disclosure.notified_at) if disclosure.notified_at else None,
        ),
        organisation_id=disclosure.organisation_id,
        created_by=actor,
        now=now,
        data={
            "disclosure_id": disclosure.id,
            "reference": reference,
            "disclosed_on": day.isoformat(),
            "channel": channel,
            "notice_document_id": disclosure.notice_document_id,
            "legal_basis_no_notice": disclosure.legal_basis_no_notice,
        },
    )
    return {
        **_summary(disclosure),
        "disclosed_at": iso_utc(now),
        "disclosed_on": day.isoformat(),
        "record_document_id": record.id,
    }


def submitted_disclosure_problems(
    session: Session, data: dict, now: datetime
) -> dict[str, list[str]]:
    """R-11 on the disclosure task's form: field errors of the submitted disclosure day."""
    disclosure_id = (data.get("disclosure") or {}).get("id")
    disclosure = session.get(Disclosure, disclosure_id) if disclosure_id else None
    if disclosure is None:
        return {"_form": ["no disclosure belongs to this task"]}
    try:
        disclosed_on = parse_iso_date(data.get("disclosed_on"))
    except ValueError:
        return {}  # the form schema reports the format
    problems = disclosure_problems(disclosure, disclosed_on, china_date(now))
    return {"disclosed_on": problems} if problems else {}
