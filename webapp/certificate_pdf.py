"""The certificate as a PDF (R-9.2, R-9.3): HTML from templates/certificate_pdf.html rendered
by WeasyPrint, Chinese text in "Noto Sans CJK SC" (Debian fonts-noto-cjk).

Every R-9.2 field is printed: client and site names and addresses, scope, level, standard and
rules, certificate number, issuing body, signatory, issue date (with the original issue date and
the change date on a changed certificate, R-9.3), validity and the certification mark; plus a QR
code (inline SVG from `qrcode`) pointing at the certificate's registry page. A certificate that is
not valid carries its status as a watermark (暂停 / 撤销 / 注销 …).

Without a CJK font WeasyPrint prints every Chinese character as a box, silently: the tests check
the embedded fonts (`pdffonts`) and the text (`pdftotext`).

`render_certificate_pdf` needs no Flask application: the template is rendered by a Jinja
environment of its own, from the public view of the certificate (webapp.public_certificate).
"""

from datetime import date
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from domain.models import Certificate
from webapp.public_certificate import LEVEL_LABELS, PublicCertificate, public_certificate

TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE = "certificate_pdf.html"
MARK_TEMPLATE = "mark.svg"  # the mark of a level, drawn once (PDF and client artwork)
FONT_FAMILY = "Noto Sans CJK SC"
# More sites than this go to an annex page (R-9.4.1 "certificate and annex"): page 1 stays one
# page whatever the number of sites.
SITES_ON_FACE = 4

# The watermark of a certificate that is not valid: Chinese word and English word.
WATERMARKS: dict[str, tuple[str, str]] = {
    "suspended": ("暂停", "SUSPENDED"),
    "partially_suspended": ("部分暂停", "PARTIALLY SUSPENDED"),
    "withdrawn": ("撤销", "WITHDRAWN"),
    "cancelled": ("注销", "CANCELLED"),
    "superseded": ("已换发", "SUPERSEDED"),
    "expired": ("已过期", "EXPIRED"),
}

_environment = Environment(
    loader=FileSystemLoader(str(TEMPLATES)),
    autoescape=select_autoescape(["html", "svg"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def chinese_date(value: date | None) -> str:
    """2026-01-05 → 2026年01月05日."""
    if value is None:
        return ""
    return f"{value.year}年{value.month:02d}月{value.day:02d}日"


_environment.filters["chinese_date"] = chinese_date


def qr_svg(data: str) -> Markup:
    """A QR code of `data` as an inline <svg> element (vector, no image library)."""
    import qrcode
    from qrcode.image.svg import SvgPathImage

    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=2,
        image_factory=SvgPathImage,
    )
    code.add_data(data)
    code.make(fit=True)
    svg = code.make_image().to_string(encoding="unicode")
    # Our own markup (the data is only encoded in the path, never written as text).
    return Markup(svg.replace("<svg ", '<svg class="qr-code" role="img" aria-label="QR" ', 1))  # noqa: S704


def mark_svg(star_level: int, *, size: str = "100%") -> Markup:
    """R-10.2: the certification mark of `star_level` as an <svg> element (templates/mark.svg)."""
    level = max(1, min(int(star_level), 5))
    zh, en = LEVEL_LABELS[level]
    svg = _environment.get_template(MARK_TEMPLATE).render(
        level=level,
        level_zh=zh,
        level_en=en,
        stars="★" * level,
        size=size,
        font_family=FONT_FAMILY,
    )
    return Markup(svg.strip())  # noqa: S704 — our own template, autoescaped values


def watermark(certificate: PublicCertificate) -> tuple[str, str] | None:
    if certificate.is_valid:
        return None
    return WATERMARKS.get(certificate.status, (certificate.status_zh, certificate.status_en))


def certificate_html(
    certificate: Certificate, registry_url: str, *, today: date | None = None
) -> str:
    """The certificate as HTML for WeasyPrint."""
    public = public_certificate(certificate, today=today)
    return _environment.get_template(TEMPLATE).render(
        certificate=public,
        registry_url=registry_url,
        qr=qr_svg(registry_url),
        mark=mark_svg(public.star_level),
        watermark=watermark(public),
        font_family=FONT_FAMILY,
        annex=len(public.sites) > SITES_ON_FACE,
    )


def render_certificate_pdf(
    certificate: Certificate, registry_url: str, *, today: date | None = None
) -> bytes:
    """The certificate as PDF bytes; `registry_url` is the absolute URL of its registry page
    (printed and in the QR code); `today` (China date) marks a valid one past expiry as expired."""
    from weasyprint import HTML

    html = certificate_html(certificate, registry_url, today=today)
    return HTML(string=html, base_url=str(TEMPLATES)).write_pdf()
