"""Option sources of the audit (issue 10): auditors for the team appointment (R-7.2), the team's
members (R-7.3 plan, R-8.4 training), the client's sites (R-7.3) and the audit's
nonconformities (R-8.7). Refusals come from the rules the handlers enforce (domain.team,
domain.audit), never from a copy of them.
"""

from datetime import date
from typing import Any

from sqlalchemy import select

from certflow.dates import china_date
from domain.audit.common import active_sites, team_auditor_ids
from domain.models import Audit, Auditor, AuditTeamMember, Nonconformity, Site
from domain.nonconformity import AWAITING_ANSWER, AWAITING_VERIFICATION, nonconformities_of
from domain.options import Choice, OptionContext, option_source
from domain.said import joined
from domain.shifts import programme_shifts
from domain.team import (
    FIELD,
    Nominee,
    impartiality_flags,
    member_refusals,
    sole_auditor_refusals,
)

NC_LABEL_CHARS = 80


def audit_of(ctx: OptionContext) -> Audit | None:
    """The audit the task's data names (``audit_id``), if any."""
    audit_id = ctx.data.get("audit_id")
    if isinstance(audit_id, bool) or not isinstance(audit_id, int) or not 0 < audit_id < 2**31:
        return None
    return ctx.session.get(Audit, audit_id)


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


# -- the team appointment (R-7.2.1–) ---------------------------------------------------
@option_source("auditors", "R-7.2.2")
def auditors(ctx: OptionContext) -> list[Choice]:
    """Every auditor and technical expert of HR's records. Refused (disabled): what team.appoint
    refuses for a member whatever the team — no registration, a registration that ends before
    the last on-site day (the form's date, else the audit's, else today). Shown: registration
    and its validity, field competence, leader qualification, whether the person may audit
    alone (R-7.2.3) and the impartiality flags (R-7.2.1(5)) team.appoint records."""
    audit = audit_of(ctx)
    onsite_start = _day(ctx.data.get("onsite_start")) or (audit.start_date if audit else None)
    onsite_end = (
        _day(ctx.data.get("onsite_end"))
        or (audit.end_date if audit else None)
        or china_date(ctx.now)
    )
    people = ctx.session.scalars(select(Auditor).order_by(Auditor.name, Auditor.id)).all()
    nominees = [
        Nominee(a.id, "tech_expert" if a.is_technical_expert else "auditor", a) for a in people
    ]
    flags: dict[int, list[dict[str, Any]]] = {}
    if audit is not None:
        for flag in impartiality_flags(ctx.session, audit, nominees, onsite_start):
            flags.setdefault(flag["auditor_id"], []).append(flag)
    choices = []
    for nominee in nominees:
        auditor = nominee.auditor
        assert auditor is not None
        refusals = member_refusals(nominee, onsite_end)
        facts: list[tuple[str, dict[str, Any]]] = []
        if auditor.is_technical_expert:
            facts.append(("technical_expert", {}))
        elif auditor.registration_number and auditor.registration_expires_on:
            facts.append(
                (
                    "registration",
                    {
                        "number": auditor.registration_number,
                        "until": auditor.registration_expires_on.isoformat(),
                    },
                )
            )
        if FIELD in (auditor.fields or []):
            facts.append(("field_competent", {}))
        if auditor.team_leader_qualified and not auditor.is_technical_expert:
            facts.append(("leader_qualified", {}))
        if not auditor.is_technical_expert and sole_auditor_refusals(nominee):
            facts.append(("not_alone", {}))
        if auditor.languages:  # R-7.2.1(4): the languages HR recorded
            facts.append(("languages", {"codes": list(auditor.languages)}))
        for flag in flags.get(auditor.id, []):
            facts.append((flag["flag"], {"detail": flag["detail"]}))
        choices.append(Choice(auditor.id, auditor.name, tuple(facts), joined(refusals)))
    return choices


EXPERT_DOES_NOT_AUDIT = (
    "R-7.2.4：技术专家只提供专业支持，不承担审查活动 / a technical expert supports the team and "
    "takes no audit activity"
)


