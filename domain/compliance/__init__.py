"""Compliance measured from what actually happened (issue 13; ISO/IEC 17065 8.5, 8.6).

For each rule with a measurable obligation, an indicator counts the cases that kept it and
those that broke it, from the domain's tables (certificates and their events, programme
activities and audits, nonconformities, complaints, decisions, the auditor register). Pure
queries: no Flask, no engine. A case is counted once its outcome is known: done (in time or
late), or not done with its last day passed; not done and still in time is not counted.

`measure(session, period, today)` answers every indicator; `measure_one` one of them.
"""

from collections.abc import Callable
from datetime import date

from sqlalchemy.orm import Session

from domain.compliance import audit_rules, certificate_rules, complaint_rules, surveillance
from domain.compliance.model import Case, Definition, Period, Result

__all__ = ["INDICATORS", "Case", "Definition", "Period", "Result", "measure", "measure_one"]

Query = Callable[[Session, date], list[Case]]

# The indicators in the order the dashboard and the report show them; None: the rules set no
# such obligation (shown as "not set by the rules").
INDICATORS: dict[str, tuple[Definition, Query | None]] = {
    d.key: (d, q)
    for d, q in (
        (surveillance.DEFINITION, surveillance.cases),
        (certificate_rules.SUSPENSION, certificate_rules.suspension_cases),
        (complaint_rules.DEFINITION, complaint_rules.cases),
        (audit_rules.NONCONFORMITY, audit_rules.nonconformity_cases),
        (certificate_rules.RECERTIFICATION, certificate_rules.recertification_cases),
        (audit_rules.DECISION, audit_rules.decision_cases),
        (audit_rules.REGISTRATION, audit_rules.registration_cases),
        (audit_rules.ROTATION, None),
        (certificate_rules.PUBLICATION, certificate_rules.publication_cases),
    )
}


def measure_one(
    session: Session,
    key: str,
    period: Period,
    today: date,
    *,
    organisation_id: int | None = None,
) -> Result:
    """One indicator over the cases whose reference day is in `period` (and of one
    organisation, when given). KeyError for an unknown indicator."""
    definition, query = INDICATORS[key]
    if query is None:
        return Result(definition, measurable=False)
    cases = [
        case
        for case in query(session, today)
        if case.reference_day in period
        and (organisation_id is None or case.organisation_id == organisation_id)
    ]
    return Result(definition, cases)


def measure(
    session: Session,
    period: Period,
    today: date,
    *,
    organisation_id: int | None = None,
    process: str | None = None,
) -> list[Result]:
    """Every indicator (of `process`, when given), in the dashboard's order."""
    return [
        measure_one(session, key, period, today, organisation_id=organisation_id)
        for key, (definition, _) in INDICATORS.items()
        if process is None or definition.process == process
    ]
