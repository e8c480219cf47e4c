"""Form check of the definition review (issue 12): the review form is refused (422) when the
return to the author would fail — the same rule `studio.return_draft` enforces."""

from domain.form_checks import CheckCase, form_check
from domain.studio import check_decision


@form_check("studio.decision_fits")
def decision_fits(case: CheckCase) -> None:
    check_decision(case.data.get("approved"), case.data.get("comments"))
