"""Issue 13 in the browser: the quality manager opens the compliance dashboard (charts drawn by
the vendored Chart.js, figures in tables), opens one indicator's breach list, follows a case
link to the case page, and downloads the management-review PDF (checked with pdftotext).

The compliance seed (domain/compliance/seed.py) gets an app and database of its own, so that its
nine certified organisations do not show up in the other browser tests' registry and cases."""

import subprocess
from collections.abc import Iterator
from functools import partial

import pytest
from werkzeug.security import generate_password_hash

from certflow.dates import china_time_in_utc
from domain.compliance.seed import SEED_TODAY, seed_compliance
from tests.browser.conftest import served
from tests.conftest import START_TIME, make_app
from tests.web_support import PASSWORD, add_users

pytestmark = pytest.mark.browser
ALL_TIME = "from=2020-01-01&to=2026-12-01"


@pytest.fixture(scope="module")
def seeded_url(tmp_path_factory) -> Iterator[tuple[str, dict]]:
    from flask_migrate import upgrade

    from certflow.db import db
    from tests.factories import make_organisation

    root = tmp_path_factory.mktemp("compliance-live")
    app = make_app(f"sqlite:///{root / 'compliance.sqlite3'}", root / "instance", TESTING=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            "certflow.models.generate_password_hash",
            partial(generate_password_hash, method="pbkdf2:sha256:1"),
        )
        with app.app_context():
            upgrade()
            org_a = make_organisation(db.session, START_TIME, name="甲公司 Alpha Ltd")
            org_b = make_organisation(
                db.session, START_TIME, name="乙公司 Beta Ltd", uscc="91110000MA00000002"
            )
            add_users({"A": org_a.id, "B": org_b.id})
            seeded = seed_compliance(db.session)
            db.session.commit()
            app.extensions["certflow.clock"].set(china_time_in_utc(SEED_TODAY, 12))
    with served(app, "compliance-live") as url:
        yield url, seeded.organisations


def test_quality_manager_dashboard_breaches_case_and_pdf(page, seeded_url, tmp_path):
    url, organisations = seeded_url
    page.goto(f"{url}/login")
    page.fill("#username", "quinn")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/login" not in u)

    page.goto(f"{url}/quality?lang=en")
    page.click("text=Compliance")
    page.wait_for_url("**/quality/compliance")
    page.fill("#compliance-from", "2020-01-01")
    page.fill("#compliance-to", "2026-12-01")
    page.click("form[data-compliance-filters] button[type=submit]")
    page.wait_for_url("**/quality/compliance?*")
    row = page.locator('tr[data-indicator="surveillance_interval"]')
    assert row.locator("[data-kept]").inner_text() == "12"
    assert row.locator("[data-broken]").inner_text() == "2"
    page.wait_for_selector("#compliance-chart[data-chart-drawn]")  # Chart.js drew it
    assert page.locator("#compliance-indicators tbody tr").count() == 9

    row.locator("[data-breach-link]").click()
    page.wait_for_url("**/quality/compliance/surveillance_interval?*")
    assert page.locator("#breaches tbody tr").count() == 2
    assert page.locator("#breaches").inner_text().count("乙电器维修有限公司") == 2
    page.locator("#breaches [data-case-link]").first.click()
    page.wait_for_url(f"**/cases/{organisations['B']}")
    assert "乙电器维修有限公司" in page.locator("h1").inner_text()

    page.goto(f"{url}/quality/compliance?{ALL_TIME}&lang=en")
    with page.expect_download() as download:
        page.evaluate(
            "href => { const a = document.createElement('a'); a.href = href; "
            "a.download = 'report.pdf'; document.body.appendChild(a); a.click(); }",
            page.locator("[data-report-pdf]").get_attribute("href"),
        )
    saved = tmp_path / "report.pdf"
    download.value.save_as(saved)
    words = subprocess.run(
        ["pdftotext", "-layout", str(saved), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Management-review report" in words
    surveillance = next(line for line in words.splitlines() if "Surveillance within 12" in line)
    assert surveillance.split()[-2:] == ["12", "2"]
    assert "SEED-TS-0003" in words
