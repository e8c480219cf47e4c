"""Handlers: surveillance of a certificate in force and the start of its recertification
(R-7.1.3, R-8.10.1, R-8.10.2, R-8.10.3, R-8.11, R-9.3) — the service tasks and validators of
surveillance.bpmn, surveillance_audit.bpmn and recertification.bpmn
(docs/certificate-lifecycle.md).

Dates: surveillance 1 is due 12 months after the certification decision (hard limit 15 months);
surveillance 2 is due 12 months after the end of surveillance 1 — its audit's end date, or its
due date when it has none (hard limit 15 months). A planned end after the due date needs a
reason and the audit department's approval; after the hard limit it is refused (R-7.1.3,
R-8.10.1). Timer instants are 09:00 China time: `planning_at` (SURVEILLANCE_PLANNING_LEAD_DAYS
before the due date), `reminder_at` (SURVEILLANCE_REMINDER_DAYS_BEFORE before it), `due_at` and
`hard_limit_at` on the day *after* the due date / hard limit (the whole day is still in time,
as for NC deadlines), `recertification_at` 3 months before expiry (R-8.11) and `expiry_at` on the
expiry date.

A random survey (R-8.3) is required in a surveillance when none was recorded in this cycle's
audits (mystery shopping records or on-site survey days) within the 2 years before the
surveillance (its due date, or its planned end when later) — R-8.10.1(2).

A process started for the first certificate of a cycle acts on its current reissue (a downgrade
reissues the certificate, R-9.3): see domain.certificates.current_certificate.
"""

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from certflow.dates import TIMER_HOUR_CHINA, add_months, china_time_in_utc, iso_utc
from domain.certificates import (
    HELD,
    STATUS_LABELS,
    certificate_reissue,
    current_certificate,
    get_certificate,
    publish,
    record_event,
)
from domain.documents import create_document
from domain.errors import RuleViolation
from domain.models import (
    Audit,
    AuditProgramme,
    Certificate,
    Decision,
    Document,
    ProgrammeActivity,
)
from domain.programme_dates import (
    SURVEILLANCE_HARD_LIMIT_MONTHS,
    parse_iso_date,
    recertification_window_opens,
    surveillance_1_due,
    surveillance_2_due,
    surveillance_2_hard_limit,
)
from handlers.audit import (
    MYSTERY_SHOPPING_KIND,
    SURVEILLANCE_AUDIT_KINDS,
    get_audit,
    optional_text,
    require_date,
    require_id,
    require_int,
    require_status,
)
from handlers.guards import audited_application
from handlers.nonconformity import setting
from handlers.registry import GuardContext, HandlerContext, handler, validator

DEFAULT_PLANNING_LEAD_DAYS = 60
DEFAULT_REMINDER_DAYS_BEFORE = 14
ROUTINE_SURVEILLANCES = (1, 2)  # two routine surveillance audits per validity period
RANDOM_SURVEY_MONTHS = 24  # R-8.10.1(2): a random survey at least every two years
REMINDER_KIND = "surveillance_reminder"
EXTRA_TRIGGER_KIND = "extra_surveillance_trigger"
OUTCOMES = ("maintain", "downgrade", "suspend", "withdraw")
# The message the diagram throws after recording a suspend / withdraw outcome.
OUTCOME_MESSAGE_REASONS = {"suspend": "b", "withdraw": "below_lowest_level"}

# R-8.10.1 (a)–(d): what triggers an extra surveillance.
EXTRA_REASONS: dict[str, tuple[str, str]] = {
    "a": (
        "获证组织造成严重事故、被媒体曝光或经查实的投诉",
        "serious accident, media exposure or substantiated complaints caused by the client",
    ),
    "b": (
        "法人、组织机构、职能或资源发生重大变更",
        "major changes of legal person, organisation, functions or resources",
    ),
    "c": ("认证依据变更", "change of the certification criteria"),
    "d": ("其他情况", "other"),
}


# --- lookups -------------------------------------------------------------------------------------


def certificate_in_force(
    session: Session, certificate_id: Any, rule: str, doing: str
) -> Certificate:
    """The current certificate of `certificate_id` (following reissues), valid or suspended."""
    certificate = current_certificate(session, get_certificate(session, certificate_id))
    if certificate.status not in HELD:
        raise RuleViolation(
            rule,
            f"certificate {certificate.number} is {STATUS_LABELS.get(certificate.status)}: "
            f"cannot {doing}",
        )
    return certificate


