"""Handlers: the nonconformity cycle (R-8.7) — report, client confirmation, answers within a
deadline with a reminder, verification (documentary or on site) until every NC is accepted.

Timer values (`reminder_at`, `deadline_at`) are ISO timestamps with offset, computed from the app
clock: 09:00 China time on the reminder date, and 09:00 China time on the day *after* the
deadline date (the client has the whole deadline day), expressed in UTC.
"""

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from certflow.dates import TIMER_HOUR_CHINA, china_date, china_time_in_utc, iso_utc
from domain.documents import create_document
from domain.errors import RuleViolation
from domain.models import Audit, Document, Nonconformity
from handlers.audit import (
    application_of,
    get_audit,
    is_true,
    optional_text,
    require_id,
    require_list,
    require_text,
)
from handlers.registry import HandlerContext, handler

DEFAULT_NC_RESPONSE_DAYS = 30
DEFAULT_NC_REMINDER_DAYS_BEFORE = 7
REPORT_KIND = "nc_report"
REMINDER_KIND = "nc_reminder"
VERIFICATION_METHODS = ("documentary", "on_site")
AWAITING_ANSWER = ("open", "confirmed", "rejected")


def setting(name: str, default: int) -> int:
    """An integer setting from the app configuration (e.g. NC_RESPONSE_DAYS), else `default`."""
    value = current_app.config.get(name, default) if has_app_context() else default
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"setting {name} must be a whole number, got {value!r}")
    number = int(value)
    if number < 1:
        raise ValueError(f"setting {name} must be at least 1, got {number}")
    return number


def nonconformities_of(session: Session, audit: Audit, statuses=None) -> list[Nonconformity]:
    query = select(Nonconformity).where(Nonconformity.audit_id == audit.id)
    if statuses is not None:
        query = query.where(Nonconformity.status.in_(tuple(statuses)))
    return list(session.scalars(query.order_by(Nonconformity.id)))


def _latest_document(session: Session, audit: Audit, kind: str) -> Document | None:
    return session.scalars(
        select(Document)
        .where(Document.audit_id == audit.id, Document.kind == kind)
        .order_by(Document.id.desc())
        .limit(1)
    ).first()


def _nc_line(nc: Nonconformity) -> str:
    return f"- {nc.number} ({nc.item_code}): {nc.description} — 证据 Evidence: {nc.evidence}"


def response_deadline(ctx: HandlerContext) -> tuple[date, str, str]:
    """The date by which the client answers (NC_RESPONSE_DAYS after today, China date), and the
    timer instants of the reminder (NC_REMINDER_DAYS_BEFORE) and of the deadline's passing
    (09:00 China time the day after, so the whole deadline day is the client's)."""
    deadline = china_date(ctx.now) + timedelta(
        days=setting("NC_RESPONSE_DAYS", DEFAULT_NC_RESPONSE_DAYS)
    )
    reminder_on = deadline - timedelta(
        days=setting("NC_REMINDER_DAYS_BEFORE", DEFAULT_NC_REMINDER_DAYS_BEFORE)
    )
    reminder_at = iso_utc(china_time_in_utc(reminder_on, TIMER_HOUR_CHINA))
    deadline_at = iso_utc(china_time_in_utc(deadline + timedelta(days=1), TIMER_HOUR_CHINA))
    return deadline, reminder_at, deadline_at


