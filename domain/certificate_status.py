"""Suspension, restoration, withdrawal and cancellation of a certificate (R-9.5.1, R-9.5.2,
R-9.5.3, R-10.1, R-14) — the rules of suspension.bpmn, withdrawal.bpmn and cancellation.bpmn
(docs/certificate-lifecycle.md), without Flask or the engine.

Transitions (anything else is a `RuleViolation` naming the rule):

    valid ──suspend──▶ suspended ──restore──▶ valid
    valid | suspended ──withdraw──▶ withdrawn      (reason a only from suspended)
    valid | suspended ──cancel────▶ cancelled

Each writes a `CertificateEvent` (rule `R-9.5.1<reason>` …, reason/detail, sites, actor, the
China date it takes effect), sets `status_changed_on` and mark use (R-10.1: it stops on a full
suspension, a withdrawal and a cancellation), and publishes an `Announcement` the same day
(R-14; a suspension within 5 days). A process started for the first certificate of a cycle acts
on its current reissue (domain.certificates.current_certificate).
"""

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from certflow.dates import china_date, last_day_of_days, last_day_of_months, limit_timer
from domain import suspension_joining
from domain.certificates import (
    CANCELLATION_REASONS,
    HELD,
    STATUS_LABELS,
    SUSPENSION_REASONS,
    WITHDRAWAL_REASONS,
    cancellation_rule,
    change_status,
    current_certificate,
    get_certificate,
    publish,
    reason_label,
    site_names,
    suspension_rule,
    withdrawal_rule,
)
from domain.checks import optional_text
from domain.contract_fees import require_fees_paid
from domain.errors import RuleViolation
from domain.letter_templates import render_letter
from domain.models import Certificate, CertificateEvent

MAX_SUSPENSION_MONTHS = 6  # a suspension lasts at most 6 months


def current_of(session: Session, certificate_id: Any) -> Certificate:
    """The current certificate of `certificate_id` (following reissues)."""
    return current_certificate(session, get_certificate(session, certificate_id))


def checked_max_months(months: int) -> int:
    """R-9.5.1: the configured suspension period, refused beyond 6 months."""
    if months > MAX_SUSPENSION_MONTHS:
        raise ValueError(
            f"setting SUSPENSION_MAX_MONTHS is {months}: R-9.5.1 allows at most "
            f"{MAX_SUSPENSION_MONTHS} months"
        )
    return months


def announce(session: Session, certificate: Certificate, *, kind: str, now: datetime, **facts):
    """Publish the announcement `domain/letters/announcement_<kind>.md.j2` (R-14)."""
    body = render_letter(f"announcement_{kind}", certificate=certificate, **facts)
    lines = body.removesuffix("\n").split("\n")
    return publish(session, certificate, kind=kind, now=now, lines=lines)


def _result(certificate: Certificate) -> dict:
    return {
        "certificate_id": certificate.id,
        "certificate_number": certificate.number,
        "status": certificate.status,
    }


def _reason(reasons: dict, value: Any, rule: str, what: str) -> str:
    if not isinstance(value, str) or value not in reasons:
        raise RuleViolation(rule, f"{what} reason must be one of {list(reasons)}, got {value!r}")
    return value


def _refuse(certificate: Certificate, rule: str, doing: str, allowed: tuple[str, ...]) -> None:
    if certificate.status not in allowed:
        labels = "/".join(STATUS_LABELS[status] for status in allowed)
        raise RuleViolation(
            rule,
            f"certificate {certificate.number} is {STATUS_LABELS.get(certificate.status)}: "
            f"cannot {doing} (only a {labels} certificate)",
        )


def _event_reason(reasons: dict, code: str, detail: str) -> str:
    return detail or reason_label(reasons, code)