def routine_number(value: Any) -> int:
    number = require_int(value, "surveillance_number", "R-8.10.1", minimum=1)
    if number not in ROUTINE_SURVEILLANCES:
        raise RuleViolation(
            "R-8.10.1",
            f"there are two routine surveillance audits per validity period; surveillance_number "
            f"must be 1 or 2, got {number}",
        )
    return number


def programme_of(session: Session, certificate: Certificate) -> AuditProgramme:
    """The audit programme of the certificate's cycle (its application's programme)."""
    programme = session.scalars(
        select(AuditProgramme)
        .where(AuditProgramme.application_id == certificate.application_id)
        .order_by(AuditProgramme.id.desc())
        .limit(1)
    ).first()
    if programme is None:
        raise LookupError(f"certificate {certificate.number} has no audit programme")
    return programme


def _activity(session: Session, programme: AuditProgramme, kind: str) -> ProgrammeActivity | None:
    return session.scalars(
        select(ProgrammeActivity)
        .where(ProgrammeActivity.programme_id == programme.id, ProgrammeActivity.kind == kind)
        .order_by(ProgrammeActivity.id.desc())
        .limit(1)
    ).first()


def routine_activity(
    session: Session, programme: AuditProgramme, number: int, *, create: bool = False
) -> ProgrammeActivity:
    kind = f"surveillance_{number}"
    activity = _activity(session, programme, kind)
    if activity is None:
        if not create:
            raise LookupError(f"programme {programme.id} has no {kind} (schedule it first)")
        activity = ProgrammeActivity(programme_id=programme.id, kind=kind, status="planned")
        session.add(activity)
        session.flush()
    return activity


def cycle_start(session: Session, certificate: Certificate, programme: AuditProgramme) -> date:
    """R-7.1.1: the cycle runs from the certification decision date."""
    if programme.cycle_start is not None:
        return programme.cycle_start
    decision = session.get(Decision, certificate.decision_id) if certificate.decision_id else None
    return decision.decided_on if decision else certificate.original_issued_on


def first_surveillance_end(
    session: Session, certificate: Certificate, programme: AuditProgramme
) -> date:
    """The end of surveillance 1: its audit's end date, else its due date."""
    s1 = _activity(session, programme, "surveillance_1")
    audit = session.get(Audit, s1.audit_id) if s1 is not None and s1.audit_id else None
    if audit is not None and audit.end_date is not None:
        return audit.end_date
    if s1 is not None and s1.due_date is not None:
        return s1.due_date
    return surveillance_1_due(cycle_start(session, certificate, programme))


def surveillance_limits(
    session: Session, certificate: Certificate, programme: AuditProgramme, number: int
) -> tuple[date, date]:
    """(due date, hard limit) of routine surveillance `number` (R-7.1.3, R-8.10.1)."""
    if number == 1:
        start = cycle_start(session, certificate, programme)
        return surveillance_1_due(start), add_months(start, SURVEILLANCE_HARD_LIMIT_MONTHS)
    s1_end = first_surveillance_end(session, certificate, programme)
    return surveillance_2_due(s1_end), surveillance_2_hard_limit(s1_end)


def last_random_survey(
    session: Session, certificate: Certificate, programme: AuditProgramme
) -> date | None:
    """The latest random survey (R-8.3) of the cycle: a mystery shopping record with a survey,
    or an audit day with an on-site survey, in any audit of the programme or the certificate."""
    audits = list(
        session.scalars(
            select(Audit).where(
                or_(Audit.programme_id == programme.id, Audit.certificate_id == certificate.id)
            )
        )
    )
    days: list[date] = []
    records = session.scalars(
        select(Document).where(
            Document.audit_id.in_([audit.id for audit in audits]),
            Document.kind == MYSTERY_SHOPPING_KIND,
        )
    )
    for record in records:
        data = record.data or {}
        if (data.get("random_survey") or {}).get("done") and data.get("visit_date"):
            days.append(date.fromisoformat(data["visit_date"]))
    for audit in audits:
        for day in audit.communications or []:
            if day.get("random_survey") and day.get("audit_day"):
                days.append(date.fromisoformat(day["audit_day"]))
    return max(days, default=None)


