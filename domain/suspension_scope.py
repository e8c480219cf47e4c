"""R-9.5.1 首认检测认证/CTC应根据上述不符合产生的原因，对客户的证书进行部分暂停或全部暂停的
处置，必要时应缩小证书范围: the scope reduction that ends a suspension of suspension.bpmn,
without Flask or the engine (docs/decisions.md, "Scope reduction during a suspension").

When the audit department verifies the client's corrections (Task_VerifySuspensionCorrection)
and they hold for the certificate's scope except some sites — the cause of the suspension
persists there — the certificate is not withdrawn: those sites leave the scope. The
suspension ends for the rest (restored, mark use allowed again, published, R-10.1, R-14) and
the certificate is reissued without them (same expiry date and original issue date, R-9.3); the
old certificate is cancelled and recalled as in a scope reduction on request (R-9.4.2) and the
reduced scope is published (R-14). At least one site stays: dropping every site is a
withdrawal (R-9.5.2a). In a partial suspension only suspended sites can be dropped.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from domain import certificate_status
from domain.certificates import certificate_reissue, change_status, publish
from domain.changes import SCOPE_REDUCED, site_entry
from domain.checks import optional_text
from domain.errors import RuleViolation
from domain.form_checks import CheckCase, form_check
from domain.letter_templates import render_letter
from domain.models import Certificate, Site
from domain.options import Choice, OptionContext, option_source

RULE = "R-9.5.1"
FIELD = "reduce_scope_sites"


def droppable_site_ids(certificate: Certificate) -> list[int]:
    """The sites a suspension's scope reduction may drop: the suspended ones of a partial
    suspension, else every site of the certificate."""
    certified = [s.get("id") for s in certificate.sites or [] if isinstance(s, Mapping)]
    suspended = list(certificate.suspended_sites or [])
    return [i for i in certified if i in suspended] if suspended else certified


def scope_reduction_problems(certificate: Certificate, accepted: Any, value: Any) -> list[int]:
    """The site ids to drop (checked), or a RuleViolation on the field. None or [] = none."""
    if value is None or value == []:
        return []
    if certificate.status != "suspended":
        raise RuleViolation(RULE, f"certificate {certificate.number} is not suspended", field=FIELD)
    if accepted is not True:
        raise RuleViolation(
            RULE,
            "the scope is reduced only when the corrections are accepted for the rest of the "
            "scope; not accepted at all means withdrawal (R-9.5.2a)",
            field=FIELD,
        )
    if not isinstance(value, list) or any(
        isinstance(v, bool) or not isinstance(v, int) for v in value
    ):
        raise RuleViolation(
            RULE, f"name the sites to drop by their ids, got {value!r}", field=FIELD
        )
    allowed = droppable_site_ids(certificate)
    wrong = [v for v in value if v not in allowed]
    if wrong:
        raise RuleViolation(
            RULE,
            f"sites {wrong} cannot be dropped from certificate {certificate.number}: only "
            f"{allowed} (the suspended sites, or every site of a full suspension)",
            field=FIELD,
        )
    dropped = sorted(set(value))
    certified = {s.get("id") for s in certificate.sites or [] if isinstance(s, Mapping)}
    if certified <= set(dropped):
        raise RuleViolation(
            RULE,
            "dropping every site leaves nothing certified: the certificate is withdrawn instead "
            "(R-9.5.2a)",
            field=FIELD,
        )
    return dropped


def reduce_scope(
    session: Session, *, certificate_id: int, sites: Any, note: Any, actor: str, now: datetime
) -> dict:
    """R-9.5.1: end the suspension by reducing the scope: the corrections were accepted except
    for `sites`; the certificate is restored (published), reissued without those sites (the
    old one cancelled and recalled) and the reduced scope published (R-14)."""
    old = certificate_status.current_of(session, certificate_id)
    dropped = scope_reduction_problems(old, True, sites)
    if not dropped:
        raise RuleViolation(RULE, "name the sites that leave the scope", field=FIELD)
    note = optional_text(note)
    restored = certificate_status.restore(
        session, certificate_id=old.id, note=note, actor=actor, now=now
    )
    removed = [session.get(Site, site_id) for site_id in dropped]
    reason = (
        "暂停期间整改后缩小认证范围 scope reduced after the suspension's corrections: "
        + "、".join(site.name for site in removed)
    )
    new = certificate_reissue(
        session,
        old,
        changes={"sites": [s for s in old.sites or [] if s.get("id") not in dropped]},
        actor=actor,
        now=now,
        rule=RULE,
        event="reissued",
        reason=reason,
    )
    for site in removed:
        site.active = False
    change_status(
        session,
        old,
        status="cancelled",
        event="cancelled",
        rule=RULE,
        actor=actor,
        now=now,
        reason=f"{reason}；原证书注销并收回，换发 {new.number} cancelled and recalled",
        mark_use_allowed=False,
        sites=dropped,
        data={
            "recalled": True,
            "removed_sites": [site_entry(site) for site in removed],
            "replaced_by_id": new.id,
            "replaced_by_number": new.number,
            "note": note,
        },
    )
    body = render_letter(
        "announcement_suspension_scope_reduced",
        old=old,
        new=new,
        sites_text="、".join(f"{site.name}（{site.address}）" for site in removed),
    )
    announcement = publish(
        session, new, kind=SCOPE_REDUCED, now=now, lines=body.removesuffix("\n").split("\n")
    )
    return {
        "certificate_id": new.id,
        "certificate_number": new.number,
        "replaced_certificate_id": old.id,
        "replaced_certificate_number": old.number,
        "removed_sites": dropped,
        "announcement_id": announcement.id,
        # a surveillance cycle waiting for the restoration catches up (suspension.bpmn).
        "surveillance_number": restored["surveillance_number"],
    }


@form_check("certificate.scope_reduction_fits")
def scope_reduction_fits(case: CheckCase) -> None:
    """Task_VerifySuspensionCorrection: the sites to drop, by the same rule as reduce_scope."""
    try:
        certificate = certificate_status.current_of(case.session, case.data.get("certificate_id"))
    except (LookupError, ValueError):
        return
    scope_reduction_problems(certificate, case.data.get("accepted"), case.data.get(FIELD))


@option_source("suspension_scope_sites", RULE)
def suspension_scope_sites(ctx: OptionContext) -> list[Choice]:
    """The sites the verification may drop from the suspended certificate's scope."""
    try:
        certificate = certificate_status.current_of(ctx.session, ctx.data.get("certificate_id"))
    except (LookupError, ValueError):
        return []
    choices = []
    for site_id in droppable_site_ids(certificate):
        site = ctx.session.get(Site, site_id)
        if site is not None:
            choices.append(Choice(site.id, f"{site.name}（{site.address}）"))
    return choices
