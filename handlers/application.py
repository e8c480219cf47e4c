"""Handlers: application (see docs/initial-certification.md).

`application.register` (R-6.1), `application.record_review` (R-6.2.1, R-6.2.2),
`application.close_terminated` (R-8.5.6) and `notices.not_accepted` (R-6.2.2b): thin adapters
over `domain/application.py` and `domain/acceptance.py`. A parameter the BPMN does not pass is a
modelling error (`handlers.params.MissingParameter`); a value that breaks a rule of the scheme is a
`RuleViolation` naming the rule, raised by the domain.
"""

from typing import Any

from pydantic import Field

from domain import acceptance
from domain.acceptance import CONFIRMATIONS
from domain.application import (
    ApplicationForm,
)
from domain.application import (
    register_application as register,
)
from handlers.params import (
    Id,
    OptionalText,
    Params,
    RuleFlag,
    RuleInt,
    RuleList,
    RuleNumber,
    RuleText,
)
from handlers.registry import HandlerContext, handler


class RegisterParams(Params):
    org_name: RuleText = Field(description="R-6.1 申请组织名称 Organisation name (≤ 300)")
    uscc: RuleText = Field(description="R-6.1 统一社会信用代码 Unified social credit code")
    address: RuleText = Field(description="R-6.1 地址 Address (≤ 500)")
    contact_name: RuleText = Field(description="R-6.1 联系人 Contact (≤ 100)")
    contact_phone: OptionalText = Field(description="R-6.1 联系电话 Phone (≤ 50)")
    contact_email: OptionalText = Field(description="R-6.1 电子邮箱 E-mail (≤ 200)")
    requested_level: RuleInt = Field(description="R-5 申请星级 Star level applied for, 1–5")
    scope: RuleText = Field(description="R-6.1 认证范围 Certification scope")
    sites: RuleList = Field(description="R-6.1 服务场所 Sites: [{name, address, is_fixed}], ≥ 1")
    shift_work: RuleFlag = Field(description="R-7.1.4 倒班 Shift work")
    headcount: RuleInt = Field(description="R-6.1 员工人数 Headcount, ≥ 1")
    legal_status_file: RuleInt = Field(description="R-6.1 (1) 法律地位证明 File id")
    service_documents_files: RuleList = Field(description="R-6.1 (2) 服务文件 File ids")
    service_flowchart_file: RuleInt = Field(description="R-6.1 (3) 服务流程图 File id")
    other_certificate_files: RuleList = Field(description="R-6.1 (4) 其他认证证书 File ids")


@handler("application.register", params=RegisterParams)
def register_application(params: RegisterParams, ctx: HandlerContext) -> dict[str, Any]:
    """Record a formal application (R-6.1): organisation, sites, application and materials."""
    instance_id = ctx.instance_id if ctx.instance_id > 0 else None
    result = register(ctx, ApplicationForm(**params.model_dump()), instance_id)
    ctx.set_business_key(result["number"])
    return result


class ApplicationParams(Params):
    application_id: Id = Field(description="申请 The application (id)")


class ReviewParams(ApplicationParams):
    information_sufficient: RuleFlag = Field(description=CONFIRMATIONS[0][1])
    differences_resolved: RuleFlag = Field(description=CONFIRMATIONS[1][1])
    scope_determined: RuleFlag = Field(description=CONFIRMATIONS[2][1])
    cb_able: RuleFlag = Field(description=CONFIRMATIONS[3][1])
    man_days: RuleNumber = Field(description="R-6.2.1 (5) 审查人日 Man-days (≥ 0.5 to accept)")
    man_days_basis: OptionalText = Field(description="R-6.2.1 人日依据 Basis of the man-days")
    scope: OptionalText = Field(description="R-6.2.1 确定的认证范围 Scope as determined")
    accepted: RuleFlag = Field(description="R-6.2.2 受理 Accepted")
    not_accepted_reason: OptionalText = Field(
        description="R-6.2.2b 不受理原因 Reason (needed when not accepted)"
    )


@handler("application.record_review", params=ReviewParams)
def record_acceptance_review(params: ReviewParams, ctx: HandlerContext) -> dict[str, Any]:
    """Record the acceptance review and its conclusion, by whom and when (R-6.2, R-13)."""
    accepted = acceptance.record_review(
        ctx,
        params.application_id,
        confirmations={name: getattr(params, name) for name, _ in CONFIRMATIONS},
        accepted=params.accepted,
        man_days=params.man_days,
        man_days_basis=params.man_days_basis,
        scope=params.scope,
        not_accepted_reason=params.not_accepted_reason,
    )
    return {"accepted": accepted}


@handler("application.close_terminated", params=ApplicationParams)
def close_terminated_application(params: ApplicationParams, ctx: HandlerContext) -> dict:
    """Close the application after its audit was terminated with the CB's approval."""
    acceptance.close_terminated(ctx, params.application_id)
    return {}


@handler("notices.not_accepted", params=ApplicationParams)
def notify_not_accepted(params: ApplicationParams, ctx: HandlerContext) -> dict[str, Any]:
    """The written notice that the application is not accepted, with the reason (R-6.2.2b)."""
    return {"document_id": acceptance.issue_not_accepted_notice(ctx, params.application_id).id}
