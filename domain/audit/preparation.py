"""Before the on-site audit: the audit plan (R-7.3), the document review (R-8.1), mystery
shopping with the random survey (R-8.2, R-8.3) and the pre-audit training (R-8.4)."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from domain.acting import Acting, stamp
from domain.audit.common import (
    MYSTERY_SHOPPING_KIND,
    active_sites,
    application_of,
    get_audit,
    require_status,
    team_auditor_ids,
)
from domain.checks import (
    is_true,
    optional_text,
    require_date,
    require_id,
    require_int,
    require_list,
    require_past_date,
    require_text,
)
from domain.documents import create_document
from domain.errors import RuleViolation
from domain.letter_templates import render_letter
from domain.models import Audit, Site
from domain.shifts import check_audit_plan_shifts

# what the document review of a recertification covers at least. The reviewed documents
# (`documents_reviewed`, a list of strings) name each by its key — alone or as "key: title" —
# or by its Chinese name.
RECERTIFICATION_DOCUMENTS: dict[str, tuple[str, str]] = {
    "service_scope": ("服务范围", "service scope"),
    "policy_objectives": ("服务方针和目标", "policy and objectives"),
    "organisation_responsibilities": ("组织机构和职责", "organisation and responsibilities"),
    "documented_procedures": ("要求的形成文件的程序", "required documented procedures"),
}


# --- audit plan ---------------------------------------------------------------------------


def record_plan(
    act: Acting,
    audit_id: int,
    activities: Any,
    shift_coverage: Any = None,
    shifts_not_covered_reason: Any = None,
) -> None:
    """R-7.3: activities with dates, sites, times and the auditor doing each; every active site
    covered, every auditor on the team (not a technical expert, R-7.2.4), within the on-site
    dates. R-7.1.4: every shift of the programme covered, or the reason why not."""
    audit = get_audit(act.session, audit_id)
    require_status(audit, ["planned"], "R-7.3", "record the audit plan")
    rows = check_plan(act.session, audit, activities)
    shifts = check_audit_plan_shifts(act.session, audit, shift_coverage, shifts_not_covered_reason)
    audit.plan = {
        "activities": rows,
        "shifts": shifts,
        "revision": int((audit.plan or {}).get("revision", 0)) + 1,
        **stamp(act),
    }


def check_plan(session: Session, audit: Audit, activities: Any) -> list[dict]:
    """R-7.3: the plan's activities, checked (form check `audit.plan_fits` and record_plan)."""
    if audit.start_date is None or audit.end_date is None:
        raise RuleViolation("R-7.3", "the audit has no on-site dates: appoint the team first")
    rows = [
        _plan_activity(session, audit, index, raw)
        for index, raw in enumerate(require_list(activities, "activities", "R-7.3"))
    ]
    _require_sites_covered(session, audit, rows)
    return rows


def _plan_activity(session: Session, audit: Audit, index: int, raw: Any) -> dict:
    where = f"activities[{index}]"
    if not isinstance(raw, Mapping):
        raise RuleViolation("R-7.3", f"{where} must be an object", field=f"activities/{index}")
    day = require_date(raw.get("date"), f"activities/{index}/date", "R-7.3")
    if not audit.start_date <= day <= audit.end_date:
        raise RuleViolation(
            "R-7.3",
            f"{where}: {day} is outside the on-site dates {audit.start_date}–{audit.end_date}",
            field=f"activities/{index}/date",
        )
    site = _site_of(session, audit, raw.get("site"), where)
    auditor_id = require_id(raw.get("auditor_id"), f"{where}.auditor_id")
    if auditor_id not in team_auditor_ids(audit, include_experts=False):
        raise RuleViolation(
            "R-7.3",
            f"{where}: auditor {auditor_id} is not an auditor of this audit's team "
            "(technical experts never audit, R-7.2.4)",
            field=f"activities/{index}/auditor_id",
        )
    start = require_text(raw.get("start"), f"{where}.start", "R-7.3")
    try:
        datetime.strptime(start, "%H:%M")
    except ValueError as err:
        raise RuleViolation("R-7.3", f"{where}.start must be HH:MM, got {start!r}") from err
    duration = raw.get("duration_hours")
    if isinstance(duration, bool) or not isinstance(duration, int | float) or duration <= 0:
        raise RuleViolation("R-7.3", f"{where}.duration_hours must be a positive number")
    return {
        "date": day.isoformat(),
        "site": site.id,
        "site_name": site.name,
        "activity": require_text(raw.get("activity"), f"{where}.activity", "R-7.3"),
        "auditor_id": auditor_id,
        "start": start,
        "duration_hours": duration,
    }


