"""Choices from data (issue 10) in a real browser: the scheduler appoints the audit team by
choosing auditors from the list — names with their registration and qualifications, an auditor
the rules refuse shown disabled with the reason and not choosable — and nothing is typed as an
id. Its own live server and database: the certification process with a case at the
appointment (the shared live server holds only the small web test processes)."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

import pytest
from playwright.sync_api import Error, Page, expect
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from tests.browser.conftest import served
from tests.certification_case import Case, deploy_everything, make_people
from tests.conftest import START_TIME, make_app
from tests.factories import make_auditor

pytestmark = pytest.mark.browser


@dataclass
class AppointmentServer:
    url: str
    app: object
    case: Case
    key: str  # the case's business key (the application number), shown in the inbox


@pytest.fixture(scope="module")
def appointment_server(tmp_path_factory) -> Iterator[AppointmentServer]:
    from flask_migrate import upgrade

    from certflow.db import db

    root = tmp_path_factory.mktemp("choices")
    app = make_app(f"sqlite:///{root / 'choices.sqlite3'}", root / "instance", TESTING=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            "certflow.models.generate_password_hash",
            partial(generate_password_hash, method="pbkdf2:sha256:1"),
        )
        with app.app_context():
            upgrade()
            engine, clock = app.extensions["certflow.engine"], app.extensions["certflow.clock"]
            clock.set(START_TIME)
            deploy_everything(engine)
            case = Case(engine, clock, make_people(clock.now()), root / "uploads")
            make_auditor(db.session, clock.now(), name="钱无证", registration=None)
            db.session.commit()
            case.apply()
            case.review()
            case.contract()
            case.programme()
            key = case.instance().business_key
    with served(app, "choices-server") as url:
        yield AppointmentServer(url, app, case, key)


def choose(page: Page, select_name: str, person: str) -> None:
    """Pick the option that starts with the person's name, by its label (as a person does)."""
    option = page.locator(f'select[name="{select_name}"] option', has_text=person)
    page.select_option(f'select[name="{select_name}"]', label=option.inner_text().strip())


def test_the_team_is_appointed_by_choosing_auditors_from_the_list(
    page: Page, appointment_server: AppointmentServer
):
    from certflow.db import db
    from domain.models import Auditor, AuditTeamMember

    server = appointment_server
    page.goto(f"{server.url}/login")
    page.fill("#username", "ji_scheduler")
    page.fill("#password", "pw")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    page.goto(f"{server.url}/?tab=groups&key={server.key}")
    page.get_by_role("link", name="委派审查组").click()
    expect(page.locator("h1")).to_have_text("委派审查组")

    first = 'select[name="f/members/0/auditor_id"]'
    expect(page.locator(first)).to_be_visible()
    leader = page.locator(f"{first} option", has_text="张组长")
    expect(leader).to_contain_text("注册证书 CCAA-SC-1001 有效期至")
    expect(leader).to_contain_text("具备审查组长资格")
    refused = page.locator(f"{first} option", has_text="钱无证")
    expect(refused).to_be_disabled()
    unavailable = page.locator("details.unavailable").first
    expect(unavailable).to_contain_text("规则第7.2.2条：钱无证没有服务认证审查员注册资格")
    expect(unavailable).not_to_contain_text("#")  # named, never by id (issue 10)
    with pytest.raises(Error):  # a disabled option cannot be chosen
        page.select_option(first, label=refused.inner_text().strip(), timeout=2000)

    choose(page, "f/members/0/auditor_id", "张组长")
    page.locator("#f-members-0-role").get_by_label("审查组长").check()
    page.locator("#f-members [data-add-row]").click()
    second = page.locator("#f-members [data-row]").nth(1)
    second_select = second.locator("select")
    second_name = second_select.get_attribute("name")
    choose(page, second_name, "李审查")
    second.get_by_label("审查员", exact=True).check()
    page.fill('[name="f/objectives"]', "确认是否满足四星级要求")
    page.fill('[name="f/criteria"]', "GB/T 27922-2011、实施规则及客户服务文件")
    page.fill('[name="f/scope_and_boundaries"]', "两个固定服务场所")
    page.fill('[name="f/onsite_start"]', server.case.day(28))
    page.fill('[name="f/onsite_end"]', server.case.day(29))
    page.get_by_role("button", name="提交并完成").click()
    expect(page.locator(".flash-success")).to_contain_text(re.compile("任务已完成：委派审查组"))

    with server.app.app_context():
        team = db.session.execute(
            select(Auditor.name, AuditTeamMember.role)
            .join(Auditor, Auditor.id == AuditTeamMember.auditor_id)
            .order_by(AuditTeamMember.id)
        ).all()
    assert [tuple(row) for row in team] == [("张组长", "leader"), ("李审查", "auditor")]
