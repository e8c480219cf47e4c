"""Form check of mark_plaque.bpmn's Task_IssuePlaque (R-10.1 f): the same rule as plaque.record,
so a used plaque number or a date before the certificate is a 422 on the field."""

from domain.form_checks import CheckCase, form_check
from domain.mark_plaque import check_plaque


@form_check("plaque.issue_fits")
def issue_fits(case: CheckCase) -> None:
    # The certificate the task is for: Task_DescribePlaque's result (plaque_certificate).
    certificate = case.data.get("plaque_certificate") or {}
    check_plaque(
        case.session,
        certificate.get("certificate_id"),
        plaque_number=case.data.get("plaque_number"),
        issued_on=case.data.get("issued_on"),
        recipient=case.data.get("recipient"),
    )
