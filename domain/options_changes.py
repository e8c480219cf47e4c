"""Option sources of certificate changes (issue 10): the certified sites a client may drop
(R-9.4.2). Refusals are those of domain.changes (removed_site_problems), never a copy."""

from typing import Any

from sqlalchemy import select

from domain.changes import current_of, removed_site_problems
from domain.models import Certificate, Site
from domain.options import Choice, OptionContext, option_source


def _certificate(ctx: OptionContext) -> Certificate | None:
    try:
        return current_of(ctx.session, ctx.data.get("certificate_id"))
    except (LookupError, ValueError):
        return None


def _why_not(ctx: OptionContext, value: Any) -> str | None:
    certificate = _certificate(ctx)
    if certificate is None:
        return None
    problems: dict[str, list[str]] = {}
    removed_site_problems(problems, ctx.session, certificate, value)
    return "；".join(problems.get("site_id", [])) or None


@option_source("certificate_sites", "R-9.4.2", explain=_why_not)
def certificate_sites(ctx: OptionContext) -> list[Choice]:
    """The active sites the certificate covers; the last one cannot be dropped (R-9.4.2)."""
    certificate = _certificate(ctx)
    if certificate is None:
        return []
    ids = [s.get("id") for s in certificate.sites or [] if isinstance(s, dict)]
    sites = ctx.session.scalars(
        select(Site).where(Site.id.in_([i for i in ids if isinstance(i, int)])).order_by(Site.id)
    ).all()
    return [
        Choice(site.id, f"{site.name}（{site.address}）", refusal=_why_not(ctx, site.id))
        for site in sites
        if site.active and site.organisation_id == certificate.organisation_id
    ]
