"""The certification contract (R-6.2.2a): the legally binding written contract signed after
acceptance, with both signatures and their dates."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from certflow.dates import china_date
from domain.acting import Acting
from domain.errors import RuleViolation
from domain.models import Application, Contract
from domain.values import decimal_number, iso_date, load, required_text

RULE = "R-6.2.2a"


def record_contract(
    act: Acting,
    application_id: int,
    *,
    contract_number: Any,
    client_signatory: Any,
    client_signed_on: Any,
    cb_signatory: Any,
    cb_signed_on: Any,
    fee: Any,
) -> Contract:
    """Record the signed contract; the application becomes `contracted`."""
    application = load(act.session, Application, application_id)
    if application.status != "accepted":
        raise RuleViolation(
            RULE,
            f"申请 {application.number} 状态为 {application.status}，只有已受理的申请才能签订合同 "
            "only an accepted application gets a contract",
        )
    number = required_text(contract_number, "contract_number", RULE, "合同编号 contract number", 40)
    client_signatory = required_text(
        client_signatory, "client_signatory", RULE, "客户签字人 client signatory", 100
    )
    client_signed_on = iso_date(
        client_signed_on, "client_signed_on", RULE, "客户签字日期 client date"
    )
    cb_signatory = required_text(
        cb_signatory, "cb_signatory", RULE, "认证机构签字人 CB signatory", 100
    )
    cb_signed_on = iso_date(cb_signed_on, "cb_signed_on", RULE, "认证机构签字日期 CB date")
    fee = decimal_number(fee, "fee", RULE, "认证费用 fee", optional=True, places=2, digits=12)

    check_signature_dates(client_signed_on, cb_signed_on, act.now)
    if fee is not None and fee < 0:
        raise RuleViolation(RULE, f"认证费用不能为负 the fee cannot be negative: {fee}")
    check_contract_number_free(act.session, number)
    if act.session.scalars(
        select(Contract.id).where(Contract.application_id == application.id)
    ).first():
        raise RuleViolation(RULE, f"申请 {application.number} 已有合同 already has a contract")

    contract = Contract(
        application_id=application.id,
        number=number,
        client_signatory=client_signatory,
        client_signed_on=client_signed_on,
        cb_signatory=cb_signatory,
        cb_signed_on=cb_signed_on,
        fee=fee,
        recorded_by=act.actor,
        recorded_at=act.now,
    )
    act.session.add(contract)
    application.status = "contracted"
    act.session.flush()
    return contract


def check_signature_dates(client_signed_on: Any, cb_signed_on: Any, now: datetime) -> None:
    """R-6.2.2a: neither party signed in the future (form check `contract.fits` and
    record_contract)."""
    today = china_date(now)
    for field, label, value in (
        ("client_signed_on", "客户 client", client_signed_on),
        ("cb_signed_on", "认证机构 CB", cb_signed_on),
    ):
        signed_on = (
            value
            if isinstance(value, date)
            else iso_date(value, field, RULE, f"{label} 签字日期 signature date")
        )
        if signed_on > today:
            raise RuleViolation(
                RULE,
                f"{label} 签字日期 {signed_on.isoformat()} 晚于今天 {today.isoformat()}: "
                "a signature date cannot be in the future",
                field=field,
            )


def check_contract_number_free(session: Session, number: Any) -> None:
    """R-6.2.2a: a contract number is recorded once."""
    if session.scalars(select(Contract.id).where(Contract.number == number)).first():
        raise RuleViolation(
            RULE,
            f"合同编号 {number} 已存在 contract number already recorded",
            field="contract_number",
        )