def _site_of(session: Session, audit: Audit, value: Any, where: str) -> Site:
    site = session.get(Site, require_id(value, f"{where}.site"))
    if site is None or site.organisation_id != audit.organisation_id:
        raise RuleViolation(
            "R-7.3",
            f"{where}: site {value!r} is not a site of the client",
            field=where.replace("[", "/").replace("]", "") + "/site",
        )
    return site


def _require_sites_covered(session: Session, audit: Audit, activities: list[dict]) -> None:
    covered = {activity["site"] for activity in activities}
    missing = [
        site for site in active_sites(session, audit.organisation_id) if site.id not in covered
    ]
    if missing:
        names = ", ".join(f"{site.name} (#{site.id})" for site in missing)
        raise RuleViolation(
            "R-7.3", f"the plan does not cover the active sites: {names}", field="activities"
        )


# --- document review ------------------------------------------------------------------


def record_document_review(
    act: Acting, audit_id: int, documents_reviewed: Any, adequate: Any, findings: Any
) -> bool:
    """R-8.1: the client's service management documents reviewed before the on-site audit;
    inadequate documents need findings (what the client has to revise). Returns `adequate`."""
    audit = get_audit(act.session, audit_id)
    require_status(audit, ["planned"], "R-8.1", "record the document review")
    documents = check_documents_reviewed(act.session, audit, documents_reviewed)
    adequate = is_true(adequate)
    findings = optional_text(findings)
    if not adequate and not findings:
        raise RuleViolation("R-8.1", "documents found inadequate need findings (what to revise)")
    history = list((audit.document_review or {}).get("history", []))
    entry = {
        "documents_reviewed": documents,
        "adequate": adequate,
        "findings": findings,
        **stamp(act, "reviewed_by", "reviewed_at"),
    }
    audit.document_review = {**entry, "round": len(history) + 1, "history": [*history, entry]}
    return adequate


def check_documents_reviewed(session: Session, audit: Audit, documents_reviewed: Any) -> list:
    """R-8.1: the reviewed documents; a recertification's cover the minimum (form check
    `audit.document_review_covers` and record_document_review)."""
    documents = require_list(documents_reviewed, "documents_reviewed", "R-8.1")
    if application_of(session, audit).kind == "recertification":
        _require_recertification_minimum(documents)
    return documents


def _covers(entry: Any, key: str) -> bool:
    if not isinstance(entry, str):
        return False
    text = entry.strip()
    zh = RECERTIFICATION_DOCUMENTS[key][0]
    return text == key or text.startswith((f"{key}:", f"{key} ", f"{key}：", zh))


def _require_recertification_minimum(documents: list[Any]) -> None:
    """R-8.1: a recertification's document review covers at least the service scope, the
    policy and objectives, the organisation and responsibilities and the required documented
    procedures."""
    missing = [
        key
        for key in RECERTIFICATION_DOCUMENTS
        if not any(_covers(entry, key) for entry in documents)
    ]
    if missing:
        wanted = "; ".join(
            f"{key} ({zh} {en})" for key, (zh, en) in RECERTIFICATION_DOCUMENTS.items()
        )
        raise RuleViolation(
            "R-8.1",
            f"a recertification's document review must cover {', '.join(missing)}; list each of "
            f"these in documents_reviewed by its key (alone or as 'key: title') or its Chinese "
            f"name: {wanted}",
            field="documents_reviewed",
        )


# --- mystery shopping -------------------------------------------------------------


