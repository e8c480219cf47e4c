"""Surveillance of a certificate in force (R-7.1.3, R-8.10.1, R-8.10.2, R-8.10.3, R-8.11): the
date, limit, random-survey and outcome rules of surveillance.bpmn and surveillance_audit.bpmn
(docs/certificate-lifecycle.md), without Flask or the engine. The steps that use them are in
`domain/surveillance_planning.py` and `domain/surveillance_outcome.py`.

Dates (R-7.1.3, R-8.10.1 as corrected 2026-12-04): surveillance 1 is due 12 months after the
certification decision and is never extended (its due date is its hard limit); surveillance 2 is
due 12 months after the end of surveillance 1 — its audit's end date, or its due date when it has
none — and may be extended for a recorded reason with the audit department's approval, never
beyond 15 months. Every calendar year after the certification year, up to the recertification
year exclusive, has a surveillance (每个日历年，再认证年份除外): surveillance 1 may not leave two
such years to surveillance 2, and surveillance 2 lies in the year surveillance 1 left (its hard
limit is then at the latest 31 December of that year).

Timer instants are 09:00 China time: `planning_at` (SURVEILLANCE_PLANNING_LEAD_DAYS
before the due date), `reminder_at` (SURVEILLANCE_REMINDER_DAYS_BEFORE before it), `due_at` and
`hard_limit_at` on the day *after* the due date / hard limit (both are last days, in time),
`recertification_at` 3 months before the validity ends (R-8.11) and `expiry_at` on the day after
the last valid day — the one calendar convention of certflow/dates.py (docs/calendar.md).

A random survey (R-8.3) is required in a surveillance when none was recorded in this cycle's
audits (mystery shopping records or on-site survey days) within the 2 years before the
surveillance (its due date, or its planned end when later) — R-8.10.1(2).

A process started for the first certificate of a cycle acts on its current reissue (a downgrade
reissues the certificate, R-9.3): see domain.certificates.current_certificate.
"""

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from certflow.dates import is_past, last_day_of_months, timer_on
from domain.audit.common import MYSTERY_SHOPPING_KIND, SURVEILLANCE_AUDIT_KINDS
from domain.audit.rescoring import rescored_level_problem
from domain.certificates import HELD, STATUS_LABELS, current_certificate, get_certificate
from domain.checks import optional_text, require_int
from domain.errors import RuleViolation
from domain.models import (
    Audit,
    AuditProgramme,
    Certificate,
    Decision,
    Document,
    Nonconformity,
    ProgrammeActivity,
)
from domain.programme_dates import (
    parse_iso_date,
    surveillance_1_due,
    surveillance_2_due,
    surveillance_2_hard_limit,
    years_to_surveil,
)
from domain.surveillance_restoration import CatchUp, catch_up

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


def activity_of(session: Session, programme: AuditProgramme, kind: str) -> ProgrammeActivity | None:
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
    activity = activity_of(session, programme, kind)
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
    s1 = activity_of(session, programme, "surveillance_1")
    audit = session.get(Audit, s1.audit_id) if s1 is not None and s1.audit_id else None
    if audit is not None and audit.end_date is not None:
        return audit.end_date
    if s1 is not None and s1.due_date is not None:
        return s1.due_date
    return surveillance_1_due(cycle_start(session, certificate, programme))


def surveillance_limits(
    session: Session, certificate: Certificate, programme: AuditProgramme, number: int
) -> tuple[date, date]:
    """(due date, hard limit) of routine surveillance `number` (R-7.1.3, R-8.10.1): the first
    within 12 months of certification, no extension; the second extendable up to 15 months after
    the first and within the calendar year that still needs a surveillance. Missed and caught
    up after a restoration (R-9.1): the catch-up's latest date, no extension."""
    late = routine_catch_up(session, certificate, programme, number)
    if late is not None:
        return late.due, late.due
    return ordinary_limits(session, certificate, programme, number)


def routine_catch_up(
    session: Session, certificate: Certificate, programme: AuditProgramme, number: int
) -> CatchUp | None:
    """R-9.1/R-8.10.1: surveillance `number` missed its latest date and the certificate was
    restored since: it is caught up (domain/surveillance_restoration.py)."""
    _, hard_limit = ordinary_limits(session, certificate, programme, number)
    activity = activity_of(session, programme, f"surveillance_{number}")
    return catch_up(session, certificate, activity, hard_limit)


