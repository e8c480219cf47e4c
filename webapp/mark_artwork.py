"""The mark artwork of the level held, for certified clients only (R-10.2), from the client's
home: `GET /home/certificates/<number>/mark` (the mark, its usage rules, the downloads) and
`GET /home/certificates/<number>/mark.<svg|pdf>` (the files). The mark is the one the
certificate prints (templates/mark.svg via webapp.certificate_pdf.mark_svg), never drawn again.

Allowlist: a client of the certificate's organisation only (anyone else's certificate: 404,
nothing of another organisation is confirmed, R-11); the files only while the mark may be used
(domain/mark_artwork.py: refused with a clear page, 403, when the certificate is suspended,
withdrawn, cancelled, superseded or expired, R-10.1 e). Every download is recorded (who, when,
level, certificate): the client's records of mark use that surveillance reviews (R-10.1 a).
"""

from types import SimpleNamespace

from flask import Response, abort, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from certflow.db import db
from domain.mark_artwork import FORMATS, USAGE_RULES, downloads_of, record_download, refusal
from domain.models import Certificate
from handlers.client_cases import CLIENT_ROLE
from webapp.auth import current_viewer, roles_required
from webapp.certificate_pdf import FONT_FAMILY, TEMPLATES, _environment, mark_svg
from webapp.client_home import bp
from webapp.i18n import current_language, to_china
from webapp.public_certificate import LEVEL_LABELS
from webapp.runtime import get_clock

ARTWORK_PDF_TEMPLATE = "mark_artwork_pdf.html"
MIMETYPES = {"svg": "image/svg+xml", "pdf": "application/pdf"}


def own_certificate(number: str, organisation_id: int | None) -> Certificate | None:
    """The certificate `number` of the client's own organisation, or None (R-11)."""
    if organisation_id is None:
        return None
    return db.session.scalars(
        select(Certificate).where(
            Certificate.number == number, Certificate.organisation_id == organisation_id
        )
    ).first()


def _certificate_or_404(number: str) -> Certificate:
    certificate = own_certificate(number, current_viewer().organisation_id)
    if certificate is None:
        abort(404)
    return certificate


def _refused(certificate: Certificate):
    """The clear page of a refusal (R-10.1 e), or None when the mark may be used."""
    today = to_china(get_clock().now()).date()
    refused = refusal(certificate, today)
    if refused is None:
        return None
    message = _(
        "The mark artwork of certificate %(number)s is not available: %(reason)s.",
        number=certificate.number,
        reason=refused.en if current_language() == "en" else refused.zh,
    )
    return render_template(
        "message.html",
        title=_("Mark artwork not available"),
        message=message,
        back=url_for("client_home.home"),
    ), 403


def artwork_svg(star_level: int) -> str:
    """The artwork file: the mark as a standalone SVG document."""
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + str(mark_svg(star_level, size="200"))


def artwork_pdf(certificate: Certificate) -> bytes:
    """The artwork sheet: the mark at two sizes and its usage rules (WeasyPrint)."""
    from weasyprint import HTML

    level_zh, level_en = LEVEL_LABELS[certificate.star_level]
    html = _environment.get_template(ARTWORK_PDF_TEMPLATE).render(
        mark=mark_svg(certificate.star_level),
        number=certificate.number,
        level_zh=level_zh,
        level_en=level_en,
        rules=USAGE_RULES,
        font_family=FONT_FAMILY,
    )
    return HTML(string=html, base_url=str(TEMPLATES)).write_pdf()


@bp.get("/home/certificates/<number>/mark")
@roles_required(CLIENT_ROLE)
def mark_artwork(number: str):
    certificate = _certificate_or_404(number)
    refused = _refused(certificate)
    if refused is not None:
        return refused
    return render_template(
        "client/mark_artwork.html",
        certificate=certificate,
        mark=mark_svg(certificate.star_level, size="160"),
        rules=[en if current_language() == "en" else zh for zh, en in USAGE_RULES],
        formats=FORMATS,
        downloads=downloads_of(db.session, [certificate.id], limit=20),
    )


@bp.get("/home/certificates/<number>/mark.<file_format>")
@roles_required(CLIENT_ROLE)
def mark_artwork_file(number: str, file_format: str):
    if file_format not in FORMATS:
        abort(404)
    certificate = _certificate_or_404(number)
    refused = _refused(certificate)
    if refused is not None:
        return refused
    viewer = current_viewer()
    act = SimpleNamespace(session=db.session, now=get_clock().now(), actor=viewer.username)
    record_download(act, certificate, file_format)
    body = artwork_svg(certificate.star_level) if file_format == "svg" else artwork_pdf(certificate)
    db.session.commit()
    response = Response(body, mimetype=MIMETYPES[file_format])
    filename = f"mark-{certificate.number}-{certificate.star_level}star.{file_format}"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
