"""Form check of unpaid_fees.bpmn's Task_RecordOverdueFee (R-9.5.1e): the same rule as
fees.record_overdue, so a wrong amount or a date not yet passed is a 422 on the field."""

from certflow.dates import china_date
from domain.fees import overdue_payment
from domain.form_checks import CheckCase, form_check


@form_check("fees.overdue_fits")
def overdue_fits(case: CheckCase) -> None:
    overdue_payment(case.data.get("amount"), case.data.get("due_on"), china_date(case.now))
