"""The nonconformity cycle (R-8.7) — report and client confirmation before the closing meeting
(§8.7.1), answers with their evidence within a deadline set by each NC's nature (§8.7.2,
domain/nc_natures.py) with a reminder, verification (documentary or on site) until every NC is
accepted, and the audit department's decision when a deadline passes.

Timer values (`reminder_at`, `deadline_at`) are ISO timestamps with offset, computed from the app
clock: 09:00 China time on the reminder date, and 09:00 China time on the day *after* the
deadline date (the client has the whole deadline day), expressed in UTC.
"""

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from certflow.dates import china_date, last_day_of_days, limit_timer, timer_on
from domain.acting import Acting
from domain.audit.common import application_of, get_audit, require_status
from domain.checks import is_true, optional_text, require_id, require_list, require_text
from domain.documents import create_document
from domain.errors import RuleViolation
from domain.letter_templates import render_letter
from domain.models import Audit, Document, Nonconformity
from domain.nc_natures import (
    EXTEND,
    Deadlines,
    check_escalation,
    check_verification_method,
    deadline_for,
    round_timers,
)

REPORT_KIND = "nc_report"
REMINDER_KIND = "nc_reminder"
VERIFICATION_METHODS = ("documentary", "on_site")
AWAITING_ANSWER = ("open", "confirmed", "rejected")
AWAITING_VERIFICATION = ("answered",)


__all__ = ["Deadlines"]  # re-exported: handlers and tests build it from here


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


def response_deadline(act: Acting, deadlines: Deadlines) -> tuple[date, str, str]:
    """R-8.7: the last day on which the client answers (a period of NC_RESPONSE_DAYS days that
    starts today, China date), and the timer instants of the reminder (NC_REMINDER_DAYS_BEFORE
    that day) and of the deadline's passing (the first day after it, certflow/dates.py)."""
    deadline = last_day_of_days(china_date(act.now), deadlines.response_days)
    reminder_at = timer_on(deadline - timedelta(days=deadlines.reminder_days_before))
    deadline_at = limit_timer(deadline)
    return deadline, reminder_at, deadline_at


def issue_report(act: Acting, audit_id: int, deadlines: Deadlines) -> dict:
    """R-8.7 §8.7.1: the NC report, formed before the closing meeting, with each NC's deadline for
    root-cause analysis, correction and corrective action by its nature (R-8.7 §8.7.2); the report's
    deadline (and its reminder) is the earliest of them."""
    audit = get_audit(act.session, audit_id)
    if audit.conclusion is None:
        raise RuleViolation("R-8.7", "the audit has no conclusion, so no nonconformities")
    require_status(audit, ["in_progress"], "R-8.7", "form the NC report after the closing meeting")
    nonconformities = nonconformities_of(act.session, audit, ["open"])
    if not nonconformities:
        raise RuleViolation("R-8.7", f"audit {audit.id} has no unreported nonconformities")
    for nc in nonconformities:
        nc.deadline = deadline_for(act, nc.nature, deadlines)
    timers = round_timers(nonconformities, deadlines)
    deadline, reminder_at, deadline_at = (
        date.fromisoformat(timers["deadline"]),
        timers["reminder_at"],
        timers["deadline_at"],
    )
    application = application_of(act.session, audit)
    document = create_document(
        act.session,
        kind=REPORT_KIND,
        title_facts={"reference": application.number},
        body=render_letter(
            "nc_report",
            application=application,
            nonconformities=nonconformities,
            deadline=deadline.isoformat(),
        ),
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
                    "nature": nc.nature,
                    "deadline": nc.deadline.isoformat(),
                    "description": nc.description,
                    "evidence": nc.evidence,
                }
                for nc in nonconformities
            ],
        },
        created_by=act.actor,
        now=act.now,
    )
    return {
        "report_document_id": document.id,
        "deadline": deadline.isoformat(),
        "reminder_at": reminder_at,
        "deadline_at": deadline_at,
        "count": len(nonconformities),
    }


def record_confirmation(act: Acting, audit_id: int, *, confirmed: Any, comments: Any) -> None:
    """R-8.7: the client confirms the NC report; reservations go in `comments` (kept with the
    report, and in the case history)."""
    audit = get_audit(act.session, audit_id)
    require_status(
        audit, ["in_progress"], "R-8.7", "confirm the NC report after the closing meeting"
    )
    if not is_true(confirmed):
        raise RuleViolation(
            "R-8.7", "the client must confirm the NC report (reservations go in the comments)"
        )
    nonconformities = [
        nc for nc in nonconformities_of(act.session, audit, ["open"]) if nc.deadline is not None
    ]
    if not nonconformities:
        raise RuleViolation("R-8.7", "there is no issued NC report waiting for confirmation")
    for nc in nonconformities:
        nc.status = "confirmed"
        nc.confirmed_by = act.actor
        nc.confirmed_at = act.now
    report = _latest_document(act.session, audit, REPORT_KIND)
    if report is not None:
        report.data = {
            **(report.data or {}),
            "confirmation": {
                "confirmed_by": act.actor,
                "confirmed_at": act.now.isoformat(),
                "comments": optional_text(comments),
            },
        }