def ordinary_limits(
    session: Session, certificate: Certificate, programme: AuditProgramme, number: int
) -> tuple[date, date]:
    """(due date, hard limit) by the 12/15-month and calendar-year rules alone."""
    start = cycle_start(session, certificate, programme)
    if number == 1:
        due = surveillance_1_due(start)
        return due, due
    s1_end = first_surveillance_end(session, certificate, programme)
    hard_limit = surveillance_2_hard_limit(s1_end, start, certificate.expires_on)
    return surveillance_2_due(s1_end), hard_limit


def calendar_year_problem(
    session: Session,
    certificate: Certificate,
    programme: AuditProgramme,
    number: int,
    planned_end: date,
) -> tuple[str, str] | None:
    """R-8.10.1: each calendar year after the certification year, except the recertification
    year, has a surveillance. Surveillance 1 may leave one such year to surveillance 2, not two;
    surveillance 2 covers what surveillance 1 left. A caught-up surveillance (R-9.1) cannot
    give back a year its suspension already lost: it is planned as early as possible."""
    if routine_catch_up(session, certificate, programme, number) is not None:
        return None
    years = years_to_surveil(cycle_start(session, certificate, programme), certificate.expires_on)
    if number == 1:
        left = sorted(years - {planned_end.year})
        if len(left) <= 1:
            return None
    else:
        s1_end = first_surveillance_end(session, certificate, programme)
        left = sorted(years - {s1_end.year, planned_end.year})
        if not left:
            return None
    return (
        "R-8.10.1",
        f"planned end {planned_end} leaves the calendar year(s) {', '.join(map(str, left))} "
        "without a surveillance: every calendar year except the recertification year has one",
    )


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
    """R-8.10.1(2): no random survey in this cycle whose 2 years still run on `reference`."""
    last = last_random_survey(session, certificate, programme)
    return last is None or is_past(last_day_of_months(last, RANDOM_SURVEY_MONTHS), reference)


def timer_at(day: date) -> str:
    return timer_on(day)


def iso_or_none(day: date | None) -> str | None:
    return day.isoformat() if day else None


def limit_problem(
    planned_end: date, due: date, hard_limit: date, extension_reason: str
) -> tuple[str, str] | None:
    """(rule, message) when a planned end breaks R-7.1.3/R-8.10.1, else None. hard_limit == due
    leaves no extension: always for the first surveillance, and for a second one whose due date
    is already the end of the calendar year it must cover."""
    if planned_end > hard_limit and hard_limit == due:
        return (
            "R-8.10.1",
            f"planned end {planned_end} is after {due}, the latest date: no extension is "
            "possible — the first surveillance is within 12 months of certification and is "
            "never extended, and no surveillance leaves a calendar year without one",
        )
    if planned_end > hard_limit:
        return (
            "R-8.10.1",
            f"planned end {planned_end} is after the hard limit {hard_limit}: a surveillance "
            "audit is never more than 15 months after the last one, even with an extension, "
            "and never leaves a calendar year without a surveillance",
        )
    if planned_end > due and not extension_reason:
        return (
            "R-7.1.3",
            f"planned end {planned_end} is after the due date {due} (12 months): an extension "
            "needs a reason (extension_reason) and the audit department's approval",
        )
    return None


def outcome_problem(
    held: int, reassessed: Any, outcome: Any, uncorrected: bool = False
) -> str | None:
    """R-8.10.3: the outcome the reassessed level allows, against the held level; a message
    when `outcome` does not fit, else None. With nonconformities left uncorrected after their
    deadline (`uncorrected`, R-8.7: the audit department proposed suspension) a level that is
    met does not maintain: the certificate is suspended (R-9.5.1b)."""
    if outcome not in OUTCOMES:
        return f"outcome must be one of {OUTCOMES}, got {outcome!r}"
    if uncorrected and reassessed >= held:
        if outcome != "suspend":
            return (
                "nonconformities remain uncorrected after their deadline (R-8.7): suspend "
                "(R-9.5.1b)"
            )
        return None
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


def require_surveillance_audit_of(session: Session, certificate: Certificate, audit: Audit) -> None:
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