def random_survey_required(
    session: Session, certificate: Certificate, programme: AuditProgramme, reference: date
) -> bool:
    """R-8.10.1(2): no random survey in this cycle within the 2 years before `reference`."""
    last = last_random_survey(session, certificate, programme)
    return last is None or last < add_months(reference, -RANDOM_SURVEY_MONTHS)


def _timer(day: date) -> str:
    return iso_utc(china_time_in_utc(day, TIMER_HOUR_CHINA))


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def limit_problem(
    planned_end: date, due: date, hard_limit: date, extension_reason: str
) -> tuple[str, str] | None:
    """(rule, message) when a planned end breaks R-7.1.3/R-8.10.1, else None."""
    if planned_end > hard_limit:
        return (
            "R-8.10.1",
            f"planned end {planned_end} is after the hard limit {hard_limit}: a surveillance "
            "audit is never more than 15 months after the last one, even with an extension",
        )
    if planned_end > due and not extension_reason:
        return (
            "R-7.1.3",
            f"planned end {planned_end} is after the due date {due} (12 months): an extension "
            "needs a reason (extension_reason) and the audit department's approval",
        )
    return None


def outcome_problem(held: int, reassessed: Any, outcome: Any) -> str | None:
    """R-8.10.3: the outcome the reassessed level allows, against the held level; a message
    when `outcome` does not fit, else None."""
    if outcome not in OUTCOMES:
        return f"outcome must be one of {OUTCOMES}, got {outcome!r}"
    if reassessed >= held:
        if outcome != "maintain":
            return (
                f"the reassessed level {reassessed} meets the held level {held}: the certificate "
                "is maintained (R-8.10.3a)"
            )
    elif reassessed >= 1:
        if outcome not in ("downgrade", "suspend"):
            return (
                f"the reassessed level {reassessed} is below the held level {held} but not below "
                "the lowest level: downgrade or suspend (R-8.10.3b)"
            )
    elif outcome != "withdraw":
        return "the reassessed level is below the lowest star level: withdraw (R-8.10.3c)"
    return None


def _surveillance_audit_of(session: Session, certificate: Certificate, audit: Audit) -> None:
    """The audit is a surveillance audit of this certificate (or of the one it reissues)."""
    of = (
        current_certificate(session, get_certificate(session, audit.certificate_id))
        if audit.certificate_id is not None
        else None
    )
    if audit.kind not in SURVEILLANCE_AUDIT_KINDS or of is None or of.id != certificate.id:
        raise RuleViolation(
            "R-8.10.3", f"audit {audit.id} is not a surveillance audit of {certificate.number}"
        )


def _require_no_outcome(audit: Audit) -> None:
    recorded = (audit.conclusion_notes or {}).get("surveillance_outcome")
    if recorded:
        raise RuleViolation(
            "R-8.10.3",
            f"audit {audit.id} already has its outcome ({recorded['outcome']}, by "
            f"{recorded['decided_by']})",
        )


def _close(session: Session, audit: Audit, ctx: HandlerContext, outcome: dict) -> None:
    """Record the outcome on the audit (R-13: who, when) and complete its programme activity."""
    audit.conclusion_notes = {
        **(audit.conclusion_notes or {}),
        "surveillance_outcome": {
            **outcome,
            "decided_by": ctx.actor,
            "decided_at": ctx.now.isoformat(),
        },
    }
    for activity in session.scalars(
        select(ProgrammeActivity).where(ProgrammeActivity.audit_id == audit.id)
    ):
        activity.status = "completed"


# --- surveillance.bpmn ---------------------------------------------------------------------------


