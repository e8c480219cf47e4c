"""Form checks of the audit's forms (R-7.3, R-8.1–R-8.5): each calls the rule function the
service task's domain code calls (domain/audit/*), on the submitted answers and the case's audit.

A case without a (known) audit is not the form's fault: the check passes and the service task
reports it as before."""

from typing import Any

from domain.audit.common import audit_indicator_set, get_audit
from domain.audit.evidence import check_escalation, check_evidence_day, check_findings
from domain.audit.onsite import check_closing_meeting_date, check_opening_meeting_date
from domain.audit.preparation import (
    check_documents_reviewed,
    check_plan,
    check_training_attendees,
    check_training_date,
    check_visit_date,
    random_survey,
)
from domain.audit.report import check_receipt_date
from domain.form_checks import CheckCase, form_check
from domain.models import Audit
from domain.shifts import check_audit_plan_shifts


def _audit(case: CheckCase) -> Audit | None:
    try:
        return get_audit(case.session, case.data.get("audit_id"))
    except (LookupError, ValueError):
        return None


@form_check("audit.plan_fits")
def plan_fits(case: CheckCase) -> None:
    """R-7.3: activities within the on-site dates, at the client's sites, by team auditors,
    every active site covered."""
    if (audit := _audit(case)) is not None:
        check_plan(case.session, audit, case.data.get("activities"))
        check_audit_plan_shifts(
            case.session,
            audit,
            case.data.get("shift_coverage"),
            case.data.get("shifts_not_covered_reason"),
        )


@form_check("audit.document_review_covers")
def document_review_covers(case: CheckCase) -> None:
    """R-8.1: a recertification's review covers the four required documents."""
    if (audit := _audit(case)) is not None:
        check_documents_reviewed(case.session, audit, case.data.get("documents_reviewed"))


@form_check("audit.mystery_shopping_fits")
def mystery_shopping_fits(case: CheckCase) -> None:
    """R-8.2: the visit is not in the future; R-8.3: satisfied within the sample."""
    data: Any = case.data
    check_visit_date(data.get("visit_date"), case.now)
    random_survey(
        data.get("random_survey_done"), data.get("survey_sample_size"), data.get("satisfied_count")
    )


@form_check("audit.training_fits")
def training_fits(case: CheckCase) -> None:
    """R-8.4: not in the future, not after the on-site start, the whole team attended."""
    if (audit := _audit(case)) is not None:
        check_training_date(audit, case.data.get("training_date"), case.now)
        check_training_attendees(audit, case.data.get("attendees"))


@form_check("audit.opening_meeting_fits")
def opening_meeting_fits(case: CheckCase) -> None:
    """R-8.5.1: not in the future, within the on-site dates."""
    if (audit := _audit(case)) is not None:
        check_opening_meeting_date(audit, case.data.get("meeting_date"), case.now)


@form_check("audit.closing_meeting_not_future")
def closing_meeting_not_future(case: CheckCase) -> None:
    """R-8.5.7: the closing meeting has happened."""
    check_closing_meeting_date(case.data.get("meeting_date"), case.now)


@form_check("audit.evidence_fits")
def evidence_fits(case: CheckCase) -> None:
    """R-8.5.2: the audit day has happened, not before the on-site start; R-8.5.4/R-3: each
    finding against the audit's indicator set; R-8.5.3/R-8.5.6: the escalation."""
    if (audit := _audit(case)) is None:
        return
    data = case.data
    check_evidence_day(audit, data.get("audit_day"), case.now)
    check_findings(
        audit_indicator_set(case.session, audit, pin=False),
        data.get("findings"),
        data.get("special_deductions"),
        data.get("special_bonus"),
    )
    check_escalation(
        data.get("escalation"), data.get("escalation_details"), data.get("terminate_reason")
    )


@form_check("audit.report_receipt_fits")
def report_receipt_fits(case: CheckCase) -> None:
    """R-8.6: received not in the future and not before the report was issued."""
    if (audit := _audit(case)) is not None:
        check_receipt_date(case.session, audit, case.data.get("received_on"), case.now)