def require_no_outcome(audit: Audit) -> None:
    recorded = (audit.conclusion_notes or {}).get("surveillance_outcome")
    if recorded:
        raise RuleViolation(
            "R-8.10.3",
            f"audit {audit.id} already has its outcome ({recorded['outcome']}, by "
            f"{recorded['decided_by']})",
        )


# --- the forms' checks (the validators of the diagrams call them) ---------------------------------
def _date_or_error(data: Mapping[str, Any], field: str, errors: dict) -> date | None:
    try:
        return parse_iso_date(data.get(field))
    except ValueError:
        errors[field] = [f"R-8.10.1: {field} must be an ISO date (YYYY-MM-DD)"]
        return None


def plan_form_problems(session: Session, data: Mapping[str, Any]) -> dict[str, list[str]]:
    """The surveillance plan form against R-7.1.3/R-8.10.1 (422 before the task completes): an
    end after the 12-month due date needs an extension reason; after the 15-month hard limit it
    is refused whatever the reason. surveillance.record_plan enforces the same again."""
    errors: dict[str, list[str]] = {}
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
            session, get_certificate(session, data.get("certificate_id"))
        )
        number = routine_number(data.get("surveillance_number"))
        programme = programme_of(session, certificate)
    except (LookupError, ValueError, RuleViolation) as err:
        return {"planned_end": [str(err)]}
    due, hard_limit = surveillance_limits(session, certificate, programme, number)
    problem = limit_problem(
        end, due, hard_limit, optional_text(data.get("extension_reason"))
    ) or calendar_year_problem(session, certificate, programme, number, end)
    return {"planned_end": [f"{problem[0]}: {problem[1]}"]} if problem else {}


def random_survey_problems(data: Mapping[str, Any]) -> dict[str, list[str]]:
    """R-8.10.1(2): the mystery shopping of a surveillance that needs a random survey (none in
    the last 2 years) includes one. Outside a surveillance (no `surveillance_plan`) it passes."""
    plan = data.get("surveillance_plan")
    if not isinstance(plan, Mapping) or plan.get("random_survey_required") is not True:
        return {}
    if data.get("random_survey_done") is True:
        return {}
    return {
        "random_survey_done": [
            "R-8.10.1: no random survey was done in this cycle in the last 2 years: this "
            "surveillance's mystery shopping includes a random customer survey (R-8.3)"
        ]
    }


def outcome_form_problems(session: Session, data: Mapping[str, Any]) -> dict[str, list[str]]:
    """R-8.10.3: the outcome against the reassessed and the held level — level met → maintain;
    below the held level but ≥ 1 → downgrade or suspend; 0 → withdraw; reasons unless
    maintained. surveillance.record_outcome enforces the same again."""
    level = data.get("reassessed_star_level")
    if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= 5:
        return {"reassessed_star_level": ["R-5: the reassessed star level is 0–5"]}
    try:
        certificate = current_certificate(
            session, get_certificate(session, data.get("certificate_id"))
        )
    except (LookupError, ValueError) as err:
        return {"outcome": [str(err)]}
    errors: dict[str, list[str]] = {}
    audit = (
        session.get(Audit, data.get("audit_id")) if isinstance(data.get("audit_id"), int) else None
    )
    uncorrected = audit is not None and bool(uncorrected_nonconformities(session, audit))
    problem = outcome_problem(certificate.star_level, level, data.get("outcome"), uncorrected)
    if audit is not None and (rescore_problem := rescored_level_problem(audit, level)):
        errors["reassessed_star_level"] = [f"R-8.10.3: {rescore_problem}"]
    if problem:
        errors["outcome"] = [f"R-8.10.3: {problem}"]
    if data.get("outcome") != "maintain" and not optional_text(data.get("reasons")):
        errors["reasons"] = ["R-8.10.3: a downgrade, suspension or withdrawal needs the reasons"]
    return errors


def uncorrected_nonconformities(session: Session, audit: Audit) -> list[str]:
    """R-8.7: the numbers of the audit's nonconformities not (yet) accepted."""
    return list(
        session.scalars(
            select(Nonconformity.number)
            .where(Nonconformity.audit_id == audit.id, Nonconformity.status != "accepted")
            .order_by(Nonconformity.id)
        )
    )
