"""Complaints and appeals (R-12, with R-8.10.1a, R-8.11 and R-9.5.1d): registration, the service
tasks, the guard and the validators of complaint.bpmn (docs/complaints-and-changes.md) — thin
adapters over `domain/complaints.py` (registration and impartiality rules, the reply clock) and
`domain/complaint_handling.py` (the steps and their letters).

* `register_complaint` (called by the public form, the client portal and staff registration in
  webapp/complaints.py) creates the `Complaint` with its reference `TS-YYYY-NNNN` and the reply
  date (the China date of receipt + 30 days, R-12); the web layer then starts `complaint` with
  `{"complaint_id": id}` and the reference as business key.
* The validator `complaint_handler_not_involved` refuses an involved handler with 422; the guard
  `complaint_handler` lets only the assigned handler investigate; `record_investigation` checks
  both again (R-12).
* Follow-up of a substantiated complaint against a client: the link is kept both ways:
  - follow-up → complaint: the message payload (kept by the receiving process, e.g. `suspend`),
    the detail text of the certificate event / extra-audit record naming the complaint, and a
    `complaint_follow_up` document on the client's case (`complaints.link_follow_up`);
  - complaint → follow-up: `Complaint.follow_up_instance_id` is the process instance that
    received the message. The engine routes thrown messages only after the sending instance has
    run its steps, so no service task of the complaint can see that instance; the engine's
    `MessageDelivered` hook (which names the receiving instance and carries the payload) sets
    it, in the same transaction (`_link_delivery`).
"""

from datetime import datetime

from pydantic import Field
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from certflow.dates import china_date
from domain import complaint_handling as steps
from domain.complaints import (
    CHANNELS,
    FOLLOW_UPS,
    REFERENCE_PREFIX,
    ComplaintInputError,
    find_certificate,
    follow_up_problem,
    get_complaint,
    handler_problem,
    reply_due_on,
    validate_registration,
)
from domain.models import Application, Complaint
from domain.numbering import next_number
from engine.records import record_event, task_completed
from handlers.params import Id, OptionalText, Params, RuleFlag, RuleText, rule_choice
from handlers.registry import (
    GuardContext,
    HandlerContext,
    MessageDelivered,
    guard,
    handler,
    on_event,
    validator,
)

__all__ = ["follow_up_problem", "public_status", "register_complaint"]


# -- registration ---------------------------------------------------------------------------------
def register_complaint(
    session: Session,
    *,
    kind: str,
    channel: str,
    complainant_name: str,
    complainant_contact: str,
    subject: str,
    description: str,
    certificate_number: str | None,
    actor: str,
    now: datetime,
    organisation_id: int | None = None,
) -> Complaint:
    """R-12: register a complaint or appeal received now: reference TS-YYYY-NNNN (China year),
    reply due on the China date of receipt + 30 days, linked to the certificate named (and so to
    its organisation and application). `organisation_id` is the complainant's own organisation
    (the client portal): its latest application is linked when no certificate is named (an
    appeal against a refusal has none). Raises ComplaintInputError for bad input; the caller
    starts the `complaint` process."""
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {CHANNELS}, got {channel!r}")
    errors = validate_registration(
        session,
        kind=kind,
        complainant_name=complainant_name,
        complainant_contact=complainant_contact,
        subject=subject,
        description=description,
        certificate_number=certificate_number,
        organisation_id=organisation_id,
    )
    if errors:
        raise ComplaintInputError(errors)
    certificate = find_certificate(session, certificate_number or "")
    application_id = certificate.application_id if certificate else None
    if certificate is not None:
        organisation_id = certificate.organisation_id
    elif organisation_id is not None:
        application_id = session.scalars(
            select(Application.id)
            .where(Application.organisation_id == organisation_id)
            .order_by(Application.submitted_at.desc(), Application.id.desc())
            .limit(1)
        ).first()
    received_on = china_date(now)
    complaint = Complaint(
        reference=next_number(session, Complaint.reference, REFERENCE_PREFIX, received_on.year),
        kind=kind,
        channel=channel,
        complainant_name=complainant_name.strip(),
        complainant_contact=complainant_contact.strip(),
        subject=subject.strip(),
        description=description.strip(),
        organisation_id=organisation_id,
        certificate_id=certificate.id if certificate else None,
        application_id=application_id,
        status="received",
        received_at=now,
        reply_due_on=reply_due_on(received_on),
        overdue=False,
        findings="",
        decision="",
    )
    session.add(complaint)
    session.flush()
    # who registered it, through which channel (the process is often started by the
    # system on the complainant's behalf).
    record_event(
        session,
        "complaint_registered",
        actor=actor,
        at=now,
        data={
            "complaint_id": complaint.id,
            "reference": complaint.reference,
            "kind": kind,
            "channel": channel,
        },
    )
    session.flush()
    return complaint


# -- reading --------------------------------------------------------------------------------------
def public_status(session: Session, complaint: Complaint) -> str:
    """What the complainant may know (R-11, R-12): `received`, `investigating` (a handler is
    assigned) or `answered` — nothing about findings, handler or follow-up."""
    if complaint.status in ("answered", "closed"):
        return "answered"
    if complaint.status in ("investigating", "decided"):
        return "investigating"
    if complaint.instance_id is not None and task_completed(
        session, complaint.instance_id, "Task_AssignHandler"
    ):
        return "investigating"
    return "received"


# -- service tasks --------------------------------------------------------------------------------
class ComplaintParams(Params):
    complaint_id: Id = Field(description="the complaint (registered before the process starts)")