def _site_id(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"sites: expected an id, got {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"sites: expected an id, got {value!r}") from err


def _suspended_site_ids(certificate: Certificate, value: Any) -> list[int]:
    """R-9.5.1: a partial suspension names sites of the certificate; none (or all of them)
    is a full suspension, recorded with no site list."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise RuleViolation("R-9.5.1", f"sites must be a list of site ids, got {value!r}")
    certified = [site.get("id") for site in certificate.sites or []]
    chosen: list[int] = []
    for raw in value:
        site_id = _site_id(raw)
        if site_id not in certified:
            raise RuleViolation(
                "R-9.5.1",
                f"site {site_id} is not covered by certificate {certificate.number} "
                f"(sites {certified})",
            )
        if site_id not in chosen:
            chosen.append(site_id)
    return [] if set(chosen) == set(certified) else sorted(chosen)


def _latest_suspension(session: Session, certificate: Certificate) -> CertificateEvent | None:
    return session.scalars(
        select(CertificateEvent)
        .where(
            CertificateEvent.certificate_id == certificate.id,
            CertificateEvent.event == "suspended",
        )
        .order_by(CertificateEvent.at.desc(), CertificateEvent.id.desc())
        .limit(1)
    ).first()


def suspend(
    session: Session,
    *,
    certificate_id: int,
    reason: Any,
    sites: Any,
    detail: Any,
    correction_days: int,
    max_months: int,
    actor: str,
    now: datetime,
    surveillance_number: Any = None,
) -> dict:
    """R-9.5.1: suspend a valid certificate, fully or for some sites; the client corrects by the
    deadline; after at most 6 months an unresolved suspension ends in a withdrawal. Already
    suspended: the reason joins the open suspension (`joined`, domain/suspension_joining.py)."""
    certificate = current_of(session, certificate_id)
    reason = _reason(SUSPENSION_REASONS, reason, "R-9.5.1", "a suspension")
    _refuse(certificate, "R-9.5.1", "suspend it", ("valid", "suspended"))
    sites = _suspended_site_ids(certificate, sites)
    detail = optional_text(detail)
    if certificate.status == "suspended":
        joined = suspension_joining.add_reason(
            session,
            certificate,
            _latest_suspension(session, certificate),
            reason=reason,
            sites=sites,
            detail=detail,
            surveillance_number=surveillance_number,
            actor=actor,
            now=now,
        )
        if joined["widened"]:
            announce(
                session,
                certificate,
                kind="suspended",
                now=now,
                today=joined["today"],
                clause=f"{joined['rule']} {reason_label(SUSPENSION_REASONS, reason)}",
                site_names=", ".join(site_names(certificate, joined["sites"]))
                if joined["partial"]
                else None,
            )
        return {**joined, **_result(certificate)}
    partial = bool(sites)
    today = china_date(now)
    # the suspension lasts at most `max_months` from today (its last day is `ends_on`,
    # the withdrawal acts the day after); the correction period is inside it.
    ends_on = last_day_of_months(today, checked_max_months(max_months))
    correction_deadline = min(last_day_of_days(today, correction_days), ends_on)
    six_months_at = limit_timer(ends_on)
    # R-9.5.2(a): nothing corrected when the correction period is over → withdrawal, its timer.
    correction_deadline_at = limit_timer(correction_deadline)
    rule = suspension_rule(reason)
    change_status(
        session,
        certificate,
        status="suspended",
        event="suspended",
        rule=rule,
        actor=actor,
        now=now,
        reason=_event_reason(SUSPENSION_REASONS, reason, detail),
        # Partial: the mark may still be used for the other sites; full: all use stops.
        mark_use_allowed=partial,
        suspended_sites=sites,
        sites=sites,
        data={
            "reason": reason,
            "detail": detail,
            "partial": partial,
            "correction_deadline": correction_deadline.isoformat(),
            "correction_deadline_at": correction_deadline_at,
            "six_months_at": six_months_at,
            "ends_on": ends_on.isoformat(),
            "surveillance_number": surveillance_number,
        },
    )
    announce(
        session,
        certificate,
        kind="suspended",
        now=now,
        today=today.isoformat(),
        clause=f"{rule} {reason_label(SUSPENSION_REASONS, reason)}",
        site_names=", ".join(site_names(certificate, sites)) if partial else None,
    )
    return {
        "correction_deadline": correction_deadline.isoformat(),
        "correction_deadline_at": correction_deadline_at,
        "six_months_at": six_months_at,
        "partial": partial,
        "sites": sites,
        "joined": False,
        **_result(certificate),
    }


def restore(session: Session, *, certificate_id: int, note: Any, actor: str, now: datetime) -> dict:
    """R-9.5.1: the corrections were verified: the suspension ends, the mark may be used again
    (R-10.1), the restoration is published (R-14). Not after the suspension's 6 months: then
    the certificate is withdrawn (R-9.5.2a)."""
    certificate = current_of(session, certificate_id)
    _refuse(certificate, "R-9.5.1", "restore it", ("suspended",))
    suspension = _latest_suspension(session, certificate)
    ends_at = (suspension.data or {}).get("six_months_at") if suspension else None
    if ends_at and now >= datetime.fromisoformat(ends_at):
        raise RuleViolation(
            "R-9.5.1",
            f"certificate {certificate.number} has been suspended for the maximum period (until "
            f"{ends_at}): it is withdrawn, not restored (R-9.5.2a)",
        )
    require_fees_paid(session, certificate, china_date(now))  # R-9.5.1e: paying corrects
    note = optional_text(note)
    sites = list(certificate.suspended_sites or [])
    change_status(
        session,
        certificate,
        status="valid",
        event="restored",
        rule="R-9.5.1",
        actor=actor,
        now=now,
        reason=note or "整改验证通过 corrections verified",
        mark_use_allowed=True,
        sites=sites,
        data={"note": note, "suspended_on": suspension.effective_on.isoformat()}
        if suspension
        else {"note": note},
    )
    announce(
        session,
        certificate,
        kind="restored",
        now=now,
        today=china_date(now).isoformat(),
    )
    # a surveillance cycle that suspended it (itself or as a reason added) catches up.
    waiting = suspension_joining.waiting_surveillance(session, suspension)
    return {**_result(certificate), "surveillance_number": waiting}


def withdraw(
    session: Session, *, certificate_id: int, reason: Any, detail: Any, actor: str, now: datetime
) -> dict:
    """R-9.5.2 (a)–(e), R-8.10.3(c): withdraw a valid or suspended certificate; all use of the
    certificate and the mark ends (R-10.1); published (R-14). Reason (a) — the correction period
    ended without success — follows a suspension."""
    certificate = current_of(session, certificate_id)
    reason = _reason(WITHDRAWAL_REASONS, reason, "R-9.5.2", "a withdrawal")
    rule = withdrawal_rule(reason)
    _refuse(certificate, rule, "withdraw it", HELD)
    if reason == "a" and certificate.status != "suspended":
        raise RuleViolation(
            rule,
            f"certificate {certificate.number} is not suspended: reason (a) — the correction "
            "period of a suspension ended — does not apply",
        )
    detail = optional_text(detail)
    _end(session, actor, now, certificate, "withdrawn", rule, WITHDRAWAL_REASONS, reason, detail)
    return _result(certificate)


def cancel(
    session: Session, *, certificate_id: int, reason: Any, detail: Any, actor: str, now: datetime
) -> dict:
    """R-9.5.3 (a)–(c): cancel a valid or suspended certificate; all use of the certificate and
    the mark ends (R-10.1); published (R-14)."""
    certificate = current_of(session, certificate_id)
    reason = _reason(CANCELLATION_REASONS, reason, "R-9.5.3", "a cancellation")
    rule = cancellation_rule(reason)
    _refuse(certificate, rule, "cancel it", HELD)
    detail = optional_text(detail)
    _end(session, actor, now, certificate, "cancelled", rule, CANCELLATION_REASONS, reason, detail)
    return _result(certificate)


def _end(
    session: Session,
    actor: str,
    now: datetime,
    certificate: Certificate,
    status: str,
    rule: str,
    reasons: dict,
    reason: str,
    detail: str,
) -> None:
    """The certificate ends (withdrawn or cancelled): every use ends and it is published."""
    change_status(
        session,
        certificate,
        status=status,
        event=status,
        rule=rule,
        actor=actor,
        now=now,
        reason=_event_reason(reasons, reason, detail),
        mark_use_allowed=False,  # the whole certificate ends, every site
        data={
            "reason": reason,
            "detail": detail,
            "mark_use": "ended (R-10.1)",
            "suspended_sites_before": list(certificate.suspended_sites or []),
        },
    )
    announce(
        session,
        certificate,
        kind=status,
        now=now,
        today=china_date(now).isoformat(),
        clause=f"{rule} {reason_label(reasons, reason)}",
    )