def record_answers(act: Acting, audit_id: int, answers: Any) -> None:
    """R-8.7: root cause, correction and corrective action, with the evidence files, for the NCs
    the client answers now (any of those awaiting an answer: confirmed, or rejected at
    verification — each has its own deadline by nature)."""
    audit = get_audit(act.session, audit_id)
    unconfirmed = nonconformities_of(act.session, audit, ["open"])
    if unconfirmed:
        numbers = ", ".join(nc.number for nc in unconfirmed)
        raise RuleViolation("R-8.7", f"the client has not confirmed the NC report ({numbers})")
    awaiting = {nc.id: nc for nc in nonconformities_of(act.session, audit, AWAITING_ANSWER)}
    answered = check_answers(awaiting, answers)
    for nc_id, answer in answered.items():
        nc = awaiting[nc_id]
        nc.root_cause = answer["root_cause"]
        nc.correction = answer["correction"]
        nc.corrective_action = answer["corrective_action"]
        nc.evidence_files = answer["evidence_files"]
        nc.answered_at = act.now
        nc.rounds = (nc.rounds or 0) + 1
        nc.status = "answered"


def check_answers(awaiting: dict[int, Nonconformity], answers: Any) -> dict[int, dict]:
    """R-8.7: complete answers, each with its evidence files, for NCs awaiting one — at least
    one, each at most once (form check `nc.answers_fit` and record_answers)."""
    if not awaiting:
        raise RuleViolation("R-8.7", "no nonconformity is waiting for an answer")
    return _one_entry_per_nc(
        answers,
        "answers",
        awaiting,
        _answer_entry,
        not_expected="is not waiting for an answer on this audit",
        twice="is answered twice",
        missing=None,
    )


def check_verdicts(answered: dict[int, Nonconformity], verdicts: Any) -> dict[int, dict]:
    """R-8.7: one verdict for each answered NC, documentary with a note or on site with its
    record (a serious NC on site), a rejection with its reason (form check `nc.verdicts_fit` and
    record_verification)."""
    if not answered:
        raise RuleViolation("R-8.7", "no answered nonconformity is waiting for verification")
    entries = _one_entry_per_nc(
        verdicts,
        "verdicts",
        answered,
        _verdict_entry,
        not_expected="is not an answered NC of this audit",
        twice="has two verdicts",
        missing="every answered nonconformity needs a verdict",
    )
    for index, (nc_id, verdict) in enumerate(entries.items()):
        check_verification_method(
            answered[nc_id], verdict["method_code"], f"verdicts/{index}/method"
        )
    return entries


def _one_entry_per_nc(
    value: Any,
    field: str,
    expected: dict[int, Nonconformity],
    parse: Callable[[int, Any], tuple[int, dict]],
    *,
    not_expected: str,
    twice: str,
    missing: str | None,
) -> dict[int, dict]:
    """The list `field` parsed into one entry per NC, each an expected one; with `missing`, an
    entry for every expected NC (R-8.7)."""
    entries: dict[int, dict] = {}
    for index, raw in enumerate(require_list(value, field, "R-8.7")):
        try:
            nc_id, entry = parse(index, raw)
        except RuleViolation as err:
            err.field = err.field or f"{field}/{index}"
            raise
        except ValueError as err:  # an NC id that is not a number
            raise RuleViolation("R-8.7", str(err), field=f"{field}/{index}") from err
        if nc_id not in expected:
            raise RuleViolation(
                "R-8.7", f"{field}[{index}]: NC {nc_id} {not_expected}", field=f"{field}/{index}"
            )
        if nc_id in entries:
            raise RuleViolation(
                "R-8.7", f"{field}[{index}]: NC {nc_id} {twice}", field=f"{field}/{index}"
            )
        entries[nc_id] = entry
    absent = [nc.number for nc_id, nc in expected.items() if nc_id not in entries]
    if absent and missing is not None:
        raise RuleViolation("R-8.7", f"{missing}: {', '.join(absent)}", field=field)
    return entries


def _answer_entry(index: int, raw: Any) -> tuple[int, dict]:
    where = f"answers[{index}]"
    if not isinstance(raw, dict):
        raise RuleViolation("R-8.7", f"{where} must be an object")
    entry: dict[str, Any] = {
        field: require_text(raw.get(field), f"{where}.{field}", "R-8.7")
        for field in ("root_cause", "correction", "corrective_action")
    }
    files = raw.get("evidence_files")
    if not isinstance(files, list) or not files:
        # §8.7.3 书面验证应附有证实性材料: the answer carries the evidence of its correction.
        raise RuleViolation(
            "R-8.7",
            f"{where}: attach the evidence that the correction and corrective action were taken",
            field=f"answers/{index}/evidence_files",
        )
    if not all(isinstance(f, int) and not isinstance(f, bool) and f > 0 for f in files):
        raise RuleViolation("R-8.7", f"{where}: the evidence files must be uploaded files")
    entry["evidence_files"] = list(files)
    return require_id(raw.get("nc_id"), f"{where}.nc_id"), entry


