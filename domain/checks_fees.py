"""Form check of suspension.bpmn's Task_VerifySuspensionCorrection (R-9.5.1e): a suspension
started by an unpaid invoice is lifted only once the invoice is paid — the same rule as
certificate.restore, so accepting the correction earlier is a 422 on `accepted`."""

from certflow.dates import china_date
from domain.certificates import current_certificate, get_certificate
from domain.contract_fees import require_fees_paid
from domain.form_checks import CheckCase, form_check


@form_check("fees.paid_before_restoration")
def paid_before_restoration(case: CheckCase) -> None:
    certificate_id = case.data.get("certificate_id")
    if case.data.get("accepted") is not True or not certificate_id:
        return
    certificate = current_certificate(case.session, get_certificate(case.session, certificate_id))
    require_fees_paid(case.session, certificate, china_date(case.now), field="accepted")
