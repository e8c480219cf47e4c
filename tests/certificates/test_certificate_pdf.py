"""The certificate PDF (R-9.2, R-9.3): every field printed in Chinese with a CJK font, a QR code
to the registry page, a watermark when not valid.

These tests FAIL (never skip) without the CJK font or poppler-utils: without "Noto Sans CJK SC"
WeasyPrint prints every Chinese character as a box, silently. `make system-deps` (or
`apt-get install -y fonts-noto-cjk poppler-utils`) installs them.
"""

import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from certflow.db import db
from domain.models import Certificate
from tests.conftest import START_TIME
from tests.factories import make_organisation
from webapp.certificate_pdf import certificate_html, qr_svg, render_certificate_pdf

NUMBER = "CTC-SHFW-2027-0005"
URL = f"https://cert.example.cn/registry/certificates/{NUMBER}"
INSTALL = "install them with: apt-get install -y fonts-noto-cjk poppler-utils"
SITES = [
    {
        "id": 11,
        "name": "鼓楼服务中心",
        "address": "福建省福州市鼓楼区五四路 1 号",
        "is_fixed": True,
    },
    {
        "id": 12,
        "name": "仓山维修站",
        "address": "福建省福州市仓山区浦上大道 8 号",
        "is_fixed": True,
    },
]


def tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} (poppler-utils) is missing: {INSTALL}"
    return path


def run(*args: str) -> str:
    return subprocess.run(
        [tool(args[0]), *args[1:]], check=True, capture_output=True, text=True, timeout=60
    ).stdout


def certificate(**changes) -> Certificate:
    """A reissued (changed, R-9.3) five-star certificate; not stored."""
    fields = {
        "number": NUMBER,
        "organisation_id": 1,
        "organisation_name": "福州优服电器有限公司",
        "organisation_address": "福建省福州市鼓楼区五四路 1 号",
        "sites": SITES,
        "scope": "家用电器的安装、维修与退换货服务",
        "star_level": 5,
        "standard": "GB/T 27922-2011 商品售后服务评价体系",
        "rules": "首认检测认证/CTC 商品售后服务认证实施规则",
        "issuing_body": "首认检测认证/CTC",
        "signatory": "张决定",
        "signatory_title": "总经理",
        "issued_on": date(2027, 3, 1),
        "original_issued_on": date(2026, 2, 10),
        "changed_on": date(2027, 3, 1),
        "expires_on": date(2029, 2, 9),
        "status": "valid",
        "mark": "服务认证标志 5星",
        "suspended_sites": [],
    }
    fields.update(changes)
    return Certificate(**fields)


def pdf_file(tmp_path: Path, pdf: bytes, name: str = "certificate.pdf") -> Path:
    assert pdf.startswith(b"%PDF-")
    path = tmp_path / name
    path.write_bytes(pdf)
    return path


def pdf_text(path: Path) -> str:
    """The PDF's text in drawing order (`-raw`: a label, then its value; the rotated watermark
    in one piece), without any whitespace (letter-spaced titles, line breaks)."""
    return "".join(run("pdftotext", "-raw", "-enc", "UTF-8", str(path), "-").split())


def pages(path: Path) -> int:
    return int(re.search(r"^Pages:\s+(\d+)", run("pdfinfo", str(path)), re.M).group(1))


def test_the_cjk_font_is_installed():
    listing = run("fc-list", ":lang=zh", "family")
    assert "Noto Sans CJK SC" in listing, f"the font Noto Sans CJK SC is missing: {INSTALL}"


def test_every_r92_field_is_printed_in_chinese_with_the_cjk_font(tmp_path):
    path = pdf_file(tmp_path, render_certificate_pdf(certificate(), URL))

    fonts = run("pdffonts", str(path)).splitlines()[2:]
    names = [line.split()[0] for line in fonts]
    assert any("NotoSansCJK" in name.replace("-", "") for name in names), fonts
    assert all(" yes " in line for line in fonts), f"every font is embedded: {fonts}"

    printed = pdf_text(path)
    expected = {
        "client name": "福州优服电器有限公司",
        "client address": "福建省福州市鼓楼区五四路1号",
        "site 1": "鼓楼服务中心：福建省福州市鼓楼区五四路1号",
        "site 2": "仓山维修站：福建省福州市仓山区浦上大道8号",
        "scope": "家用电器的安装、维修与退换货服务",
        "level": "五星级★★★★★",
        "standard": "GB/T27922-2011商品售后服务评价体系",
        "rules": "首认检测认证/CTC商品售后服务认证实施规则",
        "certificate number": f"证书编号Certificate No.：{NUMBER}".replace(" ", ""),
        "issuing body": "首认检测认证/CTC发证机构",
        "signature": "签发人Signatory张决定总经理",  # name and title from the settings
        "issue date": "发证日期Issuedate2027年03月01日",
        "original issue date (R-9.3)": "初次发证日期Originalissuedate2026年02月10日",
        "change date (R-9.3)": "换证日期Changedate2027年03月01日",
        "validity": "有效期至Validuntil2029年02月09日",
        "certification mark": "服务认证标志★★★★★五星级",
        "title": "服务认证证书",
        "registry URL": URL,
    }
    missing = {field: value for field, value in expected.items() if value not in printed}
    assert missing == {}, printed
    for word in ("暂停", "撤销", "注销", "SUSPENDED", "WITHDRAWN"):
        assert word not in printed  # no watermark on a valid certificate
    assert pages(path) == 1


