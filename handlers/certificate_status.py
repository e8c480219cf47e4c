"""Handlers: suspension, restoration, withdrawal and cancellation of a certificate (R-9.5.1,
R-9.5.2, R-9.5.3, R-10.1, R-14) — thin adapters of suspension.bpmn, withdrawal.bpmn and
cancellation.bpmn over `domain/certificate_status.py`, which holds the rules.

Settings (app config): SUSPENSION_CORRECTION_DAYS (60) — the client's correction deadline;
SUSPENSION_MAX_MONTHS (6, at most 6 by R-9.5.1) — when an unresolved suspension ends in a
withdrawal (`six_months_at`, 09:00 China time, for the interrupting boundary timer).
"""

from pydantic import Field

from domain import certificate_status as status
from domain import suspension_scope
from domain.certificates import CANCELLATION_REASONS, SUSPENSION_REASONS, WITHDRAWAL_REASONS
from handlers.params import Id, OptionalText, Params, RuleIdList, RuleInt, rule_choice
from handlers.registry import HandlerContext, handler

CERTIFICATE = "the certificate (the first of its cycle or a reissue: the current one is changed)"
DETAIL = "the case's detail, kept in the certificate's history (never published, R-11)"


class SuspendParams(Params):
    certificate_id: Id = Field(description=CERTIFICATE)
    reason: rule_choice(*SUSPENSION_REASONS) = Field(  # type: ignore[valid-type]
        description="the clause of R-9.5.1 (a, b, c …) that the suspension rests on"
    )
    sites: RuleIdList = Field(
        None,
        description="ids of the certified sites to suspend (R-9.5.1); none or all of them: "
        "a full suspension",
    )
    detail: OptionalText = Field(None, description=DETAIL)
    surveillance_number: RuleInt = Field(
        None,
        description="the routine surveillance whose latest date passed (R-9.5.1a), when the "
        "surveillance cycle asks; it waits for the restoration (R-9.1)",
    )


@handler("certificate.suspend", params=SuspendParams)
def suspend(params: SuspendParams, ctx: HandlerContext) -> dict:
    """R-9.5.1: suspend a valid certificate, fully or for some sites; a suspended one gets the
    reason added to its open suspension (`joined`)."""
    return status.suspend(
        ctx.session,
        **params.model_dump(),
        correction_days=ctx.settings.suspension_correction_days,
        max_months=ctx.settings.suspension_max_months,
        actor=ctx.actor,
        now=ctx.now,
    )


class RestoreParams(Params):
    certificate_id: Id = Field(description=CERTIFICATE)
    note: OptionalText = Field(None, description="how the corrections were verified")


@handler("certificate.restore", params=RestoreParams)
def restore(params: RestoreParams, ctx: HandlerContext) -> dict:
    """R-9.5.1: the corrections were verified: the suspension ends (published, R-14)."""
    return status.restore(ctx.session, **params.model_dump(), actor=ctx.actor, now=ctx.now)


class ReduceScopeParams(Params):
    certificate_id: Id = Field(description=CERTIFICATE)
    sites: RuleIdList = Field(description="ids of the sites that leave the scope (R-9.5.1)")
    note: OptionalText = Field(None, description="how the corrections were verified")


@handler("certificate.reduce_scope_after_suspension", params=ReduceScopeParams)
def reduce_scope_after_suspension(params: ReduceScopeParams, ctx: HandlerContext) -> dict:
    """R-9.5.1: the suspension ends with a reduced scope: restored for the rest, reissued
    without the dropped sites (old one cancelled and recalled), published (R-14)."""
    return suspension_scope.reduce_scope(
        ctx.session, **params.model_dump(), actor=ctx.actor, now=ctx.now
    )


class WithdrawParams(Params):
    certificate_id: Id = Field(description=CERTIFICATE)
    reason: rule_choice(*WITHDRAWAL_REASONS) = Field(  # type: ignore[valid-type]
        description="the clause of R-9.5.2 (a)–(e); (a) only after a suspension"
    )
    detail: OptionalText = Field(None, description=DETAIL)


@handler("certificate.withdraw", params=WithdrawParams)
def withdraw(params: WithdrawParams, ctx: HandlerContext) -> dict:
    """R-9.5.2: withdraw a valid or suspended certificate; all use ends (R-10.1)."""
    return status.withdraw(ctx.session, **params.model_dump(), actor=ctx.actor, now=ctx.now)


class CancelParams(Params):
    certificate_id: Id = Field(description=CERTIFICATE)
    reason: rule_choice(*CANCELLATION_REASONS) = Field(  # type: ignore[valid-type]
        description="the clause of R-9.5.3 (a)–(c)"
    )
    detail: OptionalText = Field(None, description=DETAIL)


@handler("certificate.cancel", params=CancelParams)
def cancel(params: CancelParams, ctx: HandlerContext) -> dict:
    """R-9.5.3: cancel a valid or suspended certificate; all use ends (R-10.1)."""
    return status.cancel(ctx.session, **params.model_dump(), actor=ctx.actor, now=ctx.now)
