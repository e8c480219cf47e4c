"""The public certificate registry (R-14): no sign-in, nothing confidential (R-11).

* `/registry` — search by certificate number (exact, any case, spaces ignored) or by
  organisation name (substring);
* `/registry/certificates/<number>` — the certificate's public facts, its status in Chinese and
  English (a partial suspension is shown as such, with the suspended sites marked) and its status
  history (date, event, rule);
* `/registry/certificates/<number>.pdf` — the certificate itself (webapp.certificate_pdf);
* `/registry/announcements` — announcements of certified, suspended, restored, withdrawn,
  cancelled and downgraded organisations, newest first, filtered by kind, in pages.

What may be shown is decided here, once: the pages and the PDF get a `PublicCertificate` built
from a whitelist of certificate fields (what R-9.2 prints on the certificate) and of event kinds,
never the ORM rows. Contacts, the USCC, scores, findings, reasons texts, actors and event data
never leave this module.

Language: Chinese by default, English with the app's language choice (`?lang=en`, the switch in
the top bar). The registry's texts are Chinese/English pairs (`tr`) kept in this blueprint, so
they do not depend on the staff pages' message catalog. Every response may be cached for 60 s
(`public` for anonymous visitors, `private` for signed-in users, whose pages show their menu).
"""

import os
from dataclasses import dataclass, fields, replace
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from sqlalchemy import func, or_, select

from certflow.db import db
from domain.models import Announcement, Certificate, CertificateEvent
from webapp.i18n import current_language, to_china

bp = Blueprint("registry", __name__, url_prefix="/registry")

CACHE_SECONDS = 60
MAX_QUERY = 100
MAX_RESULTS = 50
ANNOUNCEMENTS_PER_PAGE = 20

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
EVENT_LABELS: dict[str, tuple[str, str]] = {
    "issued": ("颁发证书", "Certificate issued"),
    "reissued": ("换发证书", "Certificate reissued"),
    "maintained": ("保持认证", "Certification maintained"),
    "downgraded": ("降级", "Downgraded"),
    "suspended": ("暂停", "Suspended"),
    "restored": ("恢复", "Restored"),
    "withdrawn": ("撤销", "Withdrawn"),
    "cancelled": ("注销", "Cancelled"),
    "superseded": ("被新证书替换", "Replaced by a new certificate"),
}
ANNOUNCEMENT_KINDS: dict[str, tuple[str, str]] = {
    "certified": ("获证", "Certified"),
    "suspended": ("暂停", "Suspended"),
    "restored": ("恢复", "Restored"),
    "withdrawn": ("撤销", "Withdrawn"),
    "cancelled": ("注销", "Cancelled"),
    "downgraded": ("降级", "Downgraded"),
    "scope_reduced": ("缩小认证范围", "Scope reduced"),
}


def tr(zh: str, en: str) -> str:
    """The Chinese or the English text, by the visitor's language."""
    return en if current_language() == "en" else zh


