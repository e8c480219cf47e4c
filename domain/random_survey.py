"""R-8.3: the random customer-satisfaction survey a programme plans for an initial certification
is carried out, during the mystery shopping or the on-site audit. Before the audit report, the
case checks that it was recorded in one of them; when it was not, the team leader records the
survey made during the on-site audit (certification.bpmn, Task_RecordOnsiteSurvey)."""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from certflow.dates import china_date
from domain.acting import Acting, stamp
from domain.audit.common import MYSTERY_SHOPPING_KIND, application_of, get_audit, require_status
from domain.audit.preparation import random_survey
from domain.checks import require_date, require_text
from domain.documents import create_document
from domain.errors import RuleViolation
from domain.letter_templates import render_letter
from domain.models import Audit, AuditProgramme, Document

RECORD_KIND = "random_survey_record"


def survey_status(session: Session, audit_id: Any) -> dict[str, Any]:
    """Whether the programme planned a random survey and where it was done: "mystery_shopping",
    "onsite" or None. `outstanding` is true when planned and not done."""
    audit = get_audit(session, audit_id)
    programme = session.get(AuditProgramme, audit.programme_id)
    planned = bool(programme and programme.random_survey)
    done_in = _done_in(session, audit)
    return {"planned": planned, "done_in": done_in, "outstanding": planned and done_in is None}


def _done_in(session: Session, audit: Audit) -> str | None:
    for record in session.scalars(
        select(Document.data).where(
            Document.audit_id == audit.id, Document.kind.in_((MYSTERY_SHOPPING_KIND, RECORD_KIND))
        )
    ):
        survey = (record or {}).get("random_survey")
        if isinstance(survey, Mapping) and survey.get("done") is True:
            return "mystery_shopping" if record.get("visit_date") else "onsite"
    for day in audit.communications or []:
        survey = day.get("random_survey") if isinstance(day, Mapping) else None
        if isinstance(survey, Mapping) and survey.get("done") is True:
            return "onsite"
    return None


def check_onsite_survey(
    audit: Audit, survey_date: Any, sample_size: Any, satisfied_count: Any, now: Any
) -> dict[str, Any]:
    """R-8.3: the survey was made during the on-site audit (a date within its days, not in the
    future) with a sample of at least 1 and at most that many satisfied."""
    day = require_date(survey_date, "survey_date", "R-8.3")
    first, last = audit.start_date, audit.end_date
    if day > china_date(now) or (first and day < first) or (last and day > last):
        raise RuleViolation(
            "R-8.3",
            f"随机调查日期 {day.isoformat()} 须在现场审查期间 "
            f"({first.isoformat() if first else '?'} – {last.isoformat() if last else '?'}) "
            "and not in the future: the survey is made during the on-site audit",
            field="survey_date",
        )
    survey = random_survey(True, sample_size, satisfied_count)
    return {"survey_date": day.isoformat(), "random_survey": survey}


def record_onsite_survey(
    act: Acting,
    audit_id: Any,
    *,
    survey_date: Any,
    method: Any,
    sample_size: Any,
    satisfied_count: Any,
) -> Document:
    """R-8.3: keep the on-site random survey as a record with the case (who, when)."""
    audit = get_audit(act.session, audit_id)
    require_status(audit, ["in_progress", "completed"], "R-8.3", "record a random survey")
    if not survey_status(act.session, audit.id)["outstanding"]:
        raise RuleViolation(
            "R-8.3", "随机调查未计划或已完成 no random survey is outstanding for this audit"
        )
    record = check_onsite_survey(audit, survey_date, sample_size, satisfied_count, act.now)
    record["method"] = require_text(method, "method", "R-8.3")
    application = application_of(act.session, audit)
    return create_document(
        act.session,
        kind=RECORD_KIND,
        title_facts={"reference": application.number},
        body=render_letter(
            "random_survey_record", application_number=application.number, record=record
        ),
        organisation_id=audit.organisation_id,
        application_id=application.id,
        audit_id=audit.id,
        data={**record, **stamp(act)},
        created_by=act.actor,
        now=act.now,
    )
