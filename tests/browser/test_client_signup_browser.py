"""Client self-service in the browser (issue 10, R-11): a new client signs up, applies with its
files and sees the application on its home (Chinese and English); a colleague's sign-up for the
same organisation becomes a link request that the market approves in the browser, after which
the colleague sees the case; a client of another organisation sees none of it.

Its own live server on its own SQLite database with the real processes/ deployed (the shared
`live` server carries test fixtures only). Every step is done in the page: no API call, no id
typed by hand."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from certflow.dates import china_date
from tests.browser.conftest import served
from tests.conftest import START_TIME, make_app

pytestmark = pytest.mark.browser

PASSWORD = "Secret-pass-2026"
USCC_ZH = "91350100M000100Y43"
USCC_EN = "91310000MA1FL0000N"
USCC_OTHER = "91110000MA0000000H"


@dataclass
class Server:
    url: str
    app: object


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    from flask_migrate import upgrade

    from certflow.accounts import create_user
    from certflow.db import db
    from tests.certification_case import deploy_everything

    root = tmp_path_factory.mktemp("signup-live")
    app = make_app(f"sqlite:///{root / 'signup.sqlite3'}", root / "instance", TESTING=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            "certflow.models.generate_password_hash",
            partial(generate_password_hash, method="pbkdf2:sha256:1"),
        )
        with app.app_context():
            upgrade()
            app.extensions["certflow.clock"].set(START_TIME)
            deploy_everything(app.extensions["certflow.engine"])
            create_user(
                db.session,
                "mei_market",
                password=PASSWORD,
                roles={"market"},
                display_name="市场部 梅",
                now=START_TIME,
            )
            db.session.commit()
        with served(app, "signup-live") as url:
            yield Server(url, app)


def sign_up(page: Page, server: Server, *, org: str, uscc: str, username: str, lang: str) -> None:
    page.goto(f"{server.url}/login")
    if lang == "en":
        page.click('.langs a[hreflang="en"]')
    page.click("#signup-link a")
    page.fill("#signup-org_name", org)
    page.fill("#signup-uscc", uscc)
    page.fill("#signup-contact_name", "王芳")
    page.fill("#signup-email", f"{username}@example.cn")
    page.fill("#signup-username", username)
    page.fill("#signup-password", PASSWORD)
    page.fill("#signup-password2", PASSWORD)
    page.click("#signup-form button[type=submit]")
    page.wait_for_url(re.compile(r"/home$"))


def sign_in(page: Page, server: Server, username: str) -> None:
    page.goto(f"{server.url}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def sign_out(page: Page) -> None:
    page.click("form[action$='/logout'] button")
    page.wait_for_url(re.compile(r"/login"))


def server_today(server) -> str:
    """The date in China of the site's (simulated) clock, ISO: the date a person there types."""
    with server.app.app_context():
        return china_date(server.app.extensions["certflow.clock"].now()).isoformat()


def apply_with_files(
    page: Page,
    tmp_path: Path,
    *,
    complete_label: str,
    signed_on: str,
    heading: str = "提交认证申请",
    started: bool = False,
) -> None:
    if not started:  # else the page is the application task already
        page.click("#apply-button")
        page.wait_for_url(re.compile(r"/tasks/"))
    expect(page.locator("h1")).to_contain_text(heading)
    page.fill('[name="f/address"]', "福建省福州市鼓楼区五四路 1 号")
    page.fill('[name="f/contact_phone"]', "0591-88880000")
    page.check('[name="f/requested_level"][value="3"]')
    page.fill('[name="f/scope"]', "家用电器的安装、维修服务")
    page.fill('[name="f/sites/0/name"]', "总部服务中心")
    page.fill('[name="f/sites/0/address"]', "五四路 1 号")
    page.check('[name="f/sites/0/is_fixed"]')
    page.fill('[name="f/headcount"]', "50")
    files = {}
    for name in ("legal_status_file", "service_documents_files", "service_flowchart_file"):
        path = tmp_path / f"{name}.pdf"
        path.write_bytes(b"%PDF-1.4 " + name.encode())
        files[name] = path
        page.set_input_files(f'[name="f/{name}"]', str(path))
    # what will be public, acknowledged; R-13: the attestation, signed.
    page.check('[name="f/public_information_acknowledged"]')
    page.check('[name="f/truth_attestation"]')
    page.fill('[name="f/attestation_signatory"]', "王总")
    page.fill('[name="f/attestation_position"]', "总经理")
    page.fill('[name="f/attestation_signed_on"]', signed_on)
    page.get_by_role("button", name=complete_label).click()
    expect(page.locator(".flash-success")).to_be_visible()


