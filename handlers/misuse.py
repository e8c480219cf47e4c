"""Handlers: misuse of a certificate or the certification mark (R-10.3, R-9.5.2, R-14) — thin
adapters of mark_misuse.bpmn's service tasks over `domain/misuse.py`, which holds the rules.

Settings (app config): MISUSE_CORRECTION_DAYS (30) — the client's deadline for corrective action.
"""

from pydantic import Field

from domain import misuse
from handlers.params import Id, OptionalText, Params, RuleFlag, RuleText, rule_choice
from handlers.registry import HandlerContext, handler


class RegisterParams(Params):
    certificate_id: Id = Field(description="the certificate (or its mark) that is misused")
    reported_by: RuleText = Field(description="who reported the misuse (R-10.3)")
    description: RuleText = Field(description="what was reported: where and how it is misused")


@handler("misuse.register", params=RegisterParams)
def register(params: RegisterParams, ctx: HandlerContext) -> dict:
    """R-10.3: register a reported misuse; `WY-YYYY-NNNN` becomes the case's business key."""
    result = misuse.register(ctx.session, **params.model_dump(), now=ctx.now)
    ctx.set_business_key(result["reference"])
    return result


class InvestigationParams(Params):
    misuse_id: Id = Field(description="the misuse case (result of misuse.register)")
    confirmed: RuleFlag = Field(description="true when the investigation confirmed the misuse")
    investigation: RuleText = Field(description="the findings; quoted in the notice to the client")
    action: rule_choice(*misuse.ACTIONS) = Field(  # type: ignore[valid-type]
        description="none (not confirmed), corrective_action (with a deadline), suspension "
        "(R-9.5.1c) or withdrawal"
    )
    publish_violation: RuleFlag = Field(
        False, description="R-10.3 公布违规行为: publish the violation on the registry"
    )
    legal_follow_up: OptionalText = Field(
        None, description="the legal action the CB intends (internal, R-10.3); may be empty"
    )


@handler("misuse.record_investigation", params=InvestigationParams)
def record_investigation(params: InvestigationParams, ctx: HandlerContext) -> dict:
    """R-10.3: the audit department's findings; a confirmed misuse is notified in writing."""
    return misuse.record_investigation(
        ctx.session,
        **params.model_dump(),
        correction_days=ctx.settings.misuse_correction_days,
        actor=ctx.actor,
        now=ctx.now,
    )


class CloseParams(Params):
    misuse_id: Id = Field(description="the misuse case")
    outcome: rule_choice(*misuse.OUTCOMES) = Field(  # type: ignore[valid-type]
        description="no_action, corrected (correction accepted), suspended or withdrawn; must "
        "fit the investigation's action"
    )
    note: OptionalText = Field(None, description="why the case is closed (kept in the record)")


@handler("misuse.close", params=CloseParams)
def close(params: CloseParams, ctx: HandlerContext) -> dict:
    """R-10.3: the case ends; a closure record keeps who closed it, when and why (R-13)."""
    return misuse.close(ctx.session, **params.model_dump(), actor=ctx.actor, now=ctx.now)
