"""Handlers: surveillance of a certificate in force and the start of its recertification
(R-7.1.3, R-8.10.1, R-8.10.2, R-8.10.3, R-8.11, R-9.3) — thin adapters of surveillance.bpmn,
surveillance_audit.bpmn and recertification.bpmn over `domain/surveillance.py` (the date, limit
and outcome rules), `domain/surveillance_planning.py` and `domain/surveillance_outcome.py`
(docs/certificate-lifecycle.md).

Settings (app config): SURVEILLANCE_PLANNING_LEAD_DAYS (60) and SURVEILLANCE_REMINDER_DAYS_BEFORE
(14) — when planning starts and the client is reminded, before the due date.
"""

from functools import partial

from pydantic import Field

from domain import (
    early_recertification,
    recertification_review,
    surveillance,
    surveillance_limit,
    surveillance_outcome,
    surveillance_planning,
    surveillance_review,
)
from domain.people import audited_application
from handlers.params import (
    Id,
    OptionalText,
    Params,
    RuleDate,
    RuleFlag,
    RuleInt,
    RuleList,
    RuleObject,
    RuleText,
    rule_choice,
)
from handlers.registry import GuardContext, HandlerContext, handler, validator

CERTIFICATE = "the certificate (the first of its cycle or a reissue: the current one is used)"
NUMBER = "1 or 2: the routine surveillance of the validity period (R-8.10.1)"
NUMBER_SCHEMA = {"type": "integer", "enum": [1, 2]}
LEVEL_SCHEMA = {"type": "integer", "minimum": 0, "maximum": 5}


class RoutineParams(Params):
    certificate_id: Id = Field(description=CERTIFICATE)
    surveillance_number: RuleInt = Field(description=NUMBER, json_schema_extra=NUMBER_SCHEMA)


# --- surveillance.bpmn ---------------------------------------------------------------------------
@handler("surveillance.schedule", params=RoutineParams)
def schedule(params: RoutineParams, ctx: HandlerContext) -> dict:
    """R-7.1.3/R-8.10.1: due date, hard limit and timer instants of surveillance 1 or 2;
    R-8.10.1(2): whether it must include a random survey."""
    return surveillance_planning.schedule(
        ctx.session,
        **params.model_dump(),
        planning_lead_days=ctx.settings.surveillance_planning_lead_days,
        reminder_days_before=ctx.settings.surveillance_reminder_days_before,
        actor=ctx.actor,
        now=ctx.now,
    )


@handler("surveillance.audit_conducted", params=RoutineParams)
def audit_conducted(params: RoutineParams, ctx: HandlerContext) -> dict:
    """R-8.10.1: at the latest date, whether the routine surveillance's on-site audit was
    conducted (the limit times the audit, not the corrections; docs/decisions.md)."""
    return surveillance_limit.audit_conducted(ctx.session, **params.model_dump())


class CycleParams(Params):
    certificate_number: RuleText = Field(
        description="the certificate number: the business key of the surveillance cycle"
    )


@handler("surveillance.cycle_certificate", params=CycleParams)
def cycle_certificate(params: CycleParams, ctx: HandlerContext) -> dict:
    """R-8.10.1: the cycle's certificate by its number (the current one after reissues)."""
    return surveillance_planning.cycle_certificate(ctx.session, **params.model_dump())


@handler("surveillance.remind", params=RoutineParams)
def remind(params: RoutineParams, ctx: HandlerContext) -> dict:
    """R-8.10.1: remind the client (and the case file) that surveillance n is due."""
    return surveillance_planning.remind(
        ctx.session, **params.model_dump(), actor=ctx.actor, now=ctx.now
    )


class OpenExtraParams(Params):
    certificate_id: Id = Field(description=CERTIFICATE)
    extra: RuleObject = Field(
        description="the extra_surveillance message payload: reason (R-8.10.1 a–d) and detail"
    )


@handler("surveillance.open_extra", params=OpenExtraParams)
def open_extra(params: OpenExtraParams, ctx: HandlerContext) -> dict:
    """R-8.10.1 (a)–(d): an extra surveillance: its programme activity, its audit and an internal
    record of the trigger (R-11). → `extra_audit` for surveillance.record_plan."""
    return surveillance_planning.open_extra(
        ctx.session, **params.model_dump(), actor=ctx.actor, now=ctx.now
    )


