"""Form checks of the application, contract, programme and survey forms (R-11, R-13,
R-6.2.2a, R-7.1.2, R-7.1.4, R-8.1, R-8.3): the rule functions that application.register,
record_declarations, contract.record, programme.create and record_onsite_survey call
(domain/*.py), on the submitted answers and the case."""

from sqlalchemy import select

from domain.application import check_client_may_apply
from domain.contract import check_contract_number_free, check_signature_dates
from domain.declarations import check_attestation
from domain.form_checks import CheckCase, form_check
from domain.models import Application, Audit, Organisation
from domain.programme import check_programme_dates, check_shift_work_explained
from domain.random_survey import check_onsite_survey
from domain.shifts import check_programme_shifts


@form_check("application.client_may_apply")
def client_may_apply(case: CheckCase) -> None:
    """R-11: a client applies only for its own organisation (by its credit code)."""
    uscc = case.data.get("uscc")
    organisation = case.session.scalars(
        select(Organisation).where(Organisation.uscc == uscc)
    ).first()
    check_client_may_apply(case.session, case.actor, organisation)


@form_check("contract.fits")
def contract_fits(case: CheckCase) -> None:
    """R-6.2.2a: no signature in the future; a contract number not recorded before."""
    check_signature_dates(
        case.data.get("client_signed_on"), case.data.get("cb_signed_on"), case.now
    )
    number = case.data.get("contract_number")
    check_contract_number_free(case.session, number.strip() if isinstance(number, str) else number)


@form_check("programme.dates_fit")
def dates_fit(case: CheckCase) -> None:
    """R-8.1: the document review before the initial audit; R-7.1.2: end not before start."""
    check_programme_dates(
        case.data.get("document_review_date"),
        case.data.get("initial_audit_start"),
        case.data.get("initial_audit_end"),
    )


@form_check("programme.shift_work_explained")
def shift_work_explained(case: CheckCase) -> None:
    """R-7.1.4: a client working in shifts needs the shift-work notes."""
    application_id = case.data.get("application_id")
    application = (
        case.session.get(Application, application_id) if isinstance(application_id, int) else None
    )
    if application is not None:
        check_shift_work_explained(application, case.data.get("shift_work_notes"))
        check_programme_shifts(application.shift_work, case.data.get("shifts"))


@form_check("application.attestation_fits")
def attestation_fits(case: CheckCase) -> None:
    """R-13: the attestation is given and dated within the last 30 days, not in the future; on
    the supplement form only when the client resubmits (R-6.2.2b)."""
    if case.data.get("resubmit") is False:
        return
    check_attestation(
        case.data.get("truth_attestation"), case.data.get("attestation_signed_on"), case.now
    )


@form_check("audit.onsite_survey_fits")
def onsite_survey_fits(case: CheckCase) -> None:
    """R-8.3: the survey was made during the on-site audit, with a sample and a satisfied count
    within it (record_onsite_survey checks the same)."""
    audit_id = case.data.get("audit_id")
    audit = case.session.get(Audit, audit_id) if isinstance(audit_id, int) else None
    if audit is not None:
        check_onsite_survey(
            audit,
            case.data.get("survey_date"),
            case.data.get("survey_sample_size"),
            case.data.get("satisfied_count"),
            case.now,
        )