@handler("nc.issue_report")
def issue_report(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-8.7: the NC report with the deadline for root-cause analysis, correction and corrective
    action (NC_RESPONSE_DAYS after today, China date) and the reminder 7 days before."""
    audit = get_audit(ctx.session, params.get("audit_id"))
    if audit.conclusion is None:
        raise RuleViolation("R-8.7", "the audit has no conclusion, so no nonconformities")
    nonconformities = nonconformities_of(ctx.session, audit, ["open"])
    if not nonconformities:
        raise RuleViolation("R-8.7", f"audit {audit.id} has no unreported nonconformities")
    deadline, reminder_at, deadline_at = response_deadline(ctx)
    for nc in nonconformities:
        nc.deadline = deadline
    application = application_of(ctx.session, audit)
    document = create_document(
        ctx.session,
        kind=REPORT_KIND,
        title=f"不符合报告 Nonconformity report — {application.number}",
        lines=[
            f"# 不符合报告 Nonconformity report — {application.number}",
            f"受审查方 Client: {application.organisation.name}",
            "",
            *(_nc_line(nc) for nc in nonconformities),
            "",
            f"请于 {deadline.isoformat()} 前提交原因分析、纠正和纠正措施及证据。",
            f"Submit the root-cause analysis, correction and corrective action with evidence by "
            f"{deadline.isoformat()}.",
        ],
        organisation_id=audit.organisation_id,
        application_id=application.id,
        audit_id=audit.id,
        data={
            "deadline": deadline.isoformat(),
            "reminder_at": reminder_at,
            "deadline_at": deadline_at,
            "nonconformities": [
                {
                    "id": nc.id,
                    "number": nc.number,
                    "item_code": nc.item_code,
                    "description": nc.description,
                    "evidence": nc.evidence,
                }
                for nc in nonconformities
            ],
        },
        created_by=ctx.actor,
        now=ctx.now,
    )
    return {
        "report_document_id": document.id,
        "deadline": deadline.isoformat(),
        "reminder_at": reminder_at,
        "deadline_at": deadline_at,
        "count": len(nonconformities),
    }


@handler("nc.record_confirmation")
def record_confirmation(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-8.7: the client confirms the NC report; reservations go in `comments` (kept with the
    report, and in the case history)."""
    audit = get_audit(ctx.session, params.get("audit_id"))
    if not is_true(params.get("confirmed")):
        raise RuleViolation(
            "R-8.7", "the client must confirm the NC report (reservations go in the comments)"
        )
    nonconformities = [
        nc for nc in nonconformities_of(ctx.session, audit, ["open"]) if nc.deadline is not None
    ]
    if not nonconformities:
        raise RuleViolation("R-8.7", "there is no issued NC report waiting for confirmation")
    for nc in nonconformities:
        nc.status = "confirmed"
        nc.confirmed_by = ctx.actor
        nc.confirmed_at = ctx.now
    report = _latest_document(ctx.session, audit, REPORT_KIND)
    if report is not None:
        report.data = {
            **(report.data or {}),
            "confirmation": {
                "confirmed_by": ctx.actor,
                "confirmed_at": ctx.now.isoformat(),
                "comments": optional_text(params.get("comments")),
            },
        }
    return {}


@handler("nc.record_answers")
def record_answers(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-8.7: root cause, correction and corrective action for every NC still awaiting an
    answer (confirmed, or rejected at verification)."""
    audit = get_audit(ctx.session, params.get("audit_id"))
    unconfirmed = nonconformities_of(ctx.session, audit, ["open"])
    if unconfirmed:
        numbers = ", ".join(nc.number for nc in unconfirmed)
        raise RuleViolation("R-8.7", f"the client has not confirmed the NC report ({numbers})")
    awaiting = {nc.id: nc for nc in nonconformities_of(ctx.session, audit, AWAITING_ANSWER)}
    if not awaiting:
        raise RuleViolation("R-8.7", "no nonconformity is waiting for an answer")
    answered = _one_entry_per_nc(
        params,
        "answers",
        awaiting,
        _answer_entry,
        not_expected="is not waiting for an answer on this audit",
        twice="is answered twice",
        missing="every open nonconformity needs an answer",
    )
    for nc_id, answer in answered.items():
        nc = awaiting[nc_id]
        nc.root_cause = answer["root_cause"]
        nc.correction = answer["correction"]
        nc.corrective_action = answer["corrective_action"]
        nc.answered_at = ctx.now
        nc.rounds = (nc.rounds or 0) + 1
        nc.status = "answered"
    return {}


def _one_entry_per_nc(
    params: dict[str, Any],
    field: str,
    expected: dict[int, Nonconformity],
    parse: Callable[[int, Any], tuple[int, dict]],
    *,
    not_expected: str,
    twice: str,
    missing: str,
) -> dict[int, dict]:
    """The list `field` parsed into exactly one entry for each expected NC (R-8.7)."""
    entries: dict[int, dict] = {}
    for index, raw in enumerate(require_list(params.get(field), field, "R-8.7")):
        nc_id, entry = parse(index, raw)
        if nc_id not in expected:
            raise RuleViolation("R-8.7", f"{field}[{index}]: NC {nc_id} {not_expected}")
        if nc_id in entries:
            raise RuleViolation("R-8.7", f"{field}[{index}]: NC {nc_id} {twice}")
        entries[nc_id] = entry
    absent = [nc.number for nc_id, nc in expected.items() if nc_id not in entries]
    if absent:
        raise RuleViolation("R-8.7", f"{missing}: {', '.join(absent)}")
    return entries


def _answer_entry(index: int, raw: Any) -> tuple[int, dict]:
    where = f"answers[{index}]"
    if not isinstance(raw, dict):
        raise RuleViolation("R-8.7", f"{where} must be an object")
    return require_id(raw.get("nc_id"), f"{where}.nc_id"), {
        field: require_text(raw.get(field), f"{where}.{field}", "R-8.7")
        for field in ("root_cause", "correction", "corrective_action")
    }


@handler("nc.send_reminder")
def send_reminder(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-8.7: remind the client of the NCs still unanswered before the deadline."""
    audit = get_audit(ctx.session, params.get("audit_id"))
    pending = nonconformities_of(ctx.session, audit, AWAITING_ANSWER)
    deadline = min((nc.deadline for nc in pending if nc.deadline), default=None)
    application = application_of(ctx.session, audit)
    document = create_document(
        ctx.session,
        kind=REMINDER_KIND,
        title=f"不符合整改提醒 Reminder: nonconformities — {application.number}",
        lines=[
            f"# 不符合整改提醒 Reminder: nonconformities — {application.number}",
            f"整改期限 Deadline: {deadline.isoformat() if deadline else '—'}",
            "",
            *(_nc_line(nc) for nc in pending),
        ],
        organisation_id=audit.organisation_id,
        application_id=application.id,
        audit_id=audit.id,
        data={
            "deadline": deadline.isoformat() if deadline else None,
            "pending": [nc.number for nc in pending],
        },
        created_by=ctx.actor,
        now=ctx.now,
    )
    return {"document_id": document.id}


@handler("nc.record_verification")
def record_verification(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-8.7: verify each answered NC, documentary (a note on chronology and authenticity of the
    evidence) or on site (with a record); a rejected NC goes back to the client."""
    audit = get_audit(ctx.session, params.get("audit_id"))
    answered = {nc.id: nc for nc in nonconformities_of(ctx.session, audit, ["answered"])}
    if not answered:
        raise RuleViolation("R-8.7", "no answered nonconformity is waiting for verification")
    verdicts = _one_entry_per_nc(
        params,
        "verdicts",
        answered,
        _verdict_entry,
        not_expected="is not an answered NC of this audit",
        twice="has two verdicts",
        missing="every answered nonconformity needs a verdict",
    )
    rejected = []
    deadline, reminder_at, deadline_at = response_deadline(ctx)
    for nc_id, verdict in verdicts.items():
        nc = answered[nc_id]
        nc.verification_method = verdict["method"]
        nc.verification_note = verdict["note"]
        nc.verified_by = ctx.actor
        nc.verified_at = ctx.now
        nc.status = "accepted" if verdict["accepted"] else "rejected"
        if not verdict["accepted"]:
            rejected.append(nc.number)
            nc.deadline = deadline  # a new answer gets a new deadline (its own reminder)
    all_accepted = all(nc.status == "accepted" for nc in nonconformities_of(ctx.session, audit))
    return {
        "all_accepted": all_accepted,
        "rejected": rejected,
        "deadline": deadline.isoformat(),
        "reminder_at": reminder_at,
        "deadline_at": deadline_at,
    }


def _verdict_entry(index: int, raw: Any) -> tuple[int, dict]:
    where = f"verdicts[{index}]"
    if not isinstance(raw, dict):
        raise RuleViolation("R-8.7", f"{where} must be an object")
    nc_id = require_id(raw.get("nc_id"), f"{where}.nc_id")
    method = raw.get("method")
    if method not in VERIFICATION_METHODS:
        raise RuleViolation("R-8.7", f"{where}: method must be one of {VERIFICATION_METHODS}")
    accepted = is_true(raw.get("accepted"))
    note = optional_text(raw.get("note"))
    record = optional_text(raw.get("onsite_record"))
    if method == "on_site" and not record:
        raise RuleViolation("R-8.7", f"{where}: an on-site verification needs its record")
    if method == "documentary" and not note:
        raise RuleViolation(
            "R-8.7",
            f"{where}: a documentary verification needs a note on the chronology and "
            "authenticity of the evidence",
        )
    if not accepted and not note:
        raise RuleViolation("R-8.7", f"{where}: a rejected answer needs a note saying why")
    text = (
        note
        if method == "documentary"
        else "\n".join(part for part in (note, f"现场验证记录 On-site record: {record}") if part)
    )
    return nc_id, {"accepted": accepted, "method": method, "note": text}
