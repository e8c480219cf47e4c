"""Planning a surveillance (R-7.1.3, R-8.10.1, R-8.11): the steps of surveillance.bpmn, the
plan and extension of surveillance_audit.bpmn and the start of recertification.bpmn, without
Flask or the engine; the date rules are in `domain/surveillance.py`."""

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from certflow.dates import limit_timer
from domain.audit.common import require_status
from domain.certificates import record_event
from domain.checks import optional_text, require_date, require_id
from domain.documents import create_document
from domain.errors import RuleViolation
from domain.letter_templates import render_letter
from domain.models import Audit, AuditProgramme, Certificate, ProgrammeActivity
from domain.programme_dates import recertification_window_opens
from domain.programme_revisions import record_revision
from domain.surveillance import (
    EXTRA_REASONS,
    EXTRA_TRIGGER_KIND,
    REMINDER_KIND,
    calendar_year_problem,
    certificate_in_force,
    iso_or_none,
    limit_problem,
    programme_of,
    random_survey_required,
    routine_activity,
    routine_catch_up,
    routine_number,
    surveillance_limits,
    timer_at,
)


def schedule(
    session: Session,
    *,
    certificate_id: int,
    surveillance_number: Any,
    planning_lead_days: int,
    reminder_days_before: int,
    actor: str,
    now: datetime,
) -> dict:
    """R-7.1.3/R-8.10.1: the due date and hard limit of routine surveillance 1 or 2 and the
    timer instants of the cycle; R-8.10.1(2): whether it must include a random survey."""
    certificate = certificate_in_force(
        session, certificate_id, "R-8.10.1", "schedule a surveillance"
    )
    number = routine_number(surveillance_number)
    programme = programme_of(session, certificate)
    due, hard_limit = surveillance_limits(session, certificate, programme, number)
    activity = routine_activity(session, programme, number, create=True)
    activity.due_date, activity.hard_limit_date = due, hard_limit
    # a limit the process sets is a revision of the programme
    record_revision(session, programme, reason_kind="surveillance", actor=actor, now=now)
    lead, reminder = planning_lead_days, reminder_days_before
    planning_on = due - timedelta(days=lead)
    # a surveillance missed during a suspension is planned at once after the restoration;
    # when the recertification window opened first, the recertification audit covers it.
    late = routine_catch_up(session, certificate, programme, number)
    if late is not None:
        planning_on = late.restored_on
    return {
        "due": due.isoformat(),
        "hard_limit": hard_limit.isoformat(),
        "needed": late is None or late.needed,
        "caught_up_after": late.restored_on.isoformat() if late is not None else None,
        "planning_at": timer_at(planning_on),
        "reminder_at": timer_at(due - timedelta(days=reminder)),
        "due_at": limit_timer(due),
        "hard_limit_at": limit_timer(hard_limit),
        "recertification_at": timer_at(recertification_window_opens(certificate.expires_on)),
        "random_survey_required": random_survey_required(session, certificate, programme, due),
    }


def cycle_certificate(session: Session, *, certificate_number: Any) -> dict:
    """R-8.10.1: the certificate of a surveillance cycle by its number (the cycle's business
    key), the current one after reissues: a message to the cycle names the certificate by its
    number, never by an internal id."""
    number = optional_text(certificate_number)
    certificate = (
        session.scalars(select(Certificate).where(Certificate.number == number)).first()
        if number
        else None
    )
    if certificate is None:
        raise LookupError(f"certificate {certificate_number!r} not found")
    certificate = certificate_in_force(session, certificate.id, "R-8.10.1", "be surveilled")
    return {"certificate_id": certificate.id, "certificate_number": certificate.number}