# -- the appointed team (R-7.3, R-8.4) --------------------------------------------------------
@option_source("team_members", "R-7.3")
def team_members(ctx: OptionContext) -> list[Choice]:
    """The members of the audit's team; with ``"auditing": true`` only those who audit
    (technical experts never do, R-7.2.4)."""
    audit = audit_of(ctx)
    if audit is None:
        return []
    auditing = bool(ctx.params.get("auditing"))
    auditors = team_auditor_ids(audit, include_experts=False)
    rows = ctx.session.execute(
        select(AuditTeamMember.role, Auditor)
        .join(Auditor, Auditor.id == AuditTeamMember.auditor_id)
        .where(AuditTeamMember.audit_id == audit.id)
        .order_by(AuditTeamMember.id)
    ).all()
    # A technical expert is offered, refused, where an auditor is needed: the reason says why.
    return [
        Choice(
            auditor.id,
            auditor.name,
            (("team_role", {"role": role}),),
            EXPERT_DOES_NOT_AUDIT if auditing and auditor.id not in auditors else None,
        )
        for role, auditor in rows
    ]


# -- the client's sites (R-7.3) ---------------------------------------------------------------
@option_source("client_sites", "R-7.3")
def client_sites(ctx: OptionContext) -> list[Choice]:
    """The active service sites of the audited organisation, and the new site a scope
    extension audits (R-9.4.1: inactive until the change is applied)."""
    audit = audit_of(ctx)
    if audit is None:
        return []
    sites = active_sites(ctx.session, audit.organisation_id)
    new_site = _new_site(ctx, audit)
    if new_site is not None and new_site not in sites:
        sites.append(new_site)
    return [
        Choice(
            site.id,
            f"{site.name}（{site.address}）",
            (("new_site", {}),) if site is new_site else (),
        )
        for site in sites
    ]


def _new_site(ctx: OptionContext, audit: Audit) -> Site | None:
    site_audit = ctx.data.get("site_audit")
    site_id = site_audit.get("site_id") if isinstance(site_audit, dict) else None
    if isinstance(site_id, bool) or not isinstance(site_id, int) or not 0 < site_id < 2**31:
        return None
    site = ctx.session.get(Site, site_id)
    return site if site is not None and site.organisation_id == audit.organisation_id else None


# -- nonconformities (R-8.7) ------------------------------------------------------------------
# What a nonconformity awaits → its statuses, as record_answers / record_verification read them.
AWAITING = {"answer": AWAITING_ANSWER, "verification": AWAITING_VERIFICATION}


@option_source("nonconformities", "R-8.7")
def nonconformities(ctx: OptionContext) -> list[Choice]:
    """The audit's nonconformities awaiting what the declaration's ``awaiting`` names (an
    answer of the client, a verification); all of them without it."""
    audit = audit_of(ctx)
    if audit is None:
        return []
    statuses = AWAITING.get(str(ctx.params.get("awaiting")))
    found: list[Nonconformity] = nonconformities_of(ctx.session, audit, statuses)
    return [Choice(nc.id, _nc_label(nc)) for nc in found]


def _nc_label(nc: Nonconformity) -> str:
    text = " ".join(nc.description.split())
    if len(text) > NC_LABEL_CHARS:
        text = text[: NC_LABEL_CHARS - 1] + "…"
    return f"{nc.number} {nc.item_code}：{text}"


# -- shifts (R-7.1.4) ---------------------------------------------------------------------------
@option_source("programme_shifts", "R-7.1.4")
def programme_shifts_of_audit(ctx: OptionContext) -> list[Choice]:
    """The shifts the audit's programme names, for the plan to cover each (R-7.1.4)."""
    audit = audit_of(ctx)
    if audit is None:
        return []
    return [
        Choice(shift["name"], f"{shift['name']}（{shift['hours']}）")
        for shift in programme_shifts(ctx.session, audit)
    ]