# --- surveillance_audit.bpmn ---------------------------------------------------------------------
class RecordPlanParams(Params):
    certificate_id: Id = Field(description=CERTIFICATE)
    surveillance_number: RuleInt = Field(
        None,
        description=NUMBER + "; not for an extra surveillance",
        json_schema_extra=NUMBER_SCHEMA,
    )
    planned_start: RuleDate = Field(description="first planned audit day")
    planned_end: RuleDate = Field(
        description="last planned audit day: after the due date only with an extension "
        "(R-7.1.3), never after the 15-month hard limit (R-8.10.1)"
    )
    extension_reason: OptionalText = Field(
        None, description="why the audit ends after the due date (the extension request)"
    )
    extra_audit: RuleObject = Field(
        None,
        description="the result of surveillance.open_extra when planning an extra surveillance",
    )


@handler("surveillance.record_plan", params=RecordPlanParams)
def record_plan(params: RecordPlanParams, ctx: HandlerContext) -> dict:
    """R-7.1.3/R-8.10.1: the planned dates and the surveillance audit; an end after the due date
    records the extension request; never after the hard limit."""
    return surveillance_planning.record_plan(
        ctx.session, **params.model_dump(), actor=ctx.actor, now=ctx.now
    )


class DecideExtensionParams(Params):
    certificate_id: Id = Field(description=CERTIFICATE)
    surveillance_number: RuleInt = Field(description=NUMBER, json_schema_extra=NUMBER_SCHEMA)
    approved: RuleFlag = Field(description="the audit department approves the extension")
    note: OptionalText = Field(None, description="the audit department's note")


@handler("surveillance.decide_extension", params=DecideExtensionParams)
def decide_extension(params: DecideExtensionParams, ctx: HandlerContext) -> dict:
    """R-8.10.1/R-7.1.3: approve or refuse the requested extension (who, when — R-13); never
    beyond the 15-month hard limit."""
    return surveillance_planning.decide_extension(
        ctx.session, **params.model_dump(), actor=ctx.actor, now=ctx.now
    )


class MaintainParams(Params):
    certificate_id: Id = Field(description=CERTIFICATE)
    audit_id: Id = Field(description="the completed surveillance audit")


@handler("surveillance.maintain", params=MaintainParams)
def maintain(params: MaintainParams, ctx: HandlerContext) -> dict:
    """R-8.10.3(1): the audit met the held level: the certificate is maintained."""
    return surveillance_outcome.maintain(
        ctx.session, **params.model_dump(), actor=ctx.actor, now=ctx.now
    )


class RecordOutcomeParams(Params):
    certificate_id: Id = Field(description=CERTIFICATE)
    audit_id: Id = Field(description="the completed surveillance audit")
    outcome: rule_choice(*surveillance.OUTCOMES) = Field(  # type: ignore[valid-type]
        description="maintain, downgrade, suspend or withdraw — as the reassessed level allows "
        "(R-8.10.3)"
    )
    reassessed_star_level: RuleInt = Field(
        description="the star level after the client's corrections (0: below the lowest)",
        json_schema_extra=LEVEL_SCHEMA,
    )
    reasons: OptionalText = Field(None, description="required unless maintained")


@handler("surveillance.record_outcome", params=RecordOutcomeParams)
def record_outcome(params: RecordOutcomeParams, ctx: HandlerContext) -> dict:
    """R-8.10.3 after the corrections were verified: maintain, downgrade (reissue, R-9.3),
    suspend or withdraw (the last two by the diagram's messages); not by an auditor (R-8.8)."""
    return surveillance_outcome.record_outcome(
        ctx.session,
        **params.model_dump(),
        took_part=partial(_took_part, ctx.session, ctx.actor),
        actor=ctx.actor,
        now=ctx.now,
    )


def _took_part(session, actor: str, application_id: int) -> bool:
    return audited_application(session, application_id, actor)


# --- recertification.bpmn ------------------------------------------------------------------------
class PrepareRecertificationParams(Params):
    certificate_id: Id = Field(description=CERTIFICATE)


@handler("recertification.prepare", params=PrepareRecertificationParams)
def prepare_recertification(params: PrepareRecertificationParams, ctx: HandlerContext) -> dict:
    """R-8.11: recertification starts 3 months before expiry; `expiry_at` bounds it (R-9.5.3b)."""
    return surveillance_planning.prepare_recertification(ctx.session, **params.model_dump())