def remind(
    session: Session, *, certificate_id: int, surveillance_number: Any, actor: str, now: datetime
) -> dict:
    """R-8.10.1: remind the client (and the case file) that surveillance n is due."""
    certificate = certificate_in_force(
        session, certificate_id, "R-8.10.1", "remind of a surveillance"
    )
    number = routine_number(surveillance_number)
    activity = routine_activity(session, programme_of(session, certificate), number)
    audit = session.get(Audit, activity.audit_id) if activity.audit_id else None
    planned = (
        f"{audit.start_date.isoformat()} – {audit.end_date.isoformat()}"
        if audit is not None and audit.start_date and audit.end_date
        else "尚未安排 not planned yet"
    )
    document = create_document(
        session,
        kind=REMINDER_KIND,
        title_facts={"reference": certificate.number, "number": number},
        body=render_letter(
            "surveillance_reminder",
            certificate=certificate,
            number=number,
            due=iso_or_none(activity.due_date),
            hard_limit=iso_or_none(activity.hard_limit_date),
            planned=planned,
        ),
        organisation_id=certificate.organisation_id,
        application_id=certificate.application_id,
        audit_id=audit.id if audit is not None else None,
        data={
            "certificate_number": certificate.number,
            "surveillance_number": number,
            "due": iso_or_none(activity.due_date),
            "hard_limit": iso_or_none(activity.hard_limit_date),
            "audit_id": audit.id if audit is not None else None,
        },
        created_by=actor,
        now=now,
    )
    return {"document_id": document.id}


