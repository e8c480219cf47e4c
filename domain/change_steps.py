"""The steps of certificate_change.bpmn (R-9.3, R-9.4.1, R-9.4.2): describe the certificate,
register, evaluate, refuse, prepare the audit of a new site and apply the change by reissuing the
certificate — without Flask or the engine; the request rules are in `domain/changes.py`."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from certflow.dates import china_date
from domain.certificates import STATUS_LABELS, certificate_reissue, change_status, publish
from domain.changes import (
    CHANGE_NOTICE_KIND,
    REFERENCE_PREFIX,
    REFUSAL_KIND,
    RULES,
    SCOPE_REDUCED,
    TEXT_FIELDS,
    TEXT_KINDS,
    Problems,
    access_problem,
    certificate_facts,
    current_of,
    get_change,
    kind_label,
    raise_first,
    refusal_reason,
    removed_site_problems,
    request_problems,
    site_entry,
)
from domain.checks import optional_text
from domain.criteria import CURRENT as CURRENT_CRITERIA
from domain.criteria import criteria_of, names_current_criteria
from domain.documents import create_document
from domain.errors import RuleViolation
from domain.letter_templates import render_letter
from domain.models import Attachment, Audit, Certificate, ChangeRequest, Organisation, Site
from domain.numbering import next_number
from domain.site_extension import granted, refusal_by_decision
from domain.surveillance import programme_of


def describe_certificate(
    session: Session, *, certificate_id: int, actor: str, business_key: str | None
) -> dict:
    """The certificate the client holds now (following reissues), for the request form: its
    number, name, address, scope, level and sites with their ids. R-11: only for a client of
    the certificate's organisation (or staff); names the instance after the certificate."""
    certificate = current_of(session, certificate_id)
    denied = access_problem(session, certificate, actor, business_key)
    if denied:
        raise RuleViolation("R-11", denied.removeprefix("R-11: "))
    return certificate_facts(certificate)


def register(
    session: Session,
    *,
    request: Mapping[str, Any],
    actor: str,
    business_key: str | None,
    now: datetime,
) -> dict:
    """R-9.3, R-9.4: register the client's request (reference BG-YYYY-NNNN, who, when, what)
    after checking it (the rules of `request_problems`). → `{"id", "reference",
    "needs_onsite_audit", ...}`; a new site needs an on-site audit (R-9.4.1)."""
    certificate = current_of(session, request["certificate_id"])
    raise_first(request_problems(session, certificate, request, actor, business_key))
    kind = request["kind"]
    today = china_date(now)
    details: dict[str, Any] = {
        "certificate_number": certificate.number,
        "reason": optional_text(request.get("reason")),
        "request_letter_file": request.get("request_letter_file"),
        "held_level": certificate.star_level,
    }
    if kind in TEXT_KINDS:
        details["new_value"] = optional_text(request.get("new_value"))
        details["old_value"] = getattr(certificate, TEXT_FIELDS[kind])
    elif kind == "downgrade":
        details["new_star_level"] = request["new_star_level"]
    elif kind == "criteria":  # the criteria the certificate names and the new ones
        details["old_criteria"] = criteria_of(certificate).as_dict()
        details["new_criteria"] = CURRENT_CRITERIA.as_dict()
    elif kind == "add_site":
        site = request["site"]
        details["site"] = {
            "name": optional_text(site.get("name")),
            "address": optional_text(site.get("address")),
            "is_fixed": site.get("is_fixed"),
        }
    else:
        site = session.get(Site, request["site_id"])
        details["site_id"] = site.id
        details["site"] = site_entry(site)
    letter_id = request.get("request_letter_file")
    if letter_id is not None:
        letter = session.get(Attachment, letter_id)
        letter.organisation_id = certificate.organisation_id
    change = ChangeRequest(
        reference=next_number(session, ChangeRequest.reference, REFERENCE_PREFIX, today.year),
        certificate_id=certificate.id,
        organisation_id=certificate.organisation_id,
        kind=kind,
        details=details,
        requested_by=actor,
        requested_at=now,
        status="requested",
    )
    session.add(change)
    session.flush()
    return {
        "id": change.id,
        "reference": change.reference,
        "kind": kind,
        "needs_onsite_audit": kind == "add_site",
        "certificate_id": certificate.id,
        "certificate_number": certificate.number,
    }