def application_number(server: Server, uscc: str) -> str:
    from certflow.db import db
    from domain.models import Application, Organisation

    with server.app.app_context():
        db.session.rollback()
        number = db.session.scalars(
            select(Application.number)
            .join(Organisation, Organisation.id == Application.organisation_id)
            .where(Organisation.uscc == uscc)
        ).one()
        return number


def no_incidents(server: Server) -> bool:
    from certflow.db import db
    from engine.models import Incident

    with server.app.app_context():
        db.session.rollback()
        return db.session.scalars(select(Incident.id).where(Incident.status == "open")).all() == []


# The task's heading in the page's language (issue 10: one language at a time).
HEADINGS = {"zh": "提交认证申请", "en": "Submit application"}


@pytest.mark.parametrize(
    ("lang", "uscc", "username", "complete", "submitted", "apply"),
    [
        ("zh", USCC_ZH, "wang_zh", "提交并完成", "已提交", "申请认证"),
        ("en", USCC_EN, "wang_en", "Complete task", "Submitted", "Apply for certification"),
    ],
)
def test_a_new_client_signs_up_applies_with_files_and_sees_the_application(
    page: Page, server: Server, tmp_path, lang, uscc, username, complete, submitted, apply
):
    sign_up(page, server, org=f"优服电器 {lang}", uscc=uscc, username=username, lang=lang)
    expect(page.locator("h1")).to_contain_text(f"优服电器 {lang}")
    expect(page.locator("#apply-button")).to_have_text(apply)
    apply_with_files(
        page,
        tmp_path,
        complete_label=complete,
        signed_on=server_today(server),
        heading=HEADINGS[lang],
    )
    page.click(".mainnav a[href$='/home']")
    number = application_number(server, uscc)
    row = page.locator(f'[data-application="{number}"]')
    expect(row).to_contain_text(submitted)
    expect(page.locator("#apply-blocked")).to_be_visible()
    assert no_incidents(server)


def test_a_colleague_is_linked_only_after_the_market_approves(page: Page, server: Server, tmp_path):
    # The first user creates the organisation and applies.
    sign_up(page, server, org="链接公司", uscc=USCC_OTHER, username="first_user", lang="zh")
    apply_with_files(page, tmp_path, complete_label="提交并完成", signed_on=server_today(server))
    number = application_number(server, USCC_OTHER)
    sign_out(page)
    # A colleague signs up with the same code: a link request, nothing of the case visible.
    sign_up(page, server, org="链接公司", uscc=USCC_OTHER, username="second_user", lang="zh")
    expect(page.locator("#link-request")).to_have_attribute("data-status", "pending")
    expect(page.locator("body")).not_to_contain_text(number)
    sign_out(page)
    # The market user finds the request from its inbox and approves it.
    sign_in(page, server, "mei_market")
    page.click("#link-requests-notice a")
    request_row = page.locator('[data-username="second_user"]')
    expect(request_row).to_contain_text("链接公司")
    request_row.locator('[data-action="approve"]').click()
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator('[data-username="second_user"]')).to_have_count(0)
    sign_out(page)
    # The colleague now sees the organisation's application and its case.
    sign_in(page, server, "second_user")
    expect(page.locator(f'[data-application="{number}"]')).to_be_visible()
    page.click("#case-link")
    expect(page.locator("body")).to_contain_text(number)
    sign_out(page)
    # A client of another organisation sees none of it.
    sign_up(page, server, org="别的公司", uscc="91440300MA5F000007", username="other_co", lang="zh")
    expect(page.locator("#my-applications")).not_to_contain_text(number)
    expect(page.locator("#my-tasks .count")).to_have_text("0")
