"""R-10.2 in a real browser: the certified client opens the mark of its level from its home,
downloads the artwork, and once the certificate is suspended the download is refused (R-10.1 e).
Organisation B's own certificate, so the shared organisation A records stay as they are."""

from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from certflow.db import db
from domain import certificate_status
from domain.models import Organisation
from tests.browser.conftest import Live
from tests.certificate_factory import issued_certificate

pytestmark = pytest.mark.browser


def test_the_certified_client_downloads_its_artwork_and_after_suspension_it_is_refused(
    page: Page, login, live: Live
):
    app = live.app
    with app.app_context():
        organisation = db.session.get(Organisation, live.web.organisations["B"])
        certificate = issued_certificate(star_level=3, organisation=organisation)
        number, certificate_id = certificate.number, certificate.id
        db.session.commit()
    login("cora")  # client of organisation B
    page.goto("/home")
    mark_link = page.locator(f"[data-certificate='{number}'] [data-mark-artwork]")
    expect(mark_link).to_be_visible()
    mark_link.click()
    expect(page.locator("#mark-artwork")).to_have_attribute("data-level", "3")
    expect(page.locator("#mark-artwork svg")).to_be_visible()
    expect(page.locator("#mark-rules")).to_contain_text("仅可在认证证书的认证范围内使用认证标志")
    with page.expect_download() as info:
        page.locator("#download-svg").click()
    download = info.value
    assert download.suggested_filename == f"mark-{number}-3star.svg"
    artwork = Path(download.path()).read_text(encoding="utf-8")
    assert 'data-level="3"' in artwork and "三星级" in artwork and "★★★<" in artwork
    page.reload()
    expect(page.locator("#mark-downloads [data-download]")).to_have_count(1)

    with app.app_context():  # R-9.5.1(c): suspended for misuse of the mark
        certificate_status.suspend(
            db.session,
            certificate_id=certificate_id,
            reason="c",
            sites=[],
            detail="宣传材料使用了五星标志",
            correction_days=30,
            max_months=6,
            actor="shen_auditdept",
            now=live.web.now() + timedelta(days=80),
        )
        db.session.commit()
    response = page.goto(f"/home/certificates/{number}/mark")
    assert response.status == 403
    expect(page.locator("h1")).to_have_text("认证标志不能下载")
    expect(page.locator("body")).to_contain_text("证书已暂停")
    response = page.request.get(f"/home/certificates/{number}/mark.svg")
    assert response.status == 403 and b"<svg" not in response.body()
    page.goto("/home")
    expect(page.locator(f"[data-certificate='{number}'] [data-mark-artwork]")).to_have_count(0)