def evaluate(
    session: Session, *, change_id: int, approved: Any, evaluation: Any, actor: str, now: datetime
) -> dict:
    """R-9.3: the CB evaluates the request: approved or refused, the evaluation (required either
    way), by whom and when (R-13). Only a valid certificate's change is approved."""
    change = get_change(session, change_id)
    if change.status != "requested":
        raise RuleViolation(
            "R-9.3",
            f"change {change.reference} is {change.status}: it was evaluated already "
            f"(by {change.evaluated_by})",
        )
    if not isinstance(approved, bool):
        raise RuleViolation("R-9.3", f"approved must be true or false, got {approved!r}")
    evaluation = optional_text(evaluation)
    if not evaluation:
        raise RuleViolation("R-9.3", "the evaluation is required (what was checked, and why)")
    if approved:
        certificate = current_of(session, change.certificate_id)
        if certificate.status != "valid":
            raise RuleViolation(
                "R-9.3",
                f"certificate {certificate.number} is {STATUS_LABELS.get(certificate.status)}: "
                "a change of it cannot be approved (refuse it, or restore the certificate first)",
            )
    change.status = "approved" if approved else "refused"
    change.evaluation = evaluation
    change.evaluated_by = actor
    change.evaluated_at = now
    return {"approved": approved, "status": change.status, "reference": change.reference}


def notify_refusal(session: Session, *, change_id: int, actor: str, now: datetime) -> dict:
    """R-9.3: the written notice that the change is refused — after the evaluation, or because
    the on-site audit of a new site did not meet the held level or was terminated (R-9.4.1; the
    site stays out of the certificate). The certificate is unchanged."""
    change = get_change(session, change_id)
    if change.status not in ("refused", "approved"):
        raise RuleViolation("R-9.3", f"change {change.reference} is {change.status}")
    reason, facts = refusal_by_decision(change) or refusal_reason(session, change)
    change.status = "refused"
    certificate = current_of(session, change.certificate_id)
    details = dict(change.details or {})
    document = create_document(
        session,
        kind=REFUSAL_KIND,
        title_facts={"reference": change.reference},
        body=render_letter(
            "change_refusal_notice",
            change=change,
            certificate=certificate,
            kind_label=kind_label(change.kind),
            requested_on=china_date(change.requested_at).isoformat(),
            reason=reason,
        ),
        organisation_id=change.organisation_id,
        application_id=certificate.application_id,
        audit_id=change.audit_id,
        data={
            "change_reference": change.reference,
            "kind": change.kind,
            "certificate_number": certificate.number,
            "reason": reason,
            **facts,
        },
        created_by=actor,
        now=now,
    )
    details["refusal"] = {"reason": reason, "document_id": document.id, **facts}
    change.details = details
    return {"document_id": document.id, "status": change.status}


