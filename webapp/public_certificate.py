"""The public view of a certificate (R-14, R-11): what the registry pages and the certificate PDF
may show, built from a whitelist of certificate fields (what R-9.2 prints on the certificate) and
of event kinds, never the ORM rows. No Flask and no database access: related rows are passed in.

Status and level are shown in Chinese and English together (the badge, the bilingual PDF), so the
view carries both words; texts chosen by the visitor's language go through the message catalog.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_pgettext

from domain.models import Certificate, CertificateEvent

# Public statuses (认证机构管理办法): 有效, 暂停, 撤销, 注销; plus a partial suspension, a
# certificate replaced by a reissue and one past its expiry date that the scheduler has
# not cancelled yet (never shown as valid).
STATUS_LABELS: dict[str, tuple[str, str]] = {
    "valid": ("有效", "Valid"),
    "suspended": ("暂停", "Suspended"),
    "partially_suspended": ("部分暂停", "Partially suspended"),
    "withdrawn": ("撤销", "Withdrawn"),
    "cancelled": ("注销", "Cancelled"),
    "superseded": ("已换发", "Superseded"),
    "expired": ("已过期", "Expired"),
}
# CSS classes: a partial suspension is a suspension too (class="status-suspended status-partial").
STATUS_CLASSES = {
    "partially_suspended": "status-suspended status-partial",
}
LEVEL_LABELS: dict[int, tuple[str, str]] = {
    1: ("一星级", "One-star"),
    2: ("二星级", "Two-star"),
    3: ("三星级", "Three-star"),
    4: ("四星级", "Four-star"),
    5: ("五星级", "Five-star"),
}
# The event kinds the registry publishes; any other kind (e.g. surveillance_extended, an internal
# programme matter) stays off the public history.
EVENT_LABELS: dict[str, Any] = {
    "issued": lazy_pgettext("certificate event", "Certificate issued"),  # 颁发证书
    "reissued": lazy_pgettext("certificate event", "Certificate reissued"),  # 换发证书
    "maintained": lazy_pgettext("certificate event", "Certification maintained"),  # 保持认证
    "downgraded": lazy_pgettext("certificate event", "Downgraded"),  # 降级
    "suspended": lazy_pgettext("certificate event", "Suspended"),  # 暂停
    "restored": lazy_pgettext("certificate event", "Restored"),  # 恢复
    "withdrawn": lazy_pgettext("certificate event", "Withdrawn"),  # 撤销
    "cancelled": lazy_pgettext("certificate event", "Cancelled"),  # 注销
    "superseded": lazy_pgettext(
        "certificate event", "Replaced by a new certificate"
    ),  # 被新证书替换
}
ANNOUNCEMENT_KINDS: dict[str, Any] = {
    "certified": lazy_pgettext("announcement kind", "Certified"),  # 获证
    "suspended": lazy_pgettext("announcement kind", "Suspended"),  # 暂停
    "restored": lazy_pgettext("announcement kind", "Restored"),  # 恢复
    "withdrawn": lazy_pgettext("announcement kind", "Withdrawn"),  # 撤销
    "cancelled": lazy_pgettext("announcement kind", "Cancelled"),  # 注销
    "downgraded": lazy_pgettext("announcement kind", "Downgraded"),  # 降级
    "scope_reduced": lazy_pgettext("announcement kind", "Scope reduced"),  # 缩小认证范围
    # 公布违规行为 (domain.misuse.VIOLATION_PUBLISHED)
    "misuse_published": lazy_pgettext("announcement kind", "Misuse of certificate or mark"),
}


# -- the public view of a certificate -------------------------------------------------------------
@dataclass(frozen=True)
class PublicSite:
    name: str
    address: str
    suspended: bool = False


@dataclass(frozen=True)
class PublicEvent:
    on: date
    event: str
    label: Any  # the catalog's text in the visitor's language (lazy)
    rule: str
    sites: tuple[str, ...] = ()  # site names of a partial suspension / restoration


@dataclass(frozen=True)
class PublicCertificate:
    """Everything the registry and the certificate PDF may show of one certificate."""

    number: str
    organisation_name: str
    organisation_address: str
    sites: tuple[PublicSite, ...]
    scope: str
    star_level: int
    standard: str
    rules: str
    issuing_body: str
    signatory: str
    signatory_title: str
    mark: str
    issued_on: date
    original_issued_on: date | None  # only when it differs from the issue date
    changed_on: date | None  # only on a changed certificate
    expires_on: date
    status: str  # a key of STATUS_LABELS (or the stored value when unknown)
    status_changed_on: date | None
    history: tuple[PublicEvent, ...] = ()
    replaces: str | None = None  # number of the certificate this one replaces
    replaced_by: str | None = None  # number of the certificate that replaces this one

    @property
    def status_zh(self) -> str:
        return STATUS_LABELS.get(self.status, (self.status, self.status))[0]

    @property
    def status_en(self) -> str:
        return STATUS_LABELS.get(self.status, (self.status, self.status))[1]

    @property
    def status_class(self) -> str:
        return STATUS_CLASSES.get(self.status, f"status-{self.status}")

    @property
    def is_valid(self) -> bool:
        return self.status == "valid"

    @property
    def level_zh(self) -> str:
        return LEVEL_LABELS.get(self.star_level, (f"{self.star_level}星级", ""))[0]

    @property
    def level_en(self) -> str:
        return LEVEL_LABELS.get(self.star_level, ("", f"{self.star_level}-star"))[1]

    @property
    def stars(self) -> str:
        return "★" * max(0, min(self.star_level, 5))

    @property
    def suspended_sites(self) -> tuple[PublicSite, ...]:
        return tuple(site for site in self.sites if site.suspended)


def _matches(site: dict[str, Any], entry: Any) -> bool:
    """Whether an entry of `suspended_sites` / an event's `sites` (a site id, a name, or a dict
    with either) names this site of the certificate."""
    if isinstance(entry, dict):
        if entry.get("id") is not None:
            return entry.get("id") == site.get("id")
        return bool(entry.get("name")) and entry.get("name") == site.get("name")
    if isinstance(entry, bool):
        return False
    if isinstance(entry, int):
        return entry == site.get("id")
    if isinstance(entry, str):
        return entry in (site.get("name"), str(site.get("id")))
    return False


def _site_names(sites: list[dict[str, Any]], entries: list[Any]) -> tuple[str, ...]:
    names = []
    for entry in entries or []:
        site = next((s for s in sites if _matches(s, entry)), None)
        if site is not None and site.get("name"):
            names.append(str(site["name"]))
    return tuple(names)


def public_status(certificate: Certificate, today: date | None = None) -> str:
    status = certificate.status
    site_rows = [s for s in (certificate.sites or []) if isinstance(s, dict)]
    suspended = list(certificate.suspended_sites or [])
    if status in ("valid", "suspended") and suspended:
        all_suspended = bool(site_rows) and all(
            any(_matches(site, entry) for entry in suspended) for site in site_rows
        )
        status = "suspended" if all_suspended else "partially_suspended"
    if status == "valid" and today is not None and certificate.expires_on < today:
        status = "expired"
    return status


def public_event(event: CertificateEvent, sites: list[dict[str, Any]]) -> PublicEvent | None:
    label = EVENT_LABELS.get(event.event)
    if label is None:
        return None
    return PublicEvent(
        on=event.effective_on,
        event=event.event,
        label=label,
        rule=event.rule or "",
        sites=_site_names(sites, event.sites),
    )


def public_certificate(
    certificate: Certificate,
    *,
    today: date | None = None,
    events: list[CertificateEvent] | tuple = (),
    replaces: str | None = None,
    replaced_by: str | None = None,
) -> PublicCertificate:
    """The public view of `certificate` (no database access: related rows are passed in).
    `today` (China date) turns a valid certificate past its expiry date into "expired"."""
    site_rows = [s for s in (certificate.sites or []) if isinstance(s, dict)]
    suspended = list(certificate.suspended_sites or [])
    show_suspended_sites = certificate.status in ("valid", "suspended")
    sites = tuple(
        PublicSite(
            name=str(site.get("name") or ""),
            address=str(site.get("address") or ""),
            suspended=show_suspended_sites and any(_matches(site, e) for e in suspended),
        )
        for site in site_rows
    )
    history = tuple(
        item for item in (public_event(event, site_rows) for event in events) if item is not None
    )
    original = certificate.original_issued_on
    return PublicCertificate(
        number=certificate.number,
        organisation_name=certificate.organisation_name,
        organisation_address=certificate.organisation_address,
        sites=sites,
        scope=certificate.scope,
        star_level=certificate.star_level,
        standard=certificate.standard,
        rules=certificate.rules,
        issuing_body=certificate.issuing_body,
        signatory=certificate.signatory,
        signatory_title=certificate.signatory_title,
        mark=certificate.mark,
        issued_on=certificate.issued_on,
        original_issued_on=original if original and original != certificate.issued_on else None,
        changed_on=certificate.changed_on,
        expires_on=certificate.expires_on,
        status=public_status(certificate, today),
        status_changed_on=certificate.status_changed_on,
        history=history,
        replaces=replaces,
        replaced_by=replaced_by,
    )
