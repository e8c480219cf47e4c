"""Form checks of the nonconformity forms (R-8.7): the rule functions nc.record_answers and
nc.record_verification call (domain/nonconformity.py), on the submitted answers and the audit's
nonconformities."""

from certflow.dates import china_date
from domain.audit.common import get_audit
from domain.form_checks import CheckCase, form_check
from domain.nc_natures import check_escalation
from domain.nonconformity import (
    AWAITING_ANSWER,
    check_answers,
    check_verdicts,
    nonconformities_of,
)


def _ncs(case: CheckCase, statuses):
    try:
        audit = get_audit(case.session, case.data.get("audit_id"))
    except (LookupError, ValueError):
        return None
    return {nc.id: nc for nc in nonconformities_of(case.session, audit, statuses)}


@form_check("nc.answers_fit")
def answers_fit(case: CheckCase) -> None:
    """R-8.7: one complete answer for each nonconformity awaiting one."""
    if (awaiting := _ncs(case, AWAITING_ANSWER)) is not None:
        check_answers(awaiting, case.data.get("answers"))


@form_check("nc.verdicts_fit")
def verdicts_fit(case: CheckCase) -> None:
    """R-8.7: one verdict for each answered nonconformity, with its note or on-site record."""
    if (answered := _ncs(case, ["answered"])) is not None:
        check_verdicts(answered, case.data.get("verdicts"))


@form_check("nc.escalation_fits")
def escalation_fits(case: CheckCase) -> None:
    """R-8.7: an extension names a new deadline after the passed one and not before today."""
    if (awaiting := _ncs(case, AWAITING_ANSWER)) is not None:
        today = china_date(case.now)
        overdue = [nc for nc in awaiting.values() if nc.deadline and nc.deadline < today]
        data = case.data
        check_escalation(
            overdue, data.get("action"), data.get("new_deadline"), data.get("note"), today
        )
