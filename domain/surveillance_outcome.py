"""The outcome of a surveillance audit (R-8.10.3, R-8.8, R-9.3): maintain, downgrade (a
reissue), suspend or withdraw — the steps of surveillance_audit.bpmn after the audit, without
Flask or the engine; the outcome rules are in `domain/surveillance.py`."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.audit.common import require_status
from domain.audit.rescoring import rescored_level_problem
from domain.certificates import certificate_reissue, publish, record_event
from domain.checks import optional_text, require_id, require_int
from domain.errors import RuleViolation
from domain.letter_templates import render_letter
from domain.models import Audit, Certificate, ProgrammeActivity
from domain.surveillance import (
    OUTCOME_MESSAGE_REASONS,
    certificate_in_force,
    iso_or_none,
    outcome_problem,
    require_no_outcome,
    require_surveillance_audit_of,
    uncorrected_nonconformities,
)


def get_audit(session: Session, audit_id: Any) -> Audit:
    audit = session.get(Audit, require_id(audit_id, "audit_id"))
    if audit is None:
        raise LookupError(f"audit {audit_id} not found")
    return audit


def _close(session: Session, audit: Audit, actor: str, now: datetime, outcome: dict) -> None:
    """Record the outcome on the audit (R-13: who, when) and complete its programme activity."""
    audit.conclusion_notes = {
        **(audit.conclusion_notes or {}),
        "surveillance_outcome": {
            **outcome,
            "decided_by": actor,
            "decided_at": now.isoformat(),
        },
    }
    for activity in session.scalars(
        select(ProgrammeActivity).where(ProgrammeActivity.audit_id == audit.id)
    ):
        activity.status = "completed"


def maintain(
    session: Session, *, certificate_id: int, audit_id: int, actor: str, now: datetime
) -> dict:
    """R-8.10.3(1): the surveillance audit met the held level: the certificate is maintained
    (event `maintained`); the programme activity is done."""
    certificate = certificate_in_force(session, certificate_id, "R-8.10.3", "maintain it")
    audit = get_audit(session, audit_id)
    require_surveillance_audit_of(session, certificate, audit)
    require_status(audit, ["completed"], "R-8.10.3", "maintain the certificate")
    require_no_outcome(audit)
    achieved = audit.star_level_achieved
    if achieved is None or achieved < certificate.star_level:
        raise RuleViolation(
            "R-8.10.3",
            f"audit {audit.id} reached level {achieved}, below the held level "
            f"{certificate.star_level}: the client corrects first, then the outcome is decided",
        )
    if open_ncs := uncorrected_nonconformities(session, audit):
        raise RuleViolation(
            "R-8.7",
            f"the recorded nonconformities are corrected and verified before the certificate "
            f"is maintained: {', '.join(open_ncs)} still open",
        )
    record_event(
        session,
        certificate,
        event="maintained",
        rule="R-8.10.3",
        actor=actor,
        now=now,
        status_before=certificate.status,
        reason=f"监督审查达到 {achieved} 星 surveillance audit reached level {achieved}",
        data={"audit_id": audit.id, "star_level_achieved": achieved},
    )
    _close(session, audit, actor, now, {"outcome": "maintain", "reassessed_star_level": achieved})
    return {
        "certificate_id": certificate.id,
        "certificate_number": certificate.number,
        "status": certificate.status,
        "star_level": certificate.star_level,
    }


def record_outcome(
    session: Session,
    *,
    certificate_id: int,
    audit_id: int,
    outcome: Any,
    reassessed_star_level: Any,
    reasons: Any,
    took_part: Callable[[int], bool],
    actor: str,
    now: datetime,
) -> dict:
    """R-8.10.3 after the client's corrections were verified: (a) level met → maintain; (b)
    below the held level but at least 1 star → downgrade (the certificate is reissued with the
    reassessed level, R-9.3) or suspend; (c) below the lowest level → withdraw. Suspend and
    withdraw are only recorded here: the diagram throws `suspend_certificate` (reason b) or
    `withdraw_certificate` (reason below_lowest_level), whose processes change the status.
    `took_part(application_id)`: whether the actor audited the application (R-8.8)."""
    certificate = certificate_in_force(
        session, certificate_id, "R-8.10.3", "record a surveillance outcome"
    )
    audit = get_audit(session, audit_id)
    require_surveillance_audit_of(session, certificate, audit)
    require_status(audit, ["completed"], "R-8.10.3", "record the surveillance outcome")
    require_no_outcome(audit)
    if took_part(certificate.application_id):
        raise RuleViolation(
            "R-8.8",
            f"{actor} took part in an audit of this certificate and may not decide its outcome",
        )
    reassessed = require_int(reassessed_star_level, "reassessed_star_level", "R-5", minimum=0)
    if reassessed > 5:
        raise RuleViolation("R-5", f"reassessed_star_level must be 0–5, got {reassessed}")
    if rescore_problem := rescored_level_problem(audit, reassessed):
        raise RuleViolation("R-8.10.3", rescore_problem)
    held = certificate.star_level
    problem = outcome_problem(
        held, reassessed, outcome, bool(uncorrected_nonconformities(session, audit))
    )
    if problem:
        raise RuleViolation("R-8.10.3", problem)
    reasons = optional_text(reasons)
    if outcome != "maintain" and not reasons:
        raise RuleViolation("R-8.10.3", f"a {outcome} outcome needs the reasons")
    current = certificate
    if outcome == "maintain":
        record_event(
            session,
            certificate,
            event="maintained",
            rule="R-8.10.3a",
            actor=actor,
            now=now,
            status_before=certificate.status,
            reason=reasons or f"整改后达到 {reassessed} 星 level {reassessed} met after correction",
            data={"audit_id": audit.id, "reassessed_star_level": reassessed},
        )
    elif outcome == "downgrade":
        current = certificate_reissue(
            session,
            certificate,
            star_level=reassessed,
            changes={},
            actor=actor,
            now=now,
            rule="R-8.10.3b",
            event="downgraded",
            reason=reasons,
        )
        _announce_downgrade(session, now, certificate, current)
    outcome_record = {
        "outcome": outcome,
        "reassessed_star_level": reassessed,
        "held_level": held,
        "reasons": reasons,
        "certificate_id": current.id,
    }
    _close(session, audit, actor, now, outcome_record)
    return {
        "outcome": outcome,
        "reassessed_star_level": reassessed,
        "held_level": held,
        "certificate_id": current.id,
        "certificate_number": current.number,
        "star_level": current.star_level,
        "replaced_certificate_id": certificate.id if current is not certificate else None,
        "reason": OUTCOME_MESSAGE_REASONS.get(outcome),
        "detail": reasons,
    }


def _announce_downgrade(
    session: Session, now: datetime, old: Certificate, new: Certificate
) -> None:
    body = render_letter(
        "announcement_downgraded", old=old, new=new, changed_on=iso_or_none(new.changed_on)
    )
    publish(
        session,
        new,
        kind="downgraded",
        now=now,
        lines=body.removesuffix("\n").split("\n"),
    )
