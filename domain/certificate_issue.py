"""Issuing the certificate (R-9.1, R-9.2) and starting the programme's 3-year cycle
(R-7.1.1, R-7.1.3, R-8.10.1, R-8.11).

The issue is recorded in the certificate's history (event `issued`) and announced on the public
registry (`certified`, R-14). A recertification (R-8.11) supersedes the certificate of the
earlier cycle: the new one records `replaces_id`, the old one becomes `superseded`.
"""

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.acting import Acting
from domain.audit.common import active_sites
from domain.certificates import (
    HELD,
    NUMBER_PREFIX,
    change_status,
    mark_for,
    publish,
    record_event,
)
from domain.criteria import CURRENT as CURRENT_CRITERIA
from domain.decision import get_application, get_decision
from domain.errors import RuleViolation
from domain.letter_templates import render_letter
from domain.models import (
    Application,
    Audit,
    AuditProgramme,
    Certificate,
    Decision,
    ProgrammeActivity,
)
from domain.numbering import next_number
from domain.programme_dates import (
    certificate_expiry,
    recertification_window_opens,
    surveillance_1_due,
    surveillance_2_due,
    surveillance_2_hard_limit,
)
from domain.programme_revisions import record_process_revision

# the criteria new certificates name (domain/criteria.py, R-9.3).
STANDARD = CURRENT_CRITERIA.standard
RULES = CURRENT_CRITERIA.rules
ISSUING_BODY = "首认检测认证/CTC"


def issue_certificate(
    act: Acting,
    application_id: int,
    decision_id: int,
    *,
    signatory: str,
    signatory_title: str = "",
) -> dict:
    """R-9.1/R-9.2: the certificate, valid 3 years from the decision date, with every field the
    rules list; the programme cycle and its surveillance/recertification dates; the application
    becomes certified. The signatory and title are the CB's configured authorised signatory
    (never the decider's account: issue 10)."""
    application = get_application(act.session, application_id)
    decision = get_decision(act.session, decision_id, application)
    if decision.outcome != "grant" or not decision.star_level:
        raise RuleViolation("R-9.1", f"decision {decision.id} does not grant certification")
    existing = act.session.scalars(
        select(Certificate.number).where(Certificate.decision_id == decision.id)
    ).first()
    if existing is not None:
        raise RuleViolation("R-9.1", f"decision {decision.id} already has certificate {existing}")
    issued_on = decision.decided_on
    earlier = _held_from_earlier_cycles(act.session, application)
    certificate = _new_certificate(act.session, application, decision, issued_on, signatory)
    certificate.signatory_title = signatory_title
    certificate.status_changed_on = issued_on
    if earlier:
        certificate.replaces_id = earlier[-1].id
    act.session.add(certificate)
    act.session.flush()
    _start_programme_cycle(act, decision, issued_on, certificate.expires_on)
    application.status = "certified"
    record_event(
        act.session,
        certificate,
        event="issued",
        rule="R-9.1",
        actor=act.actor,
        now=act.now,
        status_before=None,
        reason=f"认证决定 decision {decision.id}",
        data={
            "decision_id": decision.id,
            "star_level": certificate.star_level,
            "expires_on": certificate.expires_on.isoformat(),
            "replaces_number": earlier[-1].number if earlier else None,
        },
        effective_on=issued_on,
    )
    for old in earlier:
        _supersede(act, old, certificate)
    _announce_certified(act, certificate, earlier[-1] if earlier else None)
    return {
        "id": certificate.id,
        "number": certificate.number,
        "issued_on": certificate.issued_on.isoformat(),
        "expires_on": certificate.expires_on.isoformat(),
    }


def _held_from_earlier_cycles(session: Session, application: Application) -> list[Certificate]:
    """R-8.11: the organisation's certificates still in force (valid or suspended) from another
    application — the cycle a recertification follows."""
    return list(
        session.scalars(
            select(Certificate)
            .where(
                Certificate.organisation_id == application.organisation_id,
                Certificate.status.in_(HELD),
                Certificate.application_id.is_distinct_from(application.id),
            )
            .order_by(Certificate.id)
        )
    )


def _supersede(act: Acting, old: Certificate, new: Certificate) -> None:
    """R-8.11: the certificate of the earlier cycle is replaced by the recertified one; its mark
    use ends with it (R-10.1), the new certificate carries the mark."""
    change_status(
        act.session,
        old,
        status="superseded",
        event="superseded",
        rule="R-8.11",
        actor=act.actor,
        now=act.now,
        reason=f"再认证，由 {new.number} 替代 recertified: replaced by {new.number}",
        mark_use_allowed=False,
        data={"replaced_by_id": new.id, "replaced_by_number": new.number},
    )


def _announce_certified(act: Acting, certificate: Certificate, replaces) -> None:
    """R-14: certified organisations are published on the registry."""
    body = render_letter("certified_announcement", certificate=certificate, replaces=replaces)
    publish(
        act.session,
        certificate,
        kind="certified",
        now=act.now,
        lines=[body.removesuffix("\n")],  # publish() joins lines and ends with a newline
    )


def _new_certificate(
    session: Session,
    application: Application,
    decision: Decision,
    issued_on: date,
    signatory: str,
) -> Certificate:
    organisation = application.organisation
    return Certificate(
        number=next_number(session, Certificate.number, NUMBER_PREFIX, issued_on.year),
        organisation_id=organisation.id,
        application_id=application.id,
        decision_id=decision.id,
        organisation_name=organisation.name,
        organisation_address=organisation.address,
        sites=[
            {"id": site.id, "name": site.name, "address": site.address, "is_fixed": site.is_fixed}
            for site in active_sites(session, organisation.id)
        ],
        scope=application.scope,
        star_level=decision.star_level,
        standard=STANDARD,
        rules=RULES,
        issuing_body=ISSUING_BODY,
        signatory=signatory,
        issued_on=issued_on,
        original_issued_on=issued_on,
        expires_on=certificate_expiry(issued_on),
        status="valid",
        mark=mark_for(decision.star_level),
    )


def _start_programme_cycle(
    act: Acting, decision: Decision, decided_on: date, expires_on: date
) -> None:
    """R-7.1.1: the cycle runs from the decision date; R-8.10.1/R-7.1.3: surveillance 1 within
    12 months, surveillance 2 within 12 (at most 15) months of the first; R-8.11: the
    recertification window opens 3 months before expiry. R-7.1.2: kept as a revision."""
    session = act.session
    audit = session.get(Audit, decision.audit_id)
    programme = session.get(AuditProgramme, audit.programme_id) if audit else None
    if programme is None:
        raise LookupError(f"decision {decision.id} has no audit programme")
    programme.cycle_start = decided_on
    programme.cycle_end = expires_on
    s1_due = surveillance_1_due(decided_on)
    session.add_all(
        [
            ProgrammeActivity(programme_id=programme.id, kind="surveillance_1", due_date=s1_due),
            ProgrammeActivity(
                programme_id=programme.id,
                kind="surveillance_2",
                due_date=surveillance_2_due(s1_due),
                hard_limit_date=surveillance_2_hard_limit(s1_due, decided_on, expires_on),
            ),
            ProgrammeActivity(
                programme_id=programme.id,
                kind="recertification",
                due_date=expires_on,
                window_opens_on=recertification_window_opens(expires_on),
            ),
        ]
    )
    record_process_revision(act, programme, "cycle_set")