def record_mystery_shopping(
    act: Acting,
    audit_id: int,
    *,
    visit_date: Any,
    shopper: Any,
    service_experienced: Any,
    observations: Any,
    random_survey_done: Any,
    survey_sample_size: Any,
    satisfied_count: Any,
) -> None:
    """R-8.2/R-8.3: the unannounced visit (who, when, what service, observations) and the
    optional random satisfaction survey, kept as a record Document with the case."""
    audit = get_audit(act.session, audit_id)
    require_status(audit, ["planned", "in_progress"], "R-8.2", "record mystery shopping")
    day = check_visit_date(visit_date, act.now)
    record = {
        "visit_date": day.isoformat(),
        "shopper": require_text(shopper, "shopper", "R-8.2"),
        "service_experienced": require_text(service_experienced, "service_experienced", "R-8.2"),
        "observations": require_text(observations, "observations", "R-8.2"),
        "random_survey": random_survey(random_survey_done, survey_sample_size, satisfied_count),
    }
    application = application_of(act.session, audit)
    create_document(
        act.session,
        kind=MYSTERY_SHOPPING_KIND,
        title_facts={"reference": application.number},
        body=render_letter(
            "mystery_shopping_record", application_number=application.number, record=record
        ),
        organisation_id=audit.organisation_id,
        application_id=application.id,
        audit_id=audit.id,
        data={**record, **stamp(act)},
        created_by=act.actor,
        now=act.now,
    )


def check_visit_date(visit_date: Any, now: datetime):
    """R-8.2: the visit has happened (not in the future)."""
    return require_past_date(visit_date, "visit_date", "R-8.2", now)


def random_survey(done: Any, sample_size: Any, satisfied_count: Any) -> dict:
    """R-8.3: a survey needs a sample (≥ 1) and a satisfied count within it."""
    if not is_true(done):
        return {"done": False, "sample_size": None, "satisfied_count": None}
    size = require_int(sample_size, "survey_sample_size", "R-8.3", minimum=1)
    satisfied = require_int(satisfied_count, "satisfied_count", "R-8.3", minimum=0)
    if satisfied > size:
        raise RuleViolation(
            "R-8.3",
            f"satisfied_count ({satisfied}) exceeds the sample ({size})",
            field="satisfied_count",
        )
    return {"done": True, "sample_size": size, "satisfied_count": satisfied}


# --- pre-audit training -----------------------------------------------------------------


def record_training(
    act: Acting,
    audit_id: int,
    *,
    training_date: Any,
    trainer: Any,
    attendees: Any,
    laws_standards_confirmed: Any,
    culture_and_requirements_trained: Any,
    content: Any,
) -> None:
    """R-8.4: pre-audit training attended by the whole team, before the on-site audit; laws and
    standards confirmed applicable, the CB's culture and audit requirements trained."""
    audit = get_audit(act.session, audit_id)
    require_status(audit, ["planned"], "R-8.4", "record the pre-audit training")
    day = check_training_date(audit, training_date, act.now)
    present = check_training_attendees(audit, attendees)
    if not is_true(laws_standards_confirmed):
        raise RuleViolation("R-8.4", "the applicability of laws and standards must be confirmed")
    if not is_true(culture_and_requirements_trained):
        raise RuleViolation(
            "R-8.4", "the team leader must train the CB's culture and audit requirements"
        )
    audit.training = {
        "training_date": day.isoformat(),
        "trainer": require_text(trainer, "trainer", "R-8.4"),
        "attendees": sorted(present),
        "laws_standards_confirmed": True,
        "culture_and_requirements_trained": True,
        "content": require_text(content, "content", "R-8.4"),
        **stamp(act),
    }


def check_training_date(audit: Audit, training_date: Any, now: datetime):
    """R-8.4: the training has happened and comes before the on-site audit (form check
    `audit.training_fits` and record_training)."""
    day = require_past_date(training_date, "training_date", "R-8.4", now)
    if audit.start_date and day > audit.start_date:
        raise RuleViolation(
            "R-8.4",
            f"培训日期 {day} 晚于现场审查开始日 {audit.start_date} "
            f"training on {day} is after the on-site start {audit.start_date}",
            field="training_date",
        )
    return day


def check_training_attendees(audit: Audit, attendees: Any) -> set[int]:
    """R-8.4: the whole audit team attended."""
    present = {
        require_id(value, "attendees") for value in require_list(attendees, "attendees", "R-8.4")
    }
    absent = sorted(team_auditor_ids(audit) - present)
    if absent:
        raise RuleViolation(
            "R-8.4", f"team members did not attend: auditor ids {absent}", field="attendees"
        )
    return present
