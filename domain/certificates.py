"""Certificate status and content changes (R-8.10.3, R-8.11, R-9.3, R-9.5, R-10.1, R-14, R-13).

Every change of a certificate's status or content writes a `CertificateEvent` (what, the rule,
why, who, when, the sites concerned) and sets `status_changed_on`; the public ones are announced
on the registry (`Announcement`, R-14). The handlers (`handlers/certificate_status.py`,
`handlers/certificate.py`, `handlers/surveillance.py`) decide *whether* a change is allowed;
this module says *what* a change writes, so that the history reads the same whoever made it.

Statuses: `valid` 有效, `suspended` 暂停 (full, or partial when `suspended_sites` is non-empty),
`withdrawn` 撤销, `cancelled` 注销 (public statuses); `superseded` — replaced by a reissued
certificate (R-9.3) or by the certificate of the next cycle (R-8.11).
"""

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from certflow.dates import china_date
from domain.documents import document_title
from domain.errors import RuleViolation
from domain.models import Announcement, Certificate, CertificateEvent
from domain.numbering import next_number

NUMBER_PREFIX = "CTC-SHFW"
HELD = ("valid", "suspended")  # the certificate is in force (R-9.5: 有效, 暂停)
ENDED = ("withdrawn", "cancelled", "superseded")

STATUS_LABELS = {
    "valid": "有效 valid",
    "suspended": "暂停 suspended",
    "withdrawn": "撤销 withdrawn",
    "cancelled": "注销 cancelled",
    "superseded": "已换发 superseded",
}

# R-9.5.1 (a)–(e): why a certificate is suspended.
SUSPENSION_REASONS: dict[str, tuple[str, str]] = {
    "a": (
        "未按期接受监督审查或无法取得联系",
        "surveillance not accepted on time, or the client cannot be reached",
    ),
    "b": ("监督审查表明不能满足所获星级要求", "surveillance shows the star level is not met"),
    "c": ("不正确使用认证证书或认证标志", "misuse of the certificate or the certification mark"),
    "d": ("经查实的严重投诉", "a substantiated serious complaint"),
    "e": ("未按规定缴纳认证费用", "certification fees not paid"),
}
# R-9.5.2 (a)–(e), R-8.10.3(c) and R-10.3 (misuse not corrected): why a certificate is withdrawn.
WITHDRAWAL_REASONS: dict[str, tuple[str, str]] = {
    "a": (
        "暂停期满未能完成整改或整改验证不合格",
        "the correction period of a suspension ended without success",
    ),
    "b": ("发生严重服务质量事故，损害顾客利益", "a serious quality accident harming customers"),
    "c": ("以欺骗等不正当手段获得认证证书", "the certificate was obtained by fraud"),
    "d": ("转让认证证书或认证标志", "the certificate or the mark was transferred"),
    "e": ("拒绝缴纳认证费用", "certification fees refused"),
    "below_lowest_level": (
        "监督审查整改后仍低于最低星级要求",
        "after correction the surveillance result is below the lowest star level",
    ),
    # misuse of the certificate or mark leads to withdrawal; published as what it is,
    # never as a transfer (R-9.5.2d).
    "misuse": (
        "不正确使用认证证书或认证标志",
        "misuse of the certificate or the certification mark",
    ),
}
# R-9.5.3 (a)–(c): why a certificate is cancelled.
CANCELLATION_REASONS: dict[str, tuple[str, str]] = {
    "a": (
        "认证依据变更，获证组织不能满足变更要求",
        "criteria changed and the client cannot meet them",
    ),
    "b": ("证书有效期届满，未申请再认证", "expired without a recertification request"),
    "c": ("获证组织申请注销", "the client gives the certificate up"),
}

# Fields a reissue may change (R-9.3; scope changes); the star level is a parameter.
# `standard` and `rules` are the criteria (R-9.3 change of the criteria, domain/criteria.py).
REISSUE_FIELDS = (
    "organisation_name",
    "organisation_address",
    "sites",
    "scope",
    "standard",
    "rules",
)
LEVELS = range(1, 6)


def suspension_rule(reason: str) -> str:
    return f"R-9.5.1{reason}"


def withdrawal_rule(reason: str) -> str:
    special = {"below_lowest_level": "R-8.10.3c", "misuse": "R-10.3"}
    return special.get(reason, f"R-9.5.2{reason}")


