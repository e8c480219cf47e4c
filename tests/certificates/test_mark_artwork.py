"""R-10.2 the mark artwork per level, issued to certified clients only; R-10.1(a, e) every download
recorded, none while the certificate is suspended, withdrawn, cancelled or expired; R-11 nothing
of another organisation's certificate (webapp/mark_artwork.py, domain/mark_artwork.py)."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from certflow.db import db
from domain import certificate_status
from domain.mark_artwork import refusal
from domain.models import Certificate, Organisation
from domain.models_marks import MarkArtworkDownload, MarkPlaque
from tests.certificate_factory import ISSUED_AT, issued_certificate
from tests.web_support import Web, text, web_fixture  # noqa: F401

STAFF = "shen_auditdept"


def certificate_of_a(web: Web, star_level: int = 4) -> str:
    with web.app.app_context():
        organisation = db.session.get(Organisation, web.organisations["A"])
        number = issued_certificate(star_level=star_level, organisation=organisation).number
        db.session.commit()
    web.advance(ISSUED_AT - web.now() + timedelta(days=1))
    return number


def downloads(web: Web) -> list[tuple[str, int, str]]:
    with web.app.app_context():
        rows = db.session.scalars(select(MarkArtworkDownload).order_by(MarkArtworkDownload.id))
        return [(row.downloaded_by, row.star_level, row.file_format) for row in rows]


def change(web: Web, number: str, how: str) -> None:
    with web.app.app_context():
        cert_id = db.session.scalar(select(Certificate.id).where(Certificate.number == number))
        now = web.now()
        if how == "suspend":
            certificate_status.suspend(
                db.session,
                certificate_id=cert_id,
                reason="c",
                sites=[],
                detail="宣传材料使用了五星标志",
                correction_days=30,
                max_months=6,
                actor=STAFF,
                now=now,
            )
        elif how == "withdraw":
            certificate_status.withdraw(
                db.session, certificate_id=cert_id, reason="b", detail="", actor=STAFF, now=now
            )
        else:
            certificate_status.cancel(
                db.session, certificate_id=cert_id, reason="c", detail="", actor=STAFF, now=now
            )
        db.session.commit()


def test_a_certified_client_downloads_the_artwork_of_its_level_and_each_download_is_recorded(web):
    number = certificate_of_a(web, star_level=4)
    carl = web.browser("carl")
    home = text(carl.get("/home"))
    assert f"/home/certificates/{number}/mark" in home
    page = carl.get(f"/home/certificates/{number}/mark")
    assert page.status_code == 200
    shown = text(page)
    assert "仅可在认证证书的认证范围内使用认证标志" in shown  # the usage rules
    assert "不得用于产品或产品包装" in shown
    assert 'data-level="4"' in shown and "四星级" in shown
    assert "Rules for using the mark" in text(carl.get(f"/home/certificates/{number}/mark?lang=en"))

    svg = carl.get(f"/home/certificates/{number}/mark.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    body = svg.get_data(as_text=True)
    # The level's mark, the same drawing the certificate prints (templates/mark.svg).
    assert 'data-level="4"' in body and "★★★★<" in body and "四星级" in body
    assert "五星级" not in body
    pdf = carl.get(f"/home/certificates/{number}/mark.pdf")
    assert pdf.status_code == 200 and pdf.get_data().startswith(b"%PDF")
    assert "attachment" in pdf.headers["Content-Disposition"]
    assert downloads(web) == [("carl", 4, "svg"), ("carl", 4, "pdf")]
    # The page lists the recorded downloads.
    assert text(carl.get(f"/home/certificates/{number}/mark")).count("data-download=") == 2


@pytest.mark.parametrize("how", ["suspend", "withdraw", "cancel"])
def test_the_artwork_is_refused_once_the_certificate_is_suspended_withdrawn_or_cancelled(web, how):
    number = certificate_of_a(web)
    carl = web.browser("carl")
    assert carl.get(f"/home/certificates/{number}/mark.svg").status_code == 200
    change(web, number, how)
    for url in (f"/home/certificates/{number}/mark", f"/home/certificates/{number}/mark.svg"):
        response = carl.get(url)
        assert response.status_code == 403, url  # a clear page, never a 5xx
        assert "认证标志" in text(response) and "不得使用认证标志" in text(response)
    assert "no mark use" in text(carl.get(f"/home/certificates/{number}/mark.pdf?lang=en"))
    assert f"/home/certificates/{number}/mark" not in text(carl.get("/home"))
    assert downloads(web) == [("carl", 4, "svg")]  # the refused ones are not recorded


def test_another_organisations_client_and_staff_get_nothing(web):
    number = certificate_of_a(web)
    cora = web.browser("cora")  # client of organisation B
    for url in (f"/home/certificates/{number}/mark", f"/home/certificates/{number}/mark.svg"):
        assert cora.get(url).status_code == 404, url
    assert web.browser("mia").get(f"/home/certificates/{number}/mark.svg").status_code == 403
    carl = web.browser("carl")
    assert carl.get(f"/home/certificates/{number}/mark.png").status_code == 404
    assert carl.get("/home/certificates/CTC-SHFW-2026-9999/mark.svg").status_code == 404
    assert downloads(web) == []


def test_an_expired_or_partly_suspended_certificate(app):
    """R-10.1(e): past its expiry no artwork; a partial suspension keeps the mark for the other
    sites (mark_use_allowed), a full one does not."""
    with app.app_context():
        certificate = issued_certificate(sites=2)
        assert refusal(certificate, certificate.expires_on) is None
        assert refusal(certificate, certificate.expires_on + timedelta(days=1)).reason == "expired"
        site = certificate.sites[0]["id"]
        certificate_status.suspend(
            db.session,
            certificate_id=certificate.id,
            reason="d",
            sites=[site],
            detail="",
            correction_days=30,
            max_months=6,
            actor=STAFF,
            now=ISSUED_AT + timedelta(days=10),
        )
        assert certificate.status == "suspended" and certificate.mark_use_allowed
        assert refusal(certificate, date(2026, 4, 1)) is None
        db.session.rollback()


def test_the_case_page_and_the_home_show_the_plaque_and_the_downloads(web):
    """R-10.1(f): the plaque and its state on the case page and in the portal; R-10.1(a): the
    downloads recorded on the case page."""
    number = certificate_of_a(web)
    with web.app.app_context():
        cert = db.session.scalars(select(Certificate).where(Certificate.number == number)).one()
        db.session.add(
            MarkPlaque(
                certificate_id=cert.id,
                plaque_number="TP-2026-0007",
                star_level=cert.star_level,
                issued_on=cert.issued_on,
                recipient="王芳",
                recorded_by="jue_decider",
                recorded_at=web.now(),
            )
        )
        db.session.commit()
    carl = web.browser("carl")
    carl.get(f"/home/certificates/{number}/mark.svg")
    home = text(carl.get("/home"))
    assert 'data-plaque="TP-2026-0007" data-plaque-state="in_use"' in home
    case_page = text(carl.get(f"/cases/{web.organisations['A']}"))
    assert 'data-plaque-state="in_use"' in case_page and "TP-2026-0007" in case_page
    assert "data-download=" in case_page and "carl" in case_page
    change(web, number, "withdraw")
    home = text(carl.get("/home?lang=en"))
    assert 'data-plaque-state="to_return"' in home and "return it" in home
    assert "须交回" in text(carl.get(f"/cases/{web.organisations['A']}?lang=zh_CN"))