@handler("complaints.acknowledge", params=ComplaintParams)
def acknowledge(params: ComplaintParams, ctx: HandlerContext) -> dict:
    """R-12: the acknowledgement to the complainant and the 30-day clock (reminder day 20,
    escalation day 25, overdue day 30) for the boundary timers; the instance takes the
    complaint's reference as business key."""
    result = steps.acknowledge(
        ctx.session,
        complaint_id=params.complaint_id,
        instance_id=ctx.instance_id,
        actor=ctx.actor,
        now=ctx.now,
    )
    ctx.set_business_key(result["reference"])
    return result


@handler("complaints.remind", params=ComplaintParams)
def remind(params: ComplaintParams, ctx: HandlerContext) -> dict:
    """R-12: day 20 without a reply — the handler is reminded of the reply date."""
    return steps.remind(ctx.session, complaint_id=params.complaint_id, actor=ctx.actor, now=ctx.now)


@handler("complaints.mark_overdue", params=ComplaintParams)
def mark_overdue(params: ComplaintParams, ctx: HandlerContext) -> dict:
    """R-12: day 30 without a written reply — the complaint is flagged overdue."""
    return steps.mark_overdue(ctx.session, complaint_id=params.complaint_id)


class InvestigationParams(Params):
    complaint_id: Id = Field(description="the complaint")
    handler: RuleText = Field(
        description="username of the assigned handler: complaints role, not involved (R-12)"
    )
    findings: RuleText = Field(description="what the investigation found")
    substantiated: RuleFlag = Field(description="true when the complaint is substantiated")
    follow_up: rule_choice(*FOLLOW_UPS) = Field(  # type: ignore[valid-type]
        None,
        description="none, extra_surveillance (R-8.10.1a), special_audit (R-8.11) or "
        "suspension (R-9.5.1d); only for a substantiated complaint about a client",
    )
    decision: RuleText = Field(description="the decision with its reasons (in the reply)")


@handler("complaints.record_investigation", params=InvestigationParams)
def record_investigation(params: InvestigationParams, ctx: HandlerContext) -> dict:
    """R-12: the handler's findings, decision and follow-up (checked again: impartiality)."""
    return steps.record_investigation(ctx.session, **params.model_dump())


class LinkFollowUpParams(Params):
    complaint_id: Id = Field(description="the complaint whose follow-up message was sent")
    follow_up: OptionalText = Field(
        None, description="the follow-up chosen (for the diagram; the recorded one is used)"
    )


@handler("complaints.link_follow_up", params=LinkFollowUpParams)
def link_follow_up(params: LinkFollowUpParams, ctx: HandlerContext) -> dict:
    """R-8.10.1a, R-8.11, R-9.5.1d: the client's case gets a record naming the complaint and the
    measure; the receiving instance is linked by `_link_delivery`."""
    return steps.link_follow_up(
        ctx.session, complaint_id=params.complaint_id, actor=ctx.actor, now=ctx.now
    )


@handler("complaints.reply", params=ComplaintParams)
def reply(params: ComplaintParams, ctx: HandlerContext) -> dict:
    """R-12: the written reply with the right to escalate to CNCA; status answered."""
    return steps.reply(ctx.session, complaint_id=params.complaint_id, actor=ctx.actor, now=ctx.now)


# -- guard and validators -------------------------------------------------------------------------
def _complaint_of(ctx: GuardContext) -> Complaint | None:
    try:
        return get_complaint(ctx.session, ctx.data.get("complaint_id"))
    except (LookupError, ValueError):
        return None


@guard("complaint_handler")
def complaint_handler(ctx: GuardContext) -> str | None:
    """R-12: only the assigned handler investigates and decides."""
    assigned = ctx.data.get("handler")
    if not isinstance(assigned, str) or not assigned.strip():
        return "R-12: no handler is assigned to this complaint"
    if ctx.actor != assigned.strip():
        return (
            f"R-12: only the assigned handler ({assigned.strip()}) may investigate this complaint"
        )
    return None


@validator("complaint_handler_not_involved")
def complaint_handler_not_involved(ctx: GuardContext) -> dict[str, list[str]]:
    """R-12: the handler holds the complaints role and is not involved in the matter (not an
    auditor, team member or decision maker of the case)."""
    complaint = _complaint_of(ctx)
    if complaint is None:
        return {"_form": ["R-12: the case has no complaint_id"]}
    problem = handler_problem(ctx.session, complaint, ctx.data.get("handler"))
    return {"handler": [problem]} if problem else {}


@validator("complaint_follow_up_fits")
def complaint_follow_up_fits(ctx: GuardContext) -> dict[str, list[str]]:
    """R-8.10.1a, R-8.11, R-9.5.1d: a follow-up only for a substantiated complaint about a
    certified client whose certificate is in force (a suspension: valid)."""
    complaint = _complaint_of(ctx)
    if complaint is None:
        return {"_form": ["R-12: the case has no complaint_id"]}
    found = follow_up_problem(
        ctx.session, complaint, ctx.data.get("substantiated"), ctx.data.get("follow_up", "none")
    )
    return {"follow_up": [f"{found[0]}: {found[1]}"]} if found else {}


# -- complaint → follow-up instance ---------------------------------------------------------------
@on_event(MessageDelivered)
def _link_delivery(delivered: MessageDelivered) -> None:
    """A message carrying `complaint_reference` was delivered to an instance (started by it, or
    reached by it): that instance is the complaint's follow-up (the first one is kept)."""
    payload = delivered.payload
    reference = payload.get("complaint_reference") if isinstance(payload, dict) else None
    if not isinstance(reference, str) or not reference:
        return
    delivered.session.execute(
        update(Complaint.__table__)
        .where(
            Complaint.__table__.c.reference == reference,
            Complaint.__table__.c.follow_up_instance_id.is_(None),
        )
        .values(follow_up_instance_id=delivered.instance_id)
    )