def send_reminder(act: Acting, audit_id: int) -> Document:
    """R-8.7: remind the client of the NCs still unanswered before the deadline."""
    audit = get_audit(act.session, audit_id)
    pending = nonconformities_of(act.session, audit, AWAITING_ANSWER)
    deadline = min((nc.deadline for nc in pending if nc.deadline), default=None)
    application = application_of(act.session, audit)
    return create_document(
        act.session,
        kind=REMINDER_KIND,
        title_facts={"reference": application.number},
        body=render_letter(
            "nc_reminder",
            application=application,
            deadline=deadline.isoformat() if deadline else "—",
            pending=pending,
        ),
        organisation_id=audit.organisation_id,
        application_id=application.id,
        audit_id=audit.id,
        data={
            "deadline": deadline.isoformat() if deadline else None,
            "pending": [nc.number for nc in pending],
        },
        created_by=act.actor,
        now=act.now,
    )


def record_verification(act: Acting, audit_id: int, verdicts: Any, deadlines: Deadlines) -> dict:
    """R-8.7: verify each answered NC, documentary (a note on chronology and authenticity of the
    evidence) or on site (with a record); a rejected NC goes back to the client."""
    audit = get_audit(act.session, audit_id)
    answered = {nc.id: nc for nc in nonconformities_of(act.session, audit, AWAITING_VERIFICATION)}
    verdicts = check_verdicts(answered, verdicts)
    rejected = []
    for nc_id, verdict in verdicts.items():
        nc = answered[nc_id]
        nc.verification_method = verdict["method"]
        nc.verification_note = verdict["note"]
        nc.verified_by = act.actor
        nc.verified_at = act.now
        nc.status = "accepted" if verdict["accepted"] else "rejected"
        if not verdict["accepted"]:
            rejected.append(nc.number)
            # a new answer gets a new deadline by the NC's nature (its own reminder)
            nc.deadline = deadline_for(act, nc.nature, deadlines)
    all_accepted = all(nc.status == "accepted" for nc in nonconformities_of(act.session, audit))
    pending = nonconformities_of(act.session, audit, AWAITING_ANSWER)
    timers = (
        round_timers(pending, deadlines)
        if pending
        else {"deadline": None, "reminder_at": None, "deadline_at": None}
    )
    return {"all_accepted": all_accepted, "rejected": rejected, **timers}


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
    return nc_id, {"accepted": accepted, "method": method, "method_code": method, "note": text}


def overdue_nonconformities(act: Acting, audit: Audit) -> list[Nonconformity]:
    """The NCs awaiting an answer whose deadline has passed (China date)."""
    today = china_date(act.now)
    return [
        nc
        for nc in nonconformities_of(act.session, audit, AWAITING_ANSWER)
        if nc.deadline is not None and nc.deadline < today
    ]


def record_escalation(
    act: Acting, audit_id: int, *, action: Any, new_deadline: Any, note: Any, deadlines: Deadlines
) -> dict:
    """R-8.7: the audit department acts on an overdue correction — extends the deadline of the
    overdue NCs (the client answers again, with new timers), or ends the cycle proposing
    suspension of the certificate / refusal of registration to the decision makers. Kept with
    the NC report. Result {"action", "note", "overdue", "deadline", "reminder_at",
    "deadline_at"}."""
    audit = get_audit(act.session, audit_id)
    overdue = overdue_nonconformities(act, audit)
    action, day, text = check_escalation(overdue, action, new_deadline, note, china_date(act.now))
    if action == EXTEND:
        if not overdue:
            raise RuleViolation("R-8.7", "no nonconformity is overdue: nothing to extend")
        for nc in overdue:
            nc.deadline = day
    report = _latest_document(act.session, audit, REPORT_KIND)
    if report is not None:
        entry = {
            "action": action,
            "new_deadline": day.isoformat() if day else None,
            "overdue": [nc.number for nc in overdue],
            "note": text,
            "by": act.actor,
            "at": act.now.isoformat(),
        }
        report.data = {
            **(report.data or {}),
            "escalations": [*(report.data or {}).get("escalations", []), entry],
        }
    pending = nonconformities_of(act.session, audit, AWAITING_ANSWER)
    timers = (
        round_timers(pending, deadlines)
        if action == EXTEND
        else {"deadline": None, "reminder_at": None, "deadline_at": None}
    )
    # The proposal travels with the case to the decision makers: what was proposed,
    # why, and which nonconformities are still open.
    return {"action": action, "note": text, "overdue": [nc.number for nc in overdue], **timers}