def prepare_site_audit(session: Session, *, change_id: int) -> dict:
    """R-9.4.1: a new site is audited on site as for an initial audit before it joins the
    certificate: the site is recorded (inactive until the change is applied) and a special
    `Audit` of the certificate is created (no dates yet: the appointment sets them).
    → `site_audit` = `{"audit_id", "application_id", "organisation_id", "programme_id",
    "certificate_id", "held_level", "site_id", "site_name"}`."""
    change = get_change(session, change_id)
    if change.kind != "add_site" or change.status != "approved":
        raise RuleViolation(
            "R-9.4.1",
            f"change {change.reference} ({change.kind}, {change.status}) is not an approved new "
            "site",
        )
    if change.audit_id is not None:
        raise RuleViolation(
            "R-9.4.1", f"change {change.reference} has its site audit already ({change.audit_id})"
        )
    certificate = current_of(session, change.certificate_id)
    if certificate.status != "valid":
        raise RuleViolation(
            "R-9.4.1",
            f"certificate {certificate.number} is {STATUS_LABELS.get(certificate.status)}",
        )
    details = dict(change.details or {})
    wanted = details["site"]
    site = Site(
        organisation_id=certificate.organisation_id,
        name=wanted["name"],
        address=wanted["address"],
        is_fixed=wanted["is_fixed"],
        active=False,  # certified only when the change is applied
    )
    session.add(site)
    programme = programme_of(session, certificate)
    audit = Audit(
        programme_id=programme.id,
        application_id=certificate.application_id,
        organisation_id=certificate.organisation_id,
        kind="special",
        certificate_id=certificate.id,
        scope=f"扩大认证范围：新增服务场所 {site.name} scope extension: new site {site.name}",
        status="planned",
    )
    session.add(audit)
    session.flush()
    details["site_id"] = site.id
    change.details = details
    change.audit_id = audit.id
    return {
        "audit_id": audit.id,
        "application_id": audit.application_id,
        "organisation_id": audit.organisation_id,
        "programme_id": programme.id,
        "certificate_id": certificate.id,
        "held_level": certificate.star_level,
        "site_id": site.id,
        "site_name": site.name,
    }


def _audited_site(session: Session, change: ChangeRequest, certificate: Certificate) -> Site:
    """R-9.4.1: the new site passed its on-site audit: completed, at least the held level, the
    site in the audit plan."""
    audit = session.get(Audit, change.audit_id) if change.audit_id else None
    site_id = (change.details or {}).get("site_id")
    site = session.get(Site, site_id) if site_id else None
    if audit is None or site is None:
        raise RuleViolation("R-9.4.1", f"change {change.reference}: the new site was not audited")
    if audit.status != "completed" or (audit.star_level_achieved or 0) < certificate.star_level:
        raise RuleViolation(
            "R-9.4.1",
            f"the on-site audit of {site.name} is {audit.status} at level "
            f"{audit.star_level_achieved}; the held level is {certificate.star_level}",
        )
    planned = {activity.get("site") for activity in (audit.plan or {}).get("activities", [])}
    if site.id not in planned:
        raise RuleViolation("R-9.4.1", f"the audit plan of audit {audit.id} omits {site.name}")
    return site


def _reissue(
    session: Session, actor: str, now: datetime, change: ChangeRequest, certificate: Certificate
) -> tuple[Certificate, Site | None]:
    """The new certificate for the change (and the site it adds or drops)."""
    details = change.details or {}
    kind, rule = change.kind, RULES[change.kind]
    reason = f"{change.reference} {kind_label(kind)}"
    star_level, changes, event, site = None, {}, "reissued", None
    organisation = session.get(Organisation, certificate.organisation_id)
    if kind in TEXT_KINDS:
        changes[TEXT_FIELDS[kind]] = details["new_value"]
        if kind == "name":
            organisation.name = details["new_value"]
        elif kind == "address":
            organisation.address = details["new_value"]
    elif kind == "downgrade":
        level = details["new_star_level"]
        if level >= certificate.star_level:
            raise RuleViolation(
                "R-9.3", f"level {level} is not below the held level {certificate.star_level}"
            )
        star_level, event = level, "downgraded"
    elif kind == "criteria":  # reissued naming the current criteria (checked again)
        if names_current_criteria(certificate):
            raise RuleViolation(
                "R-9.3", f"certificate {certificate.number} already names the current criteria"
            )
        changes.update(CURRENT_CRITERIA.as_dict())
    elif kind == "add_site":
        if not granted(change):  # as initial certification, never an automatic step
            raise RuleViolation(
                "R-9.4.1",
                f"change {change.reference}: the new site has no granting decision (R-8.8)",
            )
        site = _audited_site(session, change, certificate)
        site.active = True
        changes["sites"] = [*(certificate.sites or []), site_entry(site)]
    else:  # remove_site
        problems: Problems = {}
        removed_site_problems(problems, session, certificate, details["site_id"])
        raise_first(problems)
        site = session.get(Site, details["site_id"])
        site.active = False
        changes["sites"] = [s for s in certificate.sites or [] if s.get("id") != site.id]
    new = certificate_reissue(
        session,
        certificate,
        star_level=star_level,
        changes=changes,
        actor=actor,
        now=now,
        rule=rule,
        event=event,
        reason=reason,
    )
    return new, site


