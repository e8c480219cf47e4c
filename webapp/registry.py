"""The public certificate registry (R-14): no sign-in, nothing confidential (R-11).

* `/registry` — search by certificate number (exact, any case, spaces ignored) or by
  organisation name (substring);
* `/registry/certificates/<number>` — the certificate's public facts, its status in Chinese and
  English (a partial suspension is shown as such, with the suspended sites marked) and its status
  history (date, event, rule);
* `/registry/certificates/<number>.pdf` — the certificate itself (webapp.certificate_pdf);
* `/registry/announcements` — announcements of certified, suspended, restored, withdrawn,
  cancelled and downgraded organisations, newest first, filtered by kind, in pages.

What may be shown is decided once, in webapp.public_certificate: the pages and the PDF get a
`PublicCertificate` built from a whitelist of certificate fields (what R-9.2 prints on the
certificate) and of event kinds, never the ORM rows. Contacts, the USCC, scores, findings, reasons
texts, actors and event data never leave these modules.

Language: Chinese by default, English with the app's language choice (`?lang=en`, the switch in
the top bar). The registry's texts are catalog entries like every other page's, with the message
context "registry" (so a word may read differently here than on the staff pages). The public view
itself is webapp.public_certificate. Every response may be cached for 60 s
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
from domain.certificates import announcement_title
from domain.models import Announcement, Certificate, CertificateEvent
from webapp.certificate_pdf import render_certificate_pdf
from webapp.i18n import current_language, to_china
from webapp.paging import page_count
from webapp.public_certificate import (
    ANNOUNCEMENT_KINDS,
    LEVEL_LABELS,
    STATUS_LABELS,
    PublicCertificate,
    public_certificate,
)
from webapp.rule_clauses import rule_clause
from webapp.runtime import get_clock

bp = Blueprint("registry", __name__, url_prefix="/registry")
bp.add_app_template_filter(rule_clause)

CACHE_SECONDS = 60
MAX_QUERY = 100
MAX_RESULTS = 50
ANNOUNCEMENTS_PER_PAGE = 20


def china_today() -> date:
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
        "STATUS_LABELS": STATUS_LABELS,
        "ANNOUNCEMENT_KINDS": ANNOUNCEMENT_KINDS,
        "LEVEL_LABELS": LEVEL_LABELS,
        "announcement_title": shown_announcement_title,
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


def shown_announcement_title(item: Announcement) -> str:
    """An announcement's title in the page's language (issue 10: one language per page), from
    its kind and the names it states; a kind without a catalogue title keeps the stored one."""
    try:
        return announcement_title(
            item.kind, item.organisation_name, item.certificate_number, locale=current_language()
        )
    except ValueError:
        return item.title


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
    pages = page_count(total, ANNOUNCEMENTS_PER_PAGE)
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