def bilingual(pair: tuple[str, str]) -> str:
    return tr(*pair)


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
    label_zh: str
    label_en: str
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
    labels = EVENT_LABELS.get(event.event)
    if labels is None:
        return None
    return PublicEvent(
        on=event.effective_on,
        event=event.event,
        label_zh=labels[0],
        label_en=labels[1],
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


def china_today() -> date:
    from webapp import get_clock

    return to_china(get_clock().now()).date()


def normalise_number(text: str) -> str:
    """Certificate numbers are uppercase without spaces."""
    return "".join(text.split()).upper()


def find_certificate(number: str) -> Certificate | None:
    wanted = normalise_number(number)
    if not wanted or len(wanted) > MAX_QUERY:
        return None
    return db.session.scalars(
        select(Certificate).where(func.upper(Certificate.number) == wanted)
    ).first()


def load_public_certificate(certificate: Certificate) -> PublicCertificate:
    events = db.session.scalars(
        select(CertificateEvent)
        .where(CertificateEvent.certificate_id == certificate.id)
        .order_by(CertificateEvent.effective_on, CertificateEvent.at, CertificateEvent.id)
    ).all()
    replaces = (
        db.session.scalar(
            select(Certificate.number).where(Certificate.id == certificate.replaces_id)
        )
        if certificate.replaces_id
        else None
    )
    replaced_by = db.session.scalars(
        select(Certificate.number)
        .where(Certificate.replaces_id == certificate.id)
        .order_by(Certificate.id.desc())
    ).first()
    return public_certificate(
        certificate,
        today=china_today(),
        events=list(events),
        replaces=replaces,
        replaced_by=replaced_by,
    )


def public_url() -> str | None:
    """CERTFLOW_PUBLIC_URL (app config, else the environment): the app's public base URL."""
    value = current_app.config.get("CERTFLOW_PUBLIC_URL") or os.environ.get("CERTFLOW_PUBLIC_URL")
    return value.strip().rstrip("/") if isinstance(value, str) and value.strip() else None


def registry_url(number: str) -> str:
    """The absolute URL of a certificate's registry page (printed and in the PDF's QR code)."""
    base = public_url()
    if base is None:
        return url_for("registry.certificate", number=number, _external=True)
    path = url_for("registry.certificate", number=number)
    return base + path[len(request.script_root) :]


# -- pages ----------------------------------------------------------------------------------------
@bp.context_processor
def _registry_helpers() -> dict[str, Any]:
    return {
        "tr": tr,
        "bilingual": bilingual,
        "STATUS_LABELS": STATUS_LABELS,
        "ANNOUNCEMENT_KINDS": ANNOUNCEMENT_KINDS,
        "LEVEL_LABELS": LEVEL_LABELS,
    }


@bp.after_request
def _cacheable(response: Response) -> Response:
    """Public pages, the same for everyone: cacheable for 60 s. Signed-in users see their menu,
    and a response that sets the session cookie (a language choice) is for one browser only."""
    if "Cache-Control" not in response.headers:
        private = getattr(current_user, "is_authenticated", False) or session.modified
        response.cache_control.public = not private
        response.cache_control.private = private
        response.cache_control.max_age = CACHE_SECONDS
    response.vary.add("Cookie")  # the language may come from the session
    return response


def _query_text(name: str) -> str:
    return request.args.get(name, "").replace("\x00", "").strip()[:MAX_QUERY]


@bp.get("")
@bp.get("/")
def search():
    q = _query_text("q")
    results: list[PublicCertificate] = []
    truncated = False
    if q:
        number = normalise_number(q)
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = db.session.scalars(
            select(Certificate)
            .where(
                or_(
                    func.upper(Certificate.number) == number,
                    Certificate.organisation_name.ilike(f"%{escaped}%", escape="\\"),
                )
            )
            .order_by(Certificate.organisation_name, Certificate.issued_on.desc(), Certificate.id)
            .limit(MAX_RESULTS + 1)
        ).all()
        truncated = len(rows) > MAX_RESULTS
        rows = sorted(rows[:MAX_RESULTS], key=lambda c: c.number.upper() != number)  # exact first
        today = china_today()
        results = [public_certificate(row, today=today) for row in rows]
    return render_template(
        "registry/search.html", q=q, results=results, truncated=truncated, limit=MAX_RESULTS
    )


@bp.get("/certificates/<number>")
def certificate(number: str):
    row = find_certificate(number)
    if row is None:
        return not_found(number)
    if row.number != number:
        return redirect(url_for("registry.certificate", number=row.number), 301)
    return render_template(
        "registry/certificate.html",
        certificate=load_public_certificate(row),
        registry_url=registry_url(row.number),
    )


@bp.get("/certificates/<number>.pdf")
def certificate_pdf(number: str):
    row = find_certificate(number)
    if row is None:
        return not_found(number)
    if row.number != number:
        return redirect(url_for("registry.certificate_pdf", number=row.number), 301)
    from webapp.certificate_pdf import render_certificate_pdf  # WeasyPrint loads on first use

    pdf = render_certificate_pdf(row, registry_url(row.number), today=china_today())
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{row.number}.pdf"'
    return response


def not_found(number: str):
    return render_template("registry/not_found.html", number=number[:MAX_QUERY]), 404


@dataclass(frozen=True)
class AnnouncementQuery:
    kind: str = ""
    page: int = 1

    @classmethod
    def from_args(cls, args: Any) -> "AnnouncementQuery":
        kind = args.get("kind", "")
        page = args.get("page", "")
        return cls(
            kind=kind if kind in ANNOUNCEMENT_KINDS else "",
            page=max(int(page), 1) if page.isdigit() and len(page) <= 6 else 1,
        )

    def url(self, **changes: Any) -> str:
        if "page" not in changes:
            changes["page"] = 1
        state = replace(self, **changes)
        args = {
            f.name: getattr(state, f.name)
            for f in fields(state)
            if getattr(state, f.name) not in ("", None) and getattr(state, f.name) != f.default
        }
        return url_for("registry.announcements", **args)


@bp.get("/announcements")
def announcements():
    query = AnnouncementQuery.from_args(request.args)
    base = select(Announcement)
    if query.kind:
        base = base.where(Announcement.kind == query.kind)
    total = db.session.scalar(select(func.count()).select_from(base.subquery())) or 0
    pages = max(1, -(-total // ANNOUNCEMENTS_PER_PAGE))
    query = replace(query, page=min(query.page, pages))
    rows = db.session.scalars(
        base.order_by(
            Announcement.published_on.desc(),
            Announcement.published_at.desc(),
            Announcement.id.desc(),
        )
        .limit(ANNOUNCEMENTS_PER_PAGE)
        .offset((query.page - 1) * ANNOUNCEMENTS_PER_PAGE)
    ).all()
    return render_template(
        "registry/announcements.html",
        query=query,
        items=rows,
        total=total,
        page=query.page,
        pages=pages,
    )