def cancellation_rule(reason: str) -> str:
    return f"R-9.5.3{reason}"


def reason_label(reasons: Mapping[str, tuple[str, str]], code: str) -> str:
    zh, en = reasons[code]
    return f"{zh} {en}"


def mark_for(star_level: int) -> str:
    return f"服务认证标志 {star_level}星"


def get_certificate(session: Session, certificate_id: Any) -> Certificate:
    """The certificate by id; LookupError when there is none (a modelling or data error)."""
    if isinstance(certificate_id, bool):
        raise ValueError(f"certificate_id: expected an id, got {certificate_id!r}")
    try:
        row_id = int(certificate_id)
    except (TypeError, ValueError) as err:
        raise ValueError(f"certificate_id: expected an id, got {certificate_id!r}") from err
    certificate = session.get(Certificate, row_id)
    if certificate is None:
        raise LookupError(f"certificate {certificate_id} not found")
    return certificate


def reissued_as(session: Session, certificate: Certificate) -> Certificate | None:
    """The certificate that replaced this one by a reissue within the same cycle (R-9.3): it
    points back with `replaces_id` and carries a change date. (The certificate of the next
    cycle also points back, but has no change date: it is not followed.)"""
    return session.scalars(
        select(Certificate)
        .where(Certificate.replaces_id == certificate.id, Certificate.changed_on.is_not(None))
        .order_by(Certificate.id.desc())
        .limit(1)
    ).first()


def current_certificate(session: Session, certificate: Certificate) -> Certificate:
    """The certificate in force for this one's cycle: follows reissues (a downgrade, a change of
    name, address or scope), so that a process started for the first certificate of the cycle
    (surveillance, suspension …) acts on the one the client holds now."""
    seen = {certificate.id}
    while (successor := reissued_as(session, certificate)) is not None:
        if successor.id in seen:  # pragma: no cover - a cycle in the data
            raise LookupError(f"certificate {certificate.id}: replacement chain loops")
        seen.add(successor.id)
        certificate = successor
    return certificate


def record_event(
    session: Session,
    certificate: Certificate,
    *,
    event: str,
    rule: str,
    actor: str,
    now: datetime,
    status_before: str | None,
    reason: str = "",
    sites: Iterable[int] = (),
    data: Mapping[str, Any] | None = None,
    effective_on: date | None = None,
) -> CertificateEvent:
    """One entry of the certificate's history (R-13: who, when, why; the rule applied)."""
    row = CertificateEvent(
        certificate_id=certificate.id,
        event=event,
        rule=rule,
        reason=reason,
        status_before=status_before,
        status_after=certificate.status,
        sites=list(sites),
        actor=actor,
        at=now,
        effective_on=effective_on or china_date(now),
        data=dict(data or {}),
    )
    session.add(row)
    session.flush()
    return row


def change_status(
    session: Session,
    certificate: Certificate,
    *,
    status: str,
    event: str,
    rule: str,
    actor: str,
    now: datetime,
    reason: str = "",
    mark_use_allowed: bool,
    suspended_sites: Iterable[int] = (),
    sites: Iterable[int] = (),
    data: Mapping[str, Any] | None = None,
) -> CertificateEvent:
    """Set the status (and what goes with it: mark use R-10.1, partial suspension R-9.5.1) and
    record the event."""
    before = certificate.status
    certificate.status = status
    certificate.mark_use_allowed = mark_use_allowed
    certificate.suspended_sites = list(suspended_sites)
    certificate.status_changed_on = china_date(now)
    return record_event(
        session,
        certificate,
        event=event,
        rule=rule,
        actor=actor,
        now=now,
        status_before=before,
        reason=reason,
        sites=sites,
        data=data,
    )


def publish(
    session: Session,
    certificate: Certificate,
    *,
    kind: str,
    now: datetime,
    lines: Iterable[str],
) -> Announcement:
    """A public announcement on the registry, published today (R-14; a suspension within 5
    days). Announcements state the clause, never the confidential detail of the case (R-11).
    Its title is its kind's, from the letters catalogue in the document language (the registry
    shows it again in the page's: `announcement_title`)."""
    announcement = Announcement(
        certificate_id=certificate.id,
        kind=kind,
        organisation_name=certificate.organisation_name,
        certificate_number=certificate.number,
        title=announcement_title(kind, certificate.organisation_name, certificate.number),
        body="\n".join(lines) + "\n",
        published_on=china_date(now),
        published_at=now,
    )
    session.add(announcement)
    session.flush()
    return announcement


