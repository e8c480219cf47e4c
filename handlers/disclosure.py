"""Handlers: disclosure of client information to a third party (R-11) — thin adapters of
disclosure.bpmn's service tasks and validator over `domain/disclosure.py`, which holds the rules.

Settings (app config): DISCLOSURE_NOTICE_DAYS (10) — how long the client has to acknowledge or
comment before the disclosure goes ahead without the acknowledgement (`acknowledge_by_at`:
09:00 China time on the day after, for the interrupting boundary timer).
"""

from pydantic import Field

from domain import disclosure
from handlers.params import Id, OptionalText, Params, RuleDate, RuleText
from handlers.registry import GuardContext, HandlerContext, handler, validator


class RegisterParams(Params):
    organisation_id: Id = Field(description="the client whose information is disclosed")
    recipient: RuleText = Field(description="the third party that receives the information")
    information: RuleText = Field(description="what information is disclosed")
    purpose: RuleText = Field(description="why it is disclosed")
    legal_basis_no_notice: OptionalText = Field(
        None,
        description="the law that requires disclosure without notice; empty: the client is "
        "notified in advance (R-11)",
    )


@handler("disclosure.register", params=RegisterParams)
def register(params: RegisterParams, ctx: HandlerContext) -> dict:
    """R-11: register a planned disclosure; its reference `PL-NNNN` names the case."""
    result = disclosure.register(ctx.session, **params.model_dump(), actor=ctx.actor, now=ctx.now)
    ctx.set_business_key(result["reference"])
    return result


class NotifyParams(Params):
    disclosure_id: Id = Field(description="the disclosure (result of disclosure.register)")


@handler("disclosure.notify_client", params=NotifyParams)
def notify_client(params: NotifyParams, ctx: HandlerContext) -> dict:
    """R-11: the written notice to the client, before anything is disclosed."""
    return disclosure.notify_client(
        ctx.session,
        disclosure_id=params.disclosure_id,
        notice_days=ctx.settings.disclosure_notice_days,
        actor=ctx.actor,
        now=ctx.now,
    )


class RecordParams(Params):
    disclosure_id: Id = Field(description="the disclosure")
    disclosed_on: RuleDate = Field(description="the day the information was disclosed")
    channel: RuleText = Field(description="how it was disclosed (e-mail, letter …)")


@handler("disclosure.record_disclosure", params=RecordParams)
def record_disclosure(params: RecordParams, ctx: HandlerContext) -> dict:
    """R-11: record the disclosure; refused when a required notice was not sent first."""
    return disclosure.record_disclosure(
        ctx.session, **params.model_dump(), actor=ctx.actor, now=ctx.now
    )


@validator("disclosure_after_notice")
def disclosure_after_notice(ctx: GuardContext) -> dict[str, list[str]]:
    """R-11 on Task_Disclose: the disclosure day is not in the future and not before the
    client was notified; a disclosure that needs a notice has one."""
    return disclosure.submitted_disclosure_problems(ctx.session, ctx.data, ctx.now)
