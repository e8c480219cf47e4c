"""The certification decision (R-8.8, R-13) and the written refusal notice (R-8.8).

The decision is taken by the technical department's decision makers who did not take part in
any audit of the application (guard `not_on_audit_team`, checked again here). `decided_on` is
the decision's date in China (UTC+8) — the date the certificate is issued on and the programme
cycle starts from.
"""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from certflow.dates import china_date
from domain.acting import Acting
from domain.audit.common import application_of, get_audit
from domain.checks import optional_text, require_id, require_int
from domain.documents import create_document
from domain.errors import RuleViolation
from domain.letter_templates import render_letter
from domain.models import Application, Audit, Decision, Document, Nonconformity
from domain.people import audited_application

OUTCOMES = ("grant", "refuse")
REFUSAL_KIND = "refusal_notice"


def get_application(session: Session, application_id: Any) -> Application:
    application = session.get(Application, require_id(application_id, "application_id"))
    if application is None:
        raise LookupError(f"application {application_id} not found")
    return application


def get_decision(session: Session, decision_id: Any, application: Application) -> Decision:
    decision = session.get(Decision, require_id(decision_id, "decision_id"))
    if decision is None or decision.application_id != application.id:
        raise LookupError(f"decision {decision_id} not found for application {application.number}")
    return decision


def open_nonconformities(session: Session, audit: Audit) -> list[Nonconformity]:
    """NCs not (yet) accepted at verification: they block a grant (R-8.7, R-8.8)."""
    return list(
        session.scalars(
            select(Nonconformity)
            .where(Nonconformity.audit_id == audit.id, Nonconformity.status != "accepted")
            .order_by(Nonconformity.id)
        )
    )


def grantable_level(audit: Audit, application: Application) -> int:
    """The highest level a grant may set (R-8.5.5, R-8.8).

    - downgrade: the level the team found (below the requested one, on the client's request);
    - recommend: the level found, at most the requested level; a recommendation conditional on
      correcting NCs (level found below the requested one) allows the requested level, since a
      grant also needs every NC accepted;
    - not_recommend: nothing (0).
    """
    achieved = audit.star_level_achieved or 0
    if audit.conclusion == "downgrade":
        return achieved
    if audit.conclusion == "recommend":
        if (audit.conclusion_notes or {}).get("conditional_on_corrections"):
            return application.requested_level
        return min(achieved, application.requested_level)
    return 0


def record_decision(
    act: Acting,
    *,
    application_id: int,
    audit_id: int,
    outcome: Any,
    star_level: Any,
    reasons: Any,
) -> dict:
    """R-8.8: grant (star level within what the audit supports, no open NC) or refuse (with
    written reasons); R-13: who decided and when."""
    application = get_application(act.session, application_id)
    audit = get_audit(act.session, audit_id)
    if application_of(act.session, audit).id != application.id:
        raise LookupError(f"audit {audit.id} is not an audit of {application.number}")
    _require_decidable(act, application, audit)
    if outcome not in OUTCOMES:
        raise RuleViolation("R-8.8", f"outcome must be one of {OUTCOMES}, got {outcome!r}")
    reasons = optional_text(reasons)
    level = None
    if outcome == "grant":
        level = check_grant(act.session, application, audit, star_level)
    elif not reasons:
        raise RuleViolation(
            "R-8.8", "a refusal needs the reasons, notified to the client in writing"
        )
    decision = Decision(
        application_id=application.id,
        audit_id=audit.id,
        outcome=outcome,
        star_level=level,
        reasons=reasons,
        decided_by=act.actor,
        decided_at=act.now,
        decided_on=china_date(act.now),
    )
    act.session.add(decision)
    if outcome == "refuse":
        application.status = "refused"
    act.session.flush()
    return {"id": decision.id, "outcome": outcome, "star_level": level}


def _require_decidable(act: Acting, application: Application, audit: Audit) -> None:
    if audit.conclusion is None or audit.status != "completed":
        raise RuleViolation("R-8.8", f"audit {audit.id} is not completed with a conclusion")
    earlier = act.session.scalars(
        select(Decision.id).where(Decision.application_id == application.id)
    ).first()
    if earlier is not None:
        raise RuleViolation("R-8.8", f"application {application.number} is already decided")
    if audited_application(act.session, application.id, act.actor):
        raise RuleViolation(
            "R-8.8", f"{act.actor} took part in an audit of {application.number} and may not decide"
        )


def check_grant(session: Session, application: Application, audit: Audit, value: Any) -> int:
    star_level = require_int(value, "star_level", "R-8.8", minimum=1)
    if audit.conclusion == "not_recommend":
        raise RuleViolation(
            "R-8.8", "the audit team did not recommend certification; a grant is not possible"
        )
    highest = grantable_level(audit, application)
    if star_level > highest:
        raise RuleViolation(
            "R-8.8",
            f"star level {star_level} exceeds what the audit supports ({highest}: level reached "
            f"{audit.star_level_achieved}, requested {application.requested_level}, conclusion "
            f"{audit.conclusion})",
        )
    unresolved = open_nonconformities(session, audit)
    if unresolved:
        numbers = ", ".join(f"{nc.number} ({nc.status})" for nc in unresolved)
        raise RuleViolation("R-8.8", f"nonconformities not yet accepted: {numbers} (R-8.7)")
    return star_level


def issue_refusal_notice(act: Acting, application_id: int, decision_id: int) -> Document:
    """R-8.8: the written notice that registration is refused, with the decision's reasons."""
    application = get_application(act.session, application_id)
    decision = get_decision(act.session, decision_id, application)
    if decision.outcome != "refuse":
        raise RuleViolation("R-8.8", f"decision {decision.id} is not a refusal")
    organisation = application.organisation
    return create_document(
        act.session,
        kind=REFUSAL_KIND,
        title_facts={"reference": application.number},
        body=render_letter(
            "refusal_notice", application=application, organisation=organisation, decision=decision
        ),
        organisation_id=application.organisation_id,
        application_id=application.id,
        audit_id=decision.audit_id,
        data={
            "application_number": application.number,
            "decision_id": decision.id,
            "reasons": decision.reasons,
            "decided_by": decision.decided_by,
            "decided_on": decision.decided_on.isoformat(),
        },
        created_by=act.actor,
        now=act.now,
    )


def decision_problems(session: Session, data: Mapping[str, Any]) -> dict[str, list[str]]:
    """The decision form's data against R-8.8 before the task completes (field errors);
    record_decision enforces the same rules again when it records the decision."""
    application = get_application(session, data.get("application_id"))
    audit = get_audit(session, data.get("audit_id"))
    try:
        if data.get("outcome") == "grant":
            check_grant(session, application, audit, data.get("star_level"))
    except RuleViolation as err:
        return {"star_level": [str(err)]}
    if data.get("outcome") == "refuse" and not optional_text(data.get("reasons")):
        return {"reasons": ["R-8.8: a refusal needs the reasons, notified in writing"]}
    return {}