def announcement_title(
    kind: str, organisation: str, number: str, *, locale: str | None = None
) -> str:
    """The title of an announcement of `kind` (issue 10: one language, from the letters
    catalogue, `domain/letters/_titles.md.j2`) in `locale` (None: the document language)."""
    return document_title(
        f"announcement_{kind}", locale=locale, organisation=organisation, number=number
    )


def site_names(certificate: Certificate, site_ids: Iterable[int]) -> list[str]:
    names = {site.get("id"): site.get("name", "") for site in certificate.sites or []}
    return [names.get(site_id, f"#{site_id}") for site_id in site_ids]


def certificate_reissue(
    session: Session,
    certificate: Certificate,
    *,
    star_level: int | None = None,
    changes: Mapping[str, Any] | None,
    actor: str,
    now: datetime,
    rule: str,
    event: str = "reissued",
    reason: str = "",
) -> Certificate:
    """R-9.3: a new certificate (new number) replacing `certificate`: it keeps the original issue
    date and the expiry date, is issued and changed today, and points back with `replaces_id`;
    the old one becomes `superseded` (its mark use ends, R-10.1). Both get an event: the new one
    `event` with `rule` (e.g. `downgraded`, R-8.10.3b), the old one `superseded` (R-9.3).

    `changes` sets any of REISSUE_FIELDS; `star_level` a new level (and mark). Only a valid
    certificate is reissued: a suspended one is restored or withdrawn first (the suspension's
    six-month limit and verification stay with the certificate that was suspended)."""
    changes = dict(changes or {})
    unknown = sorted(set(changes) - set(REISSUE_FIELDS))
    if unknown:
        raise ValueError(f"a reissue cannot change {unknown}; it changes {REISSUE_FIELDS}")
    if certificate.status != "valid":
        raise RuleViolation(
            "R-9.3",
            f"certificate {certificate.number} is {STATUS_LABELS.get(certificate.status)}: only a "
            "valid certificate is reissued (a suspended one is restored or withdrawn first)",
        )
    level = certificate.star_level if star_level is None else star_level
    if isinstance(level, bool) or not isinstance(level, int) or level not in LEVELS:
        raise RuleViolation("R-5", f"star level must be 1–5, got {level!r}")
    today = china_date(now)
    values = {field: changes.get(field, getattr(certificate, field)) for field in REISSUE_FIELDS}
    new = Certificate(
        number=next_number(session, Certificate.number, NUMBER_PREFIX, today.year),
        organisation_id=certificate.organisation_id,
        application_id=certificate.application_id,
        decision_id=certificate.decision_id,
        organisation_name=values["organisation_name"],
        organisation_address=values["organisation_address"],
        sites=list(values["sites"]),
        scope=values["scope"],
        star_level=level,
        standard=values["standard"],
        rules=values["rules"],
        issuing_body=certificate.issuing_body,
        signatory=certificate.signatory,
        signatory_title=certificate.signatory_title,
        issued_on=today,
        original_issued_on=certificate.original_issued_on,
        changed_on=today,
        expires_on=certificate.expires_on,
        status="valid",
        replaces_id=certificate.id,
        mark=mark_for(level),
        suspended_sites=[],
        mark_use_allowed=True,
        status_changed_on=today,
    )
    session.add(new)
    session.flush()
    changed = {
        field: {"from": getattr(certificate, field), "to": values[field]}
        for field in REISSUE_FIELDS
        if values[field] != getattr(certificate, field)
    }
    if level != certificate.star_level:
        changed["star_level"] = {"from": certificate.star_level, "to": level}
    record_event(
        session,
        new,
        event=event,
        rule=rule,
        actor=actor,
        now=now,
        status_before=None,
        reason=reason,
        data={"replaces_id": certificate.id, "replaces_number": certificate.number, **changed},
    )
    change_status(
        session,
        certificate,
        status="superseded",
        event="superseded",
        rule="R-9.3",
        actor=actor,
        now=now,
        reason=reason or f"换发为 reissued as {new.number}",
        mark_use_allowed=False,
        data={"replaced_by_id": new.id, "replaced_by_number": new.number, "because": rule},
    )
    return new
