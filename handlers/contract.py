"""Handlers: contract (see docs/initial-certification.md).

`contract.record` (R-6.2.2a): the legally binding written contract signed after acceptance, with
both signatures and their dates — the rules in `domain/contract.py`.
"""

from typing import Any

from pydantic import Field

from domain.contract import record_contract as record
from handlers.application import ApplicationParams
from handlers.params import RuleDate, RuleNumber, RuleText
from handlers.registry import HandlerContext, handler


class ContractParams(ApplicationParams):
    contract_number: RuleText = Field(description="R-6.2.2a 合同编号 Contract number (≤ 40)")
    client_signatory: RuleText = Field(description="R-6.2.2a 客户签字人 Client signatory")
    client_signed_on: RuleDate = Field(description="R-6.2.2a 客户签字日期 ISO date, not future")
    cb_signatory: RuleText = Field(description="R-6.2.2a 认证机构签字人 CB signatory")
    cb_signed_on: RuleDate = Field(description="R-6.2.2a 认证机构签字日期 ISO date, not future")
    fee: RuleNumber = Field(description="R-6.2.2a 认证费用 Fee (optional, ≥ 0, 2 decimals)")


@handler("contract.record", params=ContractParams)
def record_contract(params: ContractParams, ctx: HandlerContext) -> dict[str, Any]:
    """Record the signed contract; the application becomes `contracted`."""
    contract = record(ctx, **params.model_dump())
    return {"id": contract.id, "number": contract.number}
