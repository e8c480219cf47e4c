"""Form checks of the team appointment (R-7.2.1): what team.appoint refuses of the team as a
whole — field competence of every team, an audit language no auditing member speaks without
the written considerations — checked at submit with the same functions (domain.team)."""

from collections.abc import Mapping

from domain.errors import RuleViolation
from domain.form_checks import CheckCase, form_check
from domain.models import Auditor
from domain.team import Nominee, composition_refusals


def _nominees(case: CheckCase) -> list[Nominee]:
    members = case.data.get("members")
    nominees = []
    for member in members if isinstance(members, list) else []:
        auditor_id = member.get("auditor_id") if isinstance(member, Mapping) else None
        if isinstance(auditor_id, bool) or not isinstance(auditor_id, int):
            continue  # the form's schema answers for the shape
        auditor = case.session.get(Auditor, auditor_id) if 0 < auditor_id < 2**31 else None
        nominees.append(Nominee(auditor_id, str(member.get("role")), auditor))
    return nominees


@form_check("team.composition_fits")
def composition_fits(case: CheckCase) -> None:
    """R-7.2.1(2)/(4): refused on `members` (no field competence) or `considerations` (an
    audit language not covered and no justification written)."""
    languages = case.data.get("audit_languages")
    if languages is not None and not isinstance(languages, list):
        return  # the schema refuses it
    refusals = composition_refusals(_nominees(case), languages, case.data.get("considerations"))
    for refusal in refusals:
        words = refusal["zh_CN"].split("：", 1)[-1]  # the rule is cited by RuleViolation
        raise RuleViolation(refusal["rule"], words, field=refusal["field"], said=refusal)
