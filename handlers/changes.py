"""Handlers: certificate changes (R-9.3) and scope changes (R-9.4.1, R-9.4.2) — thin adapters of
certificate_change.bpmn's service tasks and validators over `domain/changes.py` (the request
rules) and `domain/change_steps.py` (the steps, the reissue and their letters)
(docs/complaints-and-changes.md).
"""

from pydantic import Field

from domain import change_steps, site_extension
from domain.changes import KINDS, current_of, request_problems, site_audit_problems
from handlers.params import (
    Id,
    OptionalText,
    Params,
    RuleFlag,
    RuleInt,
    RuleObject,
    RuleText,
    rule_choice,
)
from handlers.registry import GuardContext, HandlerContext, handler, validator

CERTIFICATE = "the certificate to change (the first of its cycle or a reissue: the current one)"
CHANGE = "the change request (result of changes.register)"


class CertificateParams(Params):
    certificate_id: Id = Field(description=CERTIFICATE)


@handler("changes.describe_certificate", params=CertificateParams)
def describe_certificate(params: CertificateParams, ctx: HandlerContext) -> dict:
    """The certificate the client holds now, for the request form; R-11: only for a client of
    its organisation (or staff). Names the instance after the certificate."""
    facts = change_steps.describe_certificate(
        ctx.session,
        certificate_id=params.certificate_id,
        actor=ctx.actor,
        business_key=ctx.business_key,
    )
    ctx.set_business_key(facts["number"])
    return facts


class RegisterParams(Params):
    certificate_id: Id = Field(description=CERTIFICATE)
    kind: rule_choice(*KINDS) = Field(  # type: ignore[valid-type]
        description="name, address, scope_text, downgrade, add_site or remove_site"
    )
    new_value: OptionalText = Field(None, description="the new text (name, address, scope_text)")
    new_star_level: RuleInt = Field(
        None,
        description="the lower level asked for (downgrade), 1–5",
        json_schema_extra={"minimum": 1, "maximum": 5},
    )
    site: RuleObject = Field(
        None, description="the new site {name, address, is_fixed} (add_site, R-9.4.1)"
    )
    site_id: RuleInt = Field(None, description="the certified site to drop (remove_site, R-9.4.2)")
    reason: RuleText = Field(description="why the client asks for the change")
    request_letter_file: RuleInt = Field(
        None, description="the uploaded written request (required for remove_site, R-9.4.2)"
    )


@handler("changes.register", params=RegisterParams)
def register(params: RegisterParams, ctx: HandlerContext) -> dict:
    """R-9.3, R-9.4: register the client's request (BG-YYYY-NNNN) after checking it; a new site
    needs an on-site audit (R-9.4.1)."""
    result = change_steps.register(
        ctx.session,
        request=params.model_dump(),
        actor=ctx.actor,
        business_key=ctx.business_key,
        now=ctx.now,
    )
    ctx.set_business_key(result["certificate_number"])
    return result


class EvaluateParams(Params):
    change_id: Id = Field(description=CHANGE)
    approved: RuleFlag = Field(description="the CB approves the change")
    evaluation: RuleText = Field(description="what was checked, and why (required either way)")


@handler("changes.evaluate", params=EvaluateParams)
def evaluate(params: EvaluateParams, ctx: HandlerContext) -> dict:
    """R-9.3: the CB evaluates the request (by whom and when, R-13)."""
    return change_steps.evaluate(ctx.session, **params.model_dump(), actor=ctx.actor, now=ctx.now)


class ChangeParams(Params):
    change_id: Id = Field(description=CHANGE)


@handler("changes.notify_refusal", params=ChangeParams)
def notify_refusal(params: ChangeParams, ctx: HandlerContext) -> dict:
    """R-9.3, R-9.4.1: the written notice that the change is refused; the certificate stays."""
    return change_steps.notify_refusal(
        ctx.session, change_id=params.change_id, actor=ctx.actor, now=ctx.now
    )


@handler("changes.prepare_site_audit", params=ChangeParams)
def prepare_site_audit(params: ChangeParams, ctx: HandlerContext) -> dict:
    """R-9.4.1: the new site (inactive until applied) and its special on-site audit."""
    return change_steps.prepare_site_audit(ctx.session, change_id=params.change_id)


class SiteExtensionDecisionParams(Params):
    change_id: Id = Field(description=CHANGE)
    outcome: rule_choice(*site_extension.OUTCOMES) = Field(  # type: ignore[valid-type]
        description="grant (the site joins a reissued certificate) or refuse"
    )
    reasons: RuleText = Field(description="the reasons of the decision (R-13)")


@handler("changes.decide_site_extension", params=SiteExtensionDecisionParams)
def decide_site_extension(params: SiteExtensionDecisionParams, ctx: HandlerContext) -> dict:
    """R-9.4.1, R-8.8, R-13: the independent decision on a new site after its initial procedure."""
    return site_extension.decide(ctx.session, **params.model_dump(), actor=ctx.actor, now=ctx.now)


@handler("changes.apply", params=ChangeParams)
def apply(params: ChangeParams, ctx: HandlerContext) -> dict:
    """R-9.3, R-9.4.1, R-9.4.2: apply an approved change by reissuing the certificate."""
    return change_steps.apply(ctx.session, change_id=params.change_id, actor=ctx.actor, now=ctx.now)


# --- validators ----------------------------------------------------------------------------------
@validator("change_request_fits")
def change_request_fits(ctx: GuardContext) -> dict[str, list[str]]:
    """The change request form against the rules (422 before the task completes): the kind's
    value, level, site or written request; R-11; a valid certificate. changes.register enforces
    the same again."""
    try:
        certificate = current_of(ctx.session, ctx.data.get("certificate_id"))
    except (LookupError, ValueError) as err:
        return {"kind": [f"R-9.3: {err}"]}
    return request_problems(ctx.session, certificate, ctx.data, ctx.actor, ctx.business_key)


@validator("site_audit_covers_new_site")
def site_audit_covers_new_site(ctx: GuardContext) -> dict[str, list[str]]:
    """R-9.4.1: the audit plan of a scope extension audits the new site."""
    return site_audit_problems(ctx.data)