def apply(session: Session, *, change_id: int, actor: str, now: datetime) -> dict:
    """R-9.3, R-9.4.1, R-9.4.2: apply an approved change by reissuing the certificate (original
    issue date kept, change date today, the old one superseded and linked, events on both).
    A dropped site (R-9.4.2): the old certificate is cancelled and recalled (event `cancelled`,
    rule R-9.4.2) and the new one issued; a scope reduction and a downgrade are published
    (R-14). The client gets a written notice of the new certificate."""
    change = get_change(session, change_id)
    if change.status != "approved":
        raise RuleViolation(
            "R-9.3", f"change {change.reference} is {change.status}: only an approved change"
        )
    old = current_of(session, change.certificate_id)
    new, site = _reissue(session, actor, now, change, old)
    announcement = None
    if change.kind == "remove_site":
        change_status(
            session,
            old,
            status="cancelled",
            event="cancelled",
            rule="R-9.4.2",
            actor=actor,
            now=now,
            reason=(
                f"缩小认证范围（{site.name}），原证书注销并收回，换发 {new.number} scope reduced "
                f"({site.name}): the certificate is cancelled and recalled, replaced by "
                f"{new.number}"
            ),
            mark_use_allowed=False,
            sites=[site.id],
            data={
                "recalled": True,
                "change_reference": change.reference,
                "removed_site": site_entry(site),
                "replaced_by_id": new.id,
                "replaced_by_number": new.number,
            },
        )
        announcement = _announce_scope_reduced(session, now, old, new, site)
    elif change.kind == "downgrade":
        announcement = _announce_downgrade(session, now, old, new)
    notice = _change_notice(session, actor, now, change, old, new, site)
    change.status = "completed"
    change.new_certificate_id = new.id
    change.details = {**(change.details or {}), "notice_document_id": notice.id}
    return {
        "certificate_id": new.id,
        "certificate_number": new.number,
        "replaced_certificate_id": old.id,
        "replaced_certificate_number": old.number,
        "replaced_status": old.status,
        "original_issued_on": new.original_issued_on.isoformat(),
        "changed_on": new.changed_on.isoformat(),
        "star_level": new.star_level,
        "site_id": site.id if site is not None else None,
        "announcement_id": announcement.id if announcement is not None else None,
        "document_id": notice.id,
    }


def _announce(session: Session, now: datetime, new: Certificate, kind: str, **facts):
    """Publish `domain/letters/announcement_change_<kind>.md.j2` on the registry (R-14)."""
    body = render_letter(f"announcement_change_{kind}", new=new, **facts)
    return publish(session, new, kind=kind, now=now, lines=body.removesuffix("\n").split("\n"))


def _announce_downgrade(session: Session, now: datetime, old: Certificate, new: Certificate):
    return _announce(session, now, new, "downgraded", old=old)


def _announce_scope_reduced(
    session: Session, now: datetime, old: Certificate, new: Certificate, site: Site
):
    return _announce(session, now, new, SCOPE_REDUCED, old=old, site=site)


def _change_notice(
    session: Session,
    actor: str,
    now: datetime,
    change: ChangeRequest,
    old: Certificate,
    new: Certificate,
    site: Site | None,
):
    return create_document(
        session,
        kind=CHANGE_NOTICE_KIND,
        title_facts={"reference": new.number},
        body=render_letter(
            "certificate_change_notice",
            change=change,
            old=old,
            new=new,
            kind_label=kind_label(change.kind),
        ),
        organisation_id=new.organisation_id,
        application_id=new.application_id,
        audit_id=change.audit_id,
        data={
            "change_reference": change.reference,
            "kind": change.kind,
            "new_certificate": new.number,
            "replaced_certificate": old.number,
            "replaced_status": old.status,
            "recall": change.kind == "remove_site",
            "site_id": site.id if site is not None else None,
        },
        created_by=actor,
        now=now,
    )