def test_a_first_certificate_has_no_change_dates_and_shows_its_level(tmp_path):
    first = certificate(
        star_level=4, original_issued_on=date(2027, 3, 1), changed_on=None, mark="服务认证标志 4星"
    )
    printed = pdf_text(pdf_file(tmp_path, render_certificate_pdf(first, URL)))
    assert "四星级★★★★" in printed and "五星级" not in printed
    assert "初次发证日期" not in printed and "换证日期" not in printed
    assert "发证日期Issuedate2027年03月01日" in printed


@pytest.mark.parametrize(
    ("status", "suspended_sites", "words"),
    [
        ("suspended", [], ("暂停", "SUSPENDED")),
        (
            "suspended",
            [12],
            (
                "部分暂停",
                "PARTIALLYSUSPENDED",
                "仓山维修站：福建省福州市仓山区浦上大道8号（暂停Suspended）",
            ),
        ),
        ("withdrawn", [], ("撤销", "WITHDRAWN")),
        ("cancelled", [], ("注销", "CANCELLED")),
    ],
)
def test_a_certificate_that_is_not_valid_has_a_status_watermark(
    tmp_path, status, suspended_sites, words
):
    pdf = render_certificate_pdf(certificate(status=status, suspended_sites=suspended_sites), URL)
    path = pdf_file(tmp_path, pdf)
    html = certificate_html(certificate(status=status, suspended_sites=suspended_sites), URL)
    assert 'id="watermark"' in html
    printed = pdf_text(path)
    for word in words:
        assert word in printed
    assert "福州优服电器有限公司" in printed
    assert pages(path) == 1


def test_a_valid_certificate_past_expiry_is_marked_expired(tmp_path):
    pdf = render_certificate_pdf(certificate(), URL, today=date(2029, 2, 10))
    assert "已过期" in pdf_text(pdf_file(tmp_path, pdf))
    pdf = render_certificate_pdf(certificate(), URL, today=date(2029, 2, 9))
    assert "已过期" not in pdf_text(pdf_file(tmp_path, pdf))


def test_the_qr_code_is_inline_svg_of_the_registry_url():
    html = certificate_html(certificate(), URL)
    svg = str(qr_svg(URL))
    assert svg.startswith("<svg ") and "<path" in svg
    assert svg in html  # inline, not an image file or a data URI
    assert "<img" not in html
    assert html.startswith("<!doctype html>") or '<html lang="zh-CN">' in html
    assert '<html lang="zh-CN">' in html and "Noto Sans CJK SC" in html
    assert str(qr_svg(URL + "x")) != svg


def test_many_sites_go_to_an_annex_and_the_first_page_stays_one_page(tmp_path):
    sites = [
        {"id": n, "name": f"服务网点 {n}", "address": f"福州市五四路 {n} 号", "is_fixed": True}
        for n in range(1, 31)
    ]
    path = pdf_file(
        tmp_path, render_certificate_pdf(certificate(sites=sites, suspended_sites=[7]), URL)
    )
    printed = pdf_text(path)
    assert "共30个服务场所，详见附件" in printed
    assert "附件：服务场所清单" in printed
    assert "服务网点30" in printed and "服务网点7福州市五四路7号暂停Suspended" in printed
    assert pages(path) >= 2
    first = run("pdftotext", "-f", "1", "-l", "1", str(path), "-")
    assert "服务网点 30" not in first and "有效期至" in first


def test_page_one_renders_to_png(tmp_path):
    path = pdf_file(tmp_path, render_certificate_pdf(certificate(), URL))
    run("pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(path), str(tmp_path / "page"))
    [png] = list(tmp_path.glob("page*.png"))
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert png.stat().st_size > 10_000  # not a blank page


# -- the public route -----------------------------------------------------------------------------
def test_the_registry_serves_the_pdf_anonymously_with_its_registry_url(app, tmp_path):
    with app.app_context():
        org = make_organisation(db.session, START_TIME, sites=0)
        row = certificate(organisation_id=org.id, organisation_name=org.name)
        db.session.add(row)
        db.session.commit()
    client = app.test_client()

    response = client.get(f"/registry/certificates/{NUMBER}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'inline; filename="{NUMBER}.pdf"'
    assert response.headers["Cache-Control"] == "public, max-age=60"
    printed = pdf_text(pdf_file(tmp_path, response.data))
    assert f"http://localhost/registry/certificates/{NUMBER}" in printed  # request.url_root
    assert "福州优服电器有限公司" in printed
    assert "91350100M000100Y43" not in printed and "0591-0000000" not in printed

    app.config["CERTFLOW_PUBLIC_URL"] = "https://cert.example.cn/"
    response = client.get(f"/registry/certificates/{NUMBER}.pdf")
    assert URL in pdf_text(pdf_file(tmp_path, response.data, "configured.pdf"))