def open_extra(
    session: Session, *, certificate_id: int, extra: Any, actor: str, now: datetime
) -> dict:
    """R-8.10.1 (a)–(d): an extra surveillance of the certificate: a programme activity
    `extra_surveillance` and its audit (kind `extra_surveillance`, the trigger as
    `trigger_reason`), and an internal record of the trigger (never published, R-11).

    → `extra_audit`, which `surveillance.record_plan` takes as its `extra_audit` parameter."""
    certificate = certificate_in_force(
        session, certificate_id, "R-8.10.1", "open an extra surveillance"
    )
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
    programme = programme_of(session, certificate)
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
    session.add(audit)
    session.flush()
    activity = ProgrammeActivity(
        programme_id=programme.id, kind="extra_surveillance", status="planned", audit_id=audit.id
    )
    session.add(activity)
    session.flush()
    record_revision(  # the programme gains the extra surveillance
        session, programme, reason_kind="surveillance", actor=actor, now=now
    )
    zh, en = EXTRA_REASONS[reason]
    document = create_document(
        session,
        kind=EXTRA_TRIGGER_KIND,
        title_facts={"reference": certificate.number},
        body=render_letter(
            "extra_surveillance_trigger",
            certificate=certificate,
            reason=reason,
            reason_zh=zh,
            reason_en=en,
            detail=detail,
        ),
        organisation_id=certificate.organisation_id,
        application_id=certificate.application_id,
        audit_id=audit.id,
        data={"reason": reason, "detail": detail, "certificate_number": certificate.number},
        created_by=actor,
        now=now,
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


# --- surveillance_audit.bpmn: the plan and its extension -----------------------------------------


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


def record_plan(
    session: Session,
    *,
    certificate_id: int,
    surveillance_number: Any,
    planned_start: Any,
    planned_end: Any,
    extension_reason: Any,
    extra_audit: Any,
    actor: str,
    now: datetime,
) -> dict:
    """R-7.1.3/R-8.10.1: the planned dates of surveillance n (or of an extra surveillance, with
    the optional `extra_audit` from surveillance.open_extra) and its surveillance `Audit`
    (certificate, programme, organisation, application of the certificate); an end after the due
    date records the extension request and its reason (approval next); never after the hard
    limit. Re-planning (after a refused extension) moves the same audit."""
    certificate = certificate_in_force(session, certificate_id, "R-8.10.1", "plan a surveillance")
    programme = programme_of(session, certificate)
    start = require_date(planned_start, "planned_start", "R-8.10.1")
    end = require_date(planned_end, "planned_end", "R-8.10.1")
    if end < start:
        raise RuleViolation("R-8.10.1", f"planned end {end} is before the planned start {start}")
    reason = optional_text(extension_reason)
    extra = extra_audit
    due = hard_limit = None
    if extra:
        activity = _extra_activity(session, programme, extra)
        kind, extension_needed, reference = "extra_surveillance", False, end
    else:
        number = routine_number(surveillance_number)
        activity = routine_activity(session, programme, number, create=True)
        due, hard_limit = surveillance_limits(session, certificate, programme, number)
        activity.due_date, activity.hard_limit_date = due, hard_limit
        problem = limit_problem(end, due, hard_limit, reason) or calendar_year_problem(
            session, certificate, programme, number, end
        )
        if problem:
            raise RuleViolation(*problem)
        kind, extension_needed, reference = "surveillance", end > due, max(due, end)
    if activity.status == "completed":
        raise RuleViolation("R-8.10.1", f"{activity.kind} of {certificate.number} is done")
    audit = _plan_audit(session, certificate, programme, activity, kind, start, end)
    activity.planned_date = start
    if not extra:
        activity.extension_requested_to = end if extension_needed else None
        activity.extension_reason = reason if extension_needed else None
        activity.extension_approved = None
        activity.extension_decided_by = None
        activity.extension_decided_at = None
    # the planned dates (and any extension asked) are a revision of the programme
    record_revision(session, programme, reason_kind="surveillance", actor=actor, now=now)
    return {
        "audit_id": audit.id,
        "programme_id": programme.id,
        "application_id": audit.application_id,
        "organisation_id": audit.organisation_id,
        "certificate_id": certificate.id,
        "kind": kind,
        "due": iso_or_none(due),
        "hard_limit": iso_or_none(hard_limit),
        "extension_needed": extension_needed,
        "random_survey_required": random_survey_required(
            session, certificate, programme, reference
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


def decide_extension(
    session: Session,
    *,
    certificate_id: int,
    surveillance_number: Any,
    approved: Any,
    note: Any,
    actor: str,
    now: datetime,
) -> dict:
    """R-8.10.1/R-7.1.3: the audit department approves or refuses the requested extension past
    the 12-month due date (who, when — R-13); never beyond the 15-month hard limit. An approval
    is recorded in the certificate's history (`surveillance_extended`)."""
    certificate = certificate_in_force(session, certificate_id, "R-8.10.1", "extend a surveillance")
    number = routine_number(surveillance_number)
    activity = routine_activity(session, programme_of(session, certificate), number)
    if activity.extension_requested_to is None:
        raise RuleViolation("R-8.10.1", f"no extension is requested for surveillance {number}")
    if activity.extension_approved is not None:
        raise RuleViolation(
            "R-8.10.1",
            f"the extension of surveillance {number} was already decided by "
            f"{activity.extension_decided_by}; plan again for a new request",
        )
    approved = approved
    if not isinstance(approved, bool):
        raise RuleViolation("R-8.10.1", f"approved must be true or false, got {approved!r}")
    note = optional_text(note)
    extended_to = activity.extension_requested_to
    if approved and activity.hard_limit_date and extended_to > activity.hard_limit_date:
        raise RuleViolation(
            "R-8.10.1",
            f"{extended_to} is after the hard limit {activity.hard_limit_date}: never beyond "
            "15 months",
        )
    activity.extension_approved = approved
    activity.extension_decided_by = actor
    activity.extension_decided_at = now
    record_revision(  # the decided extension revises the programme
        session, activity.programme, reason_kind="surveillance", actor=actor, now=now
    )
    if approved:
        record_event(
            session,
            certificate,
            event="surveillance_extended",
            rule="R-8.10.1",
            actor=actor,
            now=now,
            status_before=certificate.status,
            reason=activity.extension_reason or "",
            data={
                "surveillance_number": number,
                "due": iso_or_none(activity.due_date),
                "extended_to": extended_to.isoformat(),
                "hard_limit": iso_or_none(activity.hard_limit_date),
                "note": note,
            },
        )
    return {
        "approved": approved,
        "extended_to": extended_to.isoformat() if approved else None,
        "due": iso_or_none(activity.due_date),
        "hard_limit": iso_or_none(activity.hard_limit_date),
        "note": note,
    }


def prepare_recertification(session: Session, *, certificate_id: int) -> dict:
    """R-8.11: recertification starts 3 months before expiry; `expiry_at` (09:00 China time on
    the day after `expires_on`, the certificate's last valid day: `limit_timer`, docs/calendar.md)
    bounds the client's request and the recertification itself: a certificate not recertified —
    declined, unanswered, unfinished or not granted — stays valid to its last day and is
    cancelled the day after (R-9.5.3b)."""
    certificate = certificate_in_force(
        session, certificate_id, "R-8.11", "start its recertification"
    )
    return {
        "expiry_at": limit_timer(certificate.expires_on),
        "certificate_number": certificate.number,
        "organisation_id": certificate.organisation_id,
        "certificate_id": certificate.id,
        "expires_on": certificate.expires_on.isoformat(),
    }