@handler("surveillance.schedule")
def schedule(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-7.1.3/R-8.10.1: the due date and hard limit of routine surveillance 1 or 2 and the
    timer instants of the cycle; R-8.10.1(2): whether it must include a random survey."""
    certificate = certificate_in_force(
        ctx.session, params.get("certificate_id"), "R-8.10.1", "schedule a surveillance"
    )
    number = routine_number(params.get("surveillance_number"))
    programme = programme_of(ctx.session, certificate)
    due, hard_limit = surveillance_limits(ctx.session, certificate, programme, number)
    activity = routine_activity(ctx.session, programme, number, create=True)
    activity.due_date, activity.hard_limit_date = due, hard_limit
    lead = setting("SURVEILLANCE_PLANNING_LEAD_DAYS", DEFAULT_PLANNING_LEAD_DAYS)
    reminder = setting("SURVEILLANCE_REMINDER_DAYS_BEFORE", DEFAULT_REMINDER_DAYS_BEFORE)
    return {
        "due": due.isoformat(),
        "hard_limit": hard_limit.isoformat(),
        "planning_at": _timer(due - timedelta(days=lead)),
        "reminder_at": _timer(due - timedelta(days=reminder)),
        "due_at": _timer(due + timedelta(days=1)),
        "hard_limit_at": _timer(hard_limit + timedelta(days=1)),
        "recertification_at": _timer(recertification_window_opens(certificate.expires_on)),
        "random_survey_required": random_survey_required(ctx.session, certificate, programme, due),
    }


@handler("surveillance.remind")
def remind(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-8.10.1: remind the client (and the case file) that surveillance n is due."""
    certificate = certificate_in_force(
        ctx.session, params.get("certificate_id"), "R-8.10.1", "remind of a surveillance"
    )
    number = routine_number(params.get("surveillance_number"))
    activity = routine_activity(ctx.session, programme_of(ctx.session, certificate), number)
    audit = ctx.session.get(Audit, activity.audit_id) if activity.audit_id else None
    planned = (
        f"{audit.start_date.isoformat()} – {audit.end_date.isoformat()}"
        if audit is not None and audit.start_date and audit.end_date
        else "尚未安排 not planned yet"
    )
    document = create_document(
        ctx.session,
        kind=REMINDER_KIND,
        title=f"监督审查提醒 Surveillance reminder — {certificate.number} ({number})",
        lines=[
            f"# 监督审查提醒 Surveillance reminder — {certificate.number}",
            f"{certificate.organisation_name}：",
            "",
            f"第 {number} 次监督审查应于 {_iso(activity.due_date)} 前完成"
            f"（最迟不超过 {_iso(activity.hard_limit_date)}）。",
            f"Surveillance audit {number} is due by {_iso(activity.due_date)} (at the latest "
            f"{_iso(activity.hard_limit_date)}); otherwise the certificate is suspended "
            "(R-9.5.1a).",
            f"计划日期 Planned: {planned}",
        ],
        organisation_id=certificate.organisation_id,
        application_id=certificate.application_id,
        audit_id=audit.id if audit is not None else None,
        data={
            "certificate_number": certificate.number,
            "surveillance_number": number,
            "due": _iso(activity.due_date),
            "hard_limit": _iso(activity.hard_limit_date),
            "audit_id": audit.id if audit is not None else None,
        },
        created_by=ctx.actor,
        now=ctx.now,
    )
    return {"document_id": document.id}


@handler("surveillance.open_extra")
def open_extra(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-8.10.1 (a)–(d): an extra surveillance of the certificate: a programme activity
    `extra_surveillance` and its audit (kind `extra_surveillance`, the trigger as
    `trigger_reason`), and an internal record of the trigger (never published, R-11).

    → `extra_audit`, which `surveillance.record_plan` takes as its `extra_audit` parameter."""
    certificate = certificate_in_force(
        ctx.session, params.get("certificate_id"), "R-8.10.1", "open an extra surveillance"
    )
    extra = params.get("extra")
    if not isinstance(extra, Mapping):
        raise RuleViolation("R-8.10.1", f"extra must be the message payload, got {extra!r}")
    reason = extra.get("reason")
    if reason not in EXTRA_REASONS:
        raise RuleViolation(
            "R-8.10.1",
            f"an extra surveillance reason must be one of {list(EXTRA_REASONS)}, got {reason!r}",
        )
    detail = optional_text(extra.get("detail"))
    if reason == "d" and not detail:
        raise RuleViolation("R-8.10.1", "an extra surveillance for (d) other reasons needs detail")
    programme = programme_of(ctx.session, certificate)
    audit = Audit(
        programme_id=programme.id,
        application_id=certificate.application_id,
        organisation_id=certificate.organisation_id,
        kind="extra_surveillance",
        certificate_id=certificate.id,
        trigger_reason=reason,
        scope=certificate.scope,
        status="planned",
    )
    ctx.session.add(audit)
    ctx.session.flush()
    activity = ProgrammeActivity(
        programme_id=programme.id, kind="extra_surveillance", status="planned", audit_id=audit.id
    )
    ctx.session.add(activity)
    ctx.session.flush()
    zh, en = EXTRA_REASONS[reason]
    document = create_document(
        ctx.session,
        kind=EXTRA_TRIGGER_KIND,
        title=f"额外监督审查 Extra surveillance — {certificate.number}",
        lines=[
            f"# 额外监督审查 Extra surveillance — {certificate.number}",
            f"- 原因 Reason: R-8.10.1({reason}) {zh} {en}",
            f"- 说明 Detail: {detail or '—'}",
        ],
        organisation_id=certificate.organisation_id,
        application_id=certificate.application_id,
        audit_id=audit.id,
        data={"reason": reason, "detail": detail, "certificate_number": certificate.number},
        created_by=ctx.actor,
        now=ctx.now,
    )
    return {
        "kind": "extra_surveillance",
        "activity_id": activity.id,
        "audit_id": audit.id,
        "programme_id": programme.id,
        "application_id": certificate.application_id,
        "organisation_id": certificate.organisation_id,
        "certificate_id": certificate.id,
        "trigger_reason": reason,
        "held_level": certificate.star_level,
        "document_id": document.id,
    }


# --- surveillance_audit.bpmn ---------------------------------------------------------------------


def _extra_activity(session: Session, programme: AuditProgramme, extra: Any) -> ProgrammeActivity:
    activity_id = require_id(
        extra.get("activity_id") if isinstance(extra, Mapping) else None, "extra_audit"
    )
    activity = session.get(ProgrammeActivity, activity_id)
    if (
        activity is None
        or activity.programme_id != programme.id
        or activity.kind != "extra_surveillance"
    ):
        raise LookupError(f"extra surveillance activity {activity_id} not found")
    return activity


@handler("surveillance.record_plan")
def record_plan(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-7.1.3/R-8.10.1: the planned dates of surveillance n (or of an extra surveillance, with
    the optional `extra_audit` from surveillance.open_extra) and its surveillance `Audit`
    (certificate, programme, organisation, application of the certificate); an end after the due
    date records the extension request and its reason (approval next); never after the hard
    limit. Re-planning (after a refused extension) moves the same audit."""
    certificate = certificate_in_force(
        ctx.session, params.get("certificate_id"), "R-8.10.1", "plan a surveillance"
    )
    programme = programme_of(ctx.session, certificate)
    start = require_date(params.get("planned_start"), "planned_start", "R-8.10.1")
    end = require_date(params.get("planned_end"), "planned_end", "R-8.10.1")
    if end < start:
        raise RuleViolation("R-8.10.1", f"planned end {end} is before the planned start {start}")
    reason = optional_text(params.get("extension_reason"))
    extra = params.get("extra_audit")
    due = hard_limit = None
    if extra:
        activity = _extra_activity(ctx.session, programme, extra)
        kind, extension_needed, reference = "extra_surveillance", False, end
    else:
        number = routine_number(params.get("surveillance_number"))
        activity = routine_activity(ctx.session, programme, number, create=True)
        due, hard_limit = surveillance_limits(ctx.session, certificate, programme, number)
        activity.due_date, activity.hard_limit_date = due, hard_limit
        problem = limit_problem(end, due, hard_limit, reason)
        if problem:
            raise RuleViolation(*problem)
        kind, extension_needed, reference = "surveillance", end > due, max(due, end)
    if activity.status == "completed":
        raise RuleViolation("R-8.10.1", f"{activity.kind} of {certificate.number} is done")
    audit = _plan_audit(ctx.session, certificate, programme, activity, kind, start, end)
    activity.planned_date = start
    if not extra:
        activity.extension_requested_to = end if extension_needed else None
        activity.extension_reason = reason if extension_needed else None
        activity.extension_approved = None
        activity.extension_decided_by = None
        activity.extension_decided_at = None
    return {
        "audit_id": audit.id,
        "programme_id": programme.id,
        "application_id": audit.application_id,
        "organisation_id": audit.organisation_id,
        "certificate_id": certificate.id,
        "kind": kind,
        "due": _iso(due),
        "hard_limit": _iso(hard_limit),
        "extension_needed": extension_needed,
        "random_survey_required": random_survey_required(
            ctx.session, certificate, programme, reference
        ),
        "held_level": certificate.star_level,
    }


def _plan_audit(
    session: Session,
    certificate: Certificate,
    programme: AuditProgramme,
    activity: ProgrammeActivity,
    kind: str,
    start: date,
    end: date,
) -> Audit:
    audit = session.get(Audit, activity.audit_id) if activity.audit_id else None
    if audit is None:
        audit = Audit(
            programme_id=programme.id,
            application_id=certificate.application_id,
            organisation_id=certificate.organisation_id,
            kind=kind,
            certificate_id=certificate.id,
            scope=certificate.scope,
            status="planned",
        )
        session.add(audit)
        session.flush()
        activity.audit_id = audit.id
    else:
        require_status(audit, ["planned"], "R-8.10.1", "re-plan the surveillance")
    audit.certificate_id = certificate.id
    audit.start_date, audit.end_date = start, end
    session.flush()
    return audit


@handler("surveillance.decide_extension")
def decide_extension(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-8.10.1/R-7.1.3: the audit department approves or refuses the requested extension past
    the 12-month due date (who, when — R-13); never beyond the 15-month hard limit. An approval
    is recorded in the certificate's history (`surveillance_extended`)."""
    certificate = certificate_in_force(
        ctx.session, params.get("certificate_id"), "R-8.10.1", "extend a surveillance"
    )
    number = routine_number(params.get("surveillance_number"))
    activity = routine_activity(ctx.session, programme_of(ctx.session, certificate), number)
    if activity.extension_requested_to is None:
        raise RuleViolation("R-8.10.1", f"no extension is requested for surveillance {number}")
    if activity.extension_approved is not None:
        raise RuleViolation(
            "R-8.10.1",
            f"the extension of surveillance {number} was already decided by "
            f"{activity.extension_decided_by}; plan again for a new request",
        )
    approved = params.get("approved")
    if not isinstance(approved, bool):
        raise RuleViolation("R-8.10.1", f"approved must be true or false, got {approved!r}")
    note = optional_text(params.get("note"))
    extended_to = activity.extension_requested_to
    if approved and activity.hard_limit_date and extended_to > activity.hard_limit_date:
        raise RuleViolation(
            "R-8.10.1",
            f"{extended_to} is after the hard limit {activity.hard_limit_date}: never beyond "
            "15 months",
        )
    activity.extension_approved = approved
    activity.extension_decided_by = ctx.actor
    activity.extension_decided_at = ctx.now
    if approved:
        record_event(
            ctx.session,
            certificate,
            event="surveillance_extended",
            rule="R-8.10.1",
            actor=ctx.actor,
            now=ctx.now,
            status_before=certificate.status,
            reason=activity.extension_reason or "",
            data={
                "surveillance_number": number,
                "due": _iso(activity.due_date),
                "extended_to": extended_to.isoformat(),
                "hard_limit": _iso(activity.hard_limit_date),
                "note": note,
            },
        )
    return {
        "approved": approved,
        "extended_to": extended_to.isoformat() if approved else None,
        "due": _iso(activity.due_date),
        "hard_limit": _iso(activity.hard_limit_date),
        "note": note,
    }


@handler("surveillance.maintain")
def maintain(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-8.10.3(1): the surveillance audit met the held level: the certificate is maintained
    (event `maintained`); the programme activity is done."""
    certificate = certificate_in_force(
        ctx.session, params.get("certificate_id"), "R-8.10.3", "maintain it"
    )
    audit = get_audit(ctx.session, params.get("audit_id"))
    _surveillance_audit_of(ctx.session, certificate, audit)
    require_status(audit, ["completed"], "R-8.10.3", "maintain the certificate")
    _require_no_outcome(audit)
    achieved = audit.star_level_achieved
    if achieved is None or achieved < certificate.star_level:
        raise RuleViolation(
            "R-8.10.3",
            f"audit {audit.id} reached level {achieved}, below the held level "
            f"{certificate.star_level}: the client corrects first, then the outcome is decided",
        )
    record_event(
        ctx.session,
        certificate,
        event="maintained",
        rule="R-8.10.3",
        actor=ctx.actor,
        now=ctx.now,
        status_before=certificate.status,
        reason=f"监督审查达到 {achieved} 星 surveillance audit reached level {achieved}",
        data={"audit_id": audit.id, "star_level_achieved": achieved},
    )
    _close(ctx.session, audit, ctx, {"outcome": "maintain", "reassessed_star_level": achieved})
    return {
        "certificate_id": certificate.id,
        "certificate_number": certificate.number,
        "status": certificate.status,
        "star_level": certificate.star_level,
    }


@handler("surveillance.record_outcome")
def record_outcome(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-8.10.3 after the client's corrections were verified: (a) level met → maintain; (b)
    below the held level but at least 1 star → downgrade (the certificate is reissued with the
    reassessed level, R-9.3) or suspend; (c) below the lowest level → withdraw. Suspend and
    withdraw are only recorded here: the diagram throws `suspend_certificate` (reason b) or
    `withdraw_certificate` (reason below_lowest_level), whose processes change the status."""
    certificate = certificate_in_force(
        ctx.session, params.get("certificate_id"), "R-8.10.3", "record a surveillance outcome"
    )
    audit = get_audit(ctx.session, params.get("audit_id"))
    _surveillance_audit_of(ctx.session, certificate, audit)
    require_status(audit, ["completed"], "R-8.10.3", "record the surveillance outcome")
    _require_no_outcome(audit)
    if audited_application(ctx.session, certificate.application_id, ctx.actor):
        raise RuleViolation(
            "R-8.8",
            f"{ctx.actor} took part in an audit of this certificate and may not decide its outcome",
        )
    reassessed = require_int(
        params.get("reassessed_star_level"), "reassessed_star_level", "R-5", minimum=0
    )
    if reassessed > 5:
        raise RuleViolation("R-5", f"reassessed_star_level must be 0–5, got {reassessed}")
    outcome = params.get("outcome")
    held = certificate.star_level
    problem = outcome_problem(held, reassessed, outcome)
    if problem:
        raise RuleViolation("R-8.10.3", problem)
    reasons = optional_text(params.get("reasons"))
    if outcome != "maintain" and not reasons:
        raise RuleViolation("R-8.10.3", f"a {outcome} outcome needs the reasons")
    current = certificate
    if outcome == "maintain":
        record_event(
            ctx.session,
            certificate,
            event="maintained",
            rule="R-8.10.3a",
            actor=ctx.actor,
            now=ctx.now,
            status_before=certificate.status,
            reason=reasons or f"整改后达到 {reassessed} 星 level {reassessed} met after correction",
            data={"audit_id": audit.id, "reassessed_star_level": reassessed},
        )
    elif outcome == "downgrade":
        current = certificate_reissue(
            ctx.session,
            certificate,
            star_level=reassessed,
            changes={},
            actor=ctx.actor,
            now=ctx.now,
            rule="R-8.10.3b",
            event="downgraded",
            reason=reasons,
        )
        _announce_downgrade(ctx, certificate, current)
    outcome_record = {
        "outcome": outcome,
        "reassessed_star_level": reassessed,
        "held_level": held,
        "reasons": reasons,
        "certificate_id": current.id,
    }
    _close(ctx.session, audit, ctx, outcome_record)
    return {
        "outcome": outcome,
        "reassessed_star_level": reassessed,
        "held_level": held,
        "certificate_id": current.id,
        "certificate_number": current.number,
        "star_level": current.star_level,
        "replaced_certificate_id": certificate.id if current is not certificate else None,
        "reason": OUTCOME_MESSAGE_REASONS.get(outcome),
        "detail": reasons,
    }


def _announce_downgrade(ctx: HandlerContext, old: Certificate, new: Certificate) -> None:
    publish(
        ctx.session,
        new,
        kind="downgraded",
        now=ctx.now,
        title=f"降级公告 Downgraded: {new.organisation_name} ({new.number})",
        lines=[
            f"{new.organisation_name} 的认证星级由 {old.star_level} 星降为 {new.star_level} 星，"
            f"换发证书 {new.number}（替代 {old.number}）。",
            f"{new.organisation_name}: level {old.star_level} → {new.star_level} stars; "
            f"certificate {new.number} replaces {old.number}.",
            f"初次发证 First issued: {new.original_issued_on.isoformat()}; "
            f"变更 Changed: {_iso(new.changed_on)}; 有效期至 Valid until: "
            f"{new.expires_on.isoformat()}",
        ],
    )


# --- recertification.bpmn ------------------------------------------------------------------------


@handler("recertification.prepare")
def prepare_recertification(params: dict[str, Any], ctx: HandlerContext) -> dict:
    """R-8.11: recertification starts 3 months before expiry; the expiry instant (09:00 China
    time on the expiry date) bounds the client's request and the recertification itself
    (R-9.5.3b: expired without recertification → cancelled)."""
    certificate = certificate_in_force(
        ctx.session, params.get("certificate_id"), "R-8.11", "start its recertification"
    )
    return {
        "expiry_at": _timer(certificate.expires_on),
        "certificate_number": certificate.number,
        "organisation_id": certificate.organisation_id,
        "certificate_id": certificate.id,
        "expires_on": certificate.expires_on.isoformat(),
    }


# --- validators ----------------------------------------------------------------------------------


def _date_or_error(data: Mapping[str, Any], field: str, errors: dict) -> date | None:
    try:
        return parse_iso_date(data.get(field))
    except ValueError:
        errors[field] = [f"R-8.10.1: {field} must be an ISO date (YYYY-MM-DD)"]
        return None


@validator("surveillance_within_limits")
def surveillance_within_limits(ctx: GuardContext) -> dict[str, list[str]]:
    """The surveillance plan form against R-7.1.3/R-8.10.1 (422 before the task completes): an
    end after the 12-month due date needs an extension reason; after the 15-month hard limit it
    is refused whatever the reason. surveillance.record_plan enforces the same again."""
    data, errors = ctx.data, {}
    start = _date_or_error(data, "planned_start", errors)
    end = _date_or_error(data, "planned_end", errors)
    if errors:
        return errors
    if end < start:
        return {"planned_end": [f"R-8.10.1: planned end {end} is before the start {start}"]}
    if data.get("extra_audit"):
        return {}
    try:
        certificate = current_certificate(
            ctx.session, get_certificate(ctx.session, data.get("certificate_id"))
        )
        number = routine_number(data.get("surveillance_number"))
        programme = programme_of(ctx.session, certificate)
    except (LookupError, ValueError, RuleViolation) as err:
        return {"planned_end": [str(err)]}
    due, hard_limit = surveillance_limits(ctx.session, certificate, programme, number)
    problem = limit_problem(end, due, hard_limit, optional_text(data.get("extension_reason")))
    return {"planned_end": [f"{problem[0]}: {problem[1]}"]} if problem else {}


@validator("random_survey_when_due")
def random_survey_when_due(ctx: GuardContext) -> dict[str, list[str]]:
    """R-8.10.1(2): the mystery shopping of a surveillance that needs a random survey (none in
    the last 2 years) includes one. Outside a surveillance (no `surveillance_plan`) it passes."""
    plan = ctx.data.get("surveillance_plan")
    if not isinstance(plan, Mapping) or plan.get("random_survey_required") is not True:
        return {}
    if ctx.data.get("random_survey_done") is True:
        return {}
    return {
        "random_survey_done": [
            "R-8.10.1: no random survey was done in this cycle in the last 2 years: this "
            "surveillance's mystery shopping includes a random customer survey (R-8.3)"
        ]
    }


@validator("surveillance_outcome_fits")
def surveillance_outcome_fits(ctx: GuardContext) -> dict[str, list[str]]:
    """R-8.10.3: the outcome against the reassessed and the held level — level met → maintain;
    below the held level but ≥ 1 → downgrade or suspend; 0 → withdraw; reasons unless
    maintained. surveillance.record_outcome enforces the same again."""
    data = ctx.data
    level = data.get("reassessed_star_level")
    if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= 5:
        return {"reassessed_star_level": ["R-5: the reassessed star level is 0–5"]}
    try:
        certificate = current_certificate(
            ctx.session, get_certificate(ctx.session, data.get("certificate_id"))
        )
    except (LookupError, ValueError) as err:
        return {"outcome": [str(err)]}
    errors: dict[str, list[str]] = {}
    problem = outcome_problem(certificate.star_level, level, data.get("outcome"))
    if problem:
        errors["outcome"] = [f"R-8.10.3: {problem}"]
    if data.get("outcome") != "maintain" and not optional_text(data.get("reasons")):
        errors["reasons"] = ["R-8.10.3: a downgrade, suspension or withdrawal needs the reasons"]
    return errors