# --- validators ----------------------------------------------------------------------------------
@validator("surveillance_within_limits")
def surveillance_within_limits(ctx: GuardContext) -> dict[str, list[str]]:
    """R-7.1.3/R-8.10.1 on the plan form (422 before the task completes); record_plan checks
    the same again."""
    return surveillance.plan_form_problems(ctx.session, ctx.data)


@validator("random_survey_when_due")
def random_survey_when_due(ctx: GuardContext) -> dict[str, list[str]]:
    """R-8.10.1(2): a surveillance that needs a random survey includes one (R-8.3)."""
    return surveillance.random_survey_problems(ctx.data)


@validator("surveillance_outcome_fits")
def surveillance_outcome_fits(ctx: GuardContext) -> dict[str, list[str]]:
    """R-8.10.3: the outcome against the reassessed and the held level; reasons unless
    maintained. record_outcome checks the same again."""
    return surveillance.outcome_form_problems(ctx.session, ctx.data)


class ReviewParams(Params):
    certificate_id: Id = Field(description=CERTIFICATE)
    nc_checks: RuleList = Field(
        description="one verification (nc_id, result, note) for each NC of the cycle (R-8.11)"
    )
    certificate_use: RuleText = Field(description="proper, improper or not_used (R-8.11)")
    mark_use: RuleText = Field(description="proper, improper or not_used (R-8.11)")
    use_findings: OptionalText = Field(description="what was found; needed for an improper use")


@handler("recertification.record_review", params=ReviewParams)
def record_review(params: ReviewParams, ctx: HandlerContext) -> dict:
    """R-8.11: the ending cycle's NCs verified and the certificate/mark use checked."""
    return recertification_review.record_review(
        ctx.session, **params.model_dump(), actor=ctx.actor, now=ctx.now
    )


class SurveillanceReviewParams(Params):
    audit_id: Id = Field(description="the surveillance audit (R-8.10.2)")
    organisation_changes: RuleText = Field(description="none or changed (R-8.10.2 c)")
    changes_details: OptionalText = Field(description="what changed; needed for a change")
    mark_use_records: RuleText = Field(description="kept, incomplete or not_used (R-10.1a)")
    use_within_scope: RuleText = Field(description="proper, improper or not_used (R-10.1b)")
    publicity_use: RuleText = Field(description="proper, improper or not_used (R-10.1c)")
    certificate_use: RuleText = Field(description="proper, improper or not_used (R-8.10.2 f)")
    nonconformities: RuleList = Field(
        description="the findings as NCs (item_code, nature, description, evidence) (R-8.7)"
    )


@handler("surveillance.record_review", params=SurveillanceReviewParams)
def record_surveillance_review(params: SurveillanceReviewParams, ctx: HandlerContext) -> dict:
    """R-8.10.2 c, f, R-10.1: organisation changes and certificate/mark use reviewed; what was
    found becomes nonconformities of the surveillance audit."""
    return surveillance_review.record_review(
        ctx.session, **params.model_dump(), actor=ctx.actor, now=ctx.now
    )


# --- early recertification (R-8.11 last paragraph) ------------------------------------------------
class EarlyRecertificationParams(Params):
    certificate_id: Id = Field(description=CERTIFICATE)
    note: OptionalText = Field(None, description="what was agreed with the client")


@handler("surveillance.record_early_recertification", params=EarlyRecertificationParams)
def record_early_recertification(params: EarlyRecertificationParams, ctx: HandlerContext) -> dict:
    """R-8.11: the early recertification agreed with the client, in the certificate's history."""
    return early_recertification.record_agreed(
        ctx.session, **params.model_dump(), actor=ctx.actor, now=ctx.now
    )


class CycleCertificateParams(Params):
    certificate_id: Id = Field(description="the first certificate of the surveillance cycle")


@handler("surveillance.early_recertification_agreed", params=CycleCertificateParams)
def early_recertification_agreed(params: CycleCertificateParams, ctx: HandlerContext) -> dict:
    """R-8.11: at the normal recertification time, whether an early one was agreed in this cycle
    (then it is running or has run: no second recertification starts)."""
    return early_recertification.agreed_in_cycle(ctx.session, **params.model_dump())
