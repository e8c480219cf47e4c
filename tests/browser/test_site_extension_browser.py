"""Issue 15, R-9.4.1 in the browser: a certified client asks for a new service site from its home
("申请变更" on its certificate), fills the request form in the page, and the market department
finds the evaluation in its inbox showing the new site. The real processes/ on a SQLite file; the
certificate comes from a real certification driven through the engine (tests/lifecycle_case.py)
before the server starts."""

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import served
from tests.certification_case import deploy_everything, make_people
from tests.conftest import START_TIME, make_app
from tests.lifecycle_case import Lifecycle

NEW_SITE = ("鼓楼杨桥服务网点", "福州市鼓楼区杨桥中路 9 号")


@dataclass
class Certified:
    url: str
    certificate_number: str


@pytest.fixture(scope="module")
def certified(tmp_path_factory) -> Iterator[Certified]:
    from flask_migrate import upgrade

    from certflow.db import db

    root = tmp_path_factory.mktemp("site-extension")
    app = make_app(f"sqlite:///{root / 'certflow.sqlite3'}", root / "instance", TESTING=False)
    with app.app_context():
        upgrade()
        clock = app.extensions["certflow.clock"]
        clock.set(START_TIME)
        engine = app.extensions["certflow.engine"]
        deploy_everything(engine)
        life = Lifecycle(engine, clock, make_people(clock.now()), root / "uploads")
        life.engine_app = app
        number = life.certify().number
        life.at(140)
        db.session.commit()
    with served(app, "site-ext") as url:
        yield Certified(url, number)


def sign_in(page: Page, live: Certified, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{live.url}/login")
    page.fill("#username", username)
    page.fill("#password", "pw")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def choose_kind(page: Page, label: str) -> None:
    option = page.locator('select[name="f/kind"] option', has_text=label).first
    page.select_option('select[name="f/kind"]', label=option.inner_text().strip())


def test_the_client_asks_for_a_new_site_and_the_market_sees_it(page: Page, certified: Certified):
    live = certified
    sign_in(page, live, "wang_client")
    page.goto(f"{live.url}/home")
    item = page.locator(f'li[data-certificate="{live.certificate_number}"]')
    item.get_by_role("button", name="申请变更").click()
    page.wait_for_url(re.compile(r"/tasks/[0-9a-f-]+$"))  # task ids are UUIDs
    expect(page.locator("h1")).to_contain_text("提交变更申请")
    choose_kind(page, "增加服务场所")
    site = page.get_by_role("group", name="新增服务场所")
    site.get_by_label("填写此部分").check()  # the optional part of the form
    page.fill('[name="f/site/name"]', NEW_SITE[0])
    page.fill('[name="f/site/address"]', NEW_SITE[1])
    site.get_by_label("固定场所").check()
    page.fill('[name="f/reason"]', "新开网点")
    page.get_by_role("button", name="提交并完成").click()
    expect(page.locator(".flash-success")).to_be_visible()
    page.goto(f"{live.url}/home")  # one change at a time
    item.get_by_role("button", name="申请变更").click()
    expect(page.get_by_text("该证书已有变更申请正在办理，一次只能办理一项。")).to_be_visible()

    sign_in(page, live, "ma_market")
    page.goto(f"{live.url}/?tab=groups")
    page.get_by_role("link", name=re.compile("评审变更")).first.click()
    expect(page.locator("h1")).to_contain_text("评审变更")
    body = page.inner_text("main")
    assert NEW_SITE[0] in body and "扩大认证范围" in body
