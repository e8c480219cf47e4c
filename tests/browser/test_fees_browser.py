"""R-9.5.1e in a real browser: the market department opens the case, invoices the annual fee (a
refused negative amount first), records a partial payment (one beyond the balance refused first),
and the client sees the invoice and what it still owes in its portal — Chinese and English, no
raw codes."""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from certflow.accounts import create_user
from certflow.dates import china_date
from certflow.db import db
from domain.models import Application, Contract, Organisation
from engine.service import Actor
from tests.browser.conftest import Live
from tests.factories import make_application
from tests.helpers import OWNER
from tests.web_support import PASSWORD

pytestmark = pytest.mark.browser
UNPAID_FEES = Path(__file__).parents[2] / "processes" / "unpaid_fees.bpmn"


def contracted_case(live: Live) -> tuple[int, str]:
    """A new organisation with a signed contract, a client user, and a market user with a part in
    its case (he started its review)."""
    web = live.web
    with web.app.app_context():
        web.engine.deploy([UNPAID_FEES], actor=OWNER, comment="fees browser test")
        organisation = Organisation(
            name="丁公司 Delta Ltd",
            uscc="91350100M000300Y00",
            address="福州市",
            contact_name="丁",
            created_at=web.now(),
        )
        db.session.add(organisation)
        db.session.flush()
        create_user(
            db.session,
            "mona_browser",
            password=PASSWORD,
            roles={"market"},
            display_name="Mona 市场",
            now=web.now(),
        )
        client = create_user(
            db.session,
            "dora_browser",
            password=PASSWORD,
            roles={"client"},
            display_name="Dora 客户",
            now=web.now(),
        )
        client.organisation_id = organisation.id
        application = make_application(db.session, web.now(), organisation, number="APP-D-FEE")
        instance = web.engine.start(
            "review_flow",
            actor=Actor("mona_browser", frozenset({"market"})),
            business_key="APP-D-FEE",
            data={"headcount": 120, "application_id": "APP-D-FEE"},
        )
        db.session.get(Application, application.id).instance_id = instance.id
        signed = china_date(web.now()) - timedelta(days=5)
        db.session.add(
            Contract(
                application_id=application.id,
                number="HT-D-0001",
                client_signatory="丁经理",
                client_signed_on=signed,
                cb_signatory="Mona",
                cb_signed_on=signed,
                fee=Decimal("20000"),
                recorded_by="mona_browser",
                recorded_at=web.now(),
            )
        )
        db.session.commit()
        return organisation.id, china_date(web.now()).isoformat()


def test_market_invoices_a_partial_payment_and_the_client_sees_the_balance(
    page: Page, login, live: Live
):
    organisation_id, today = contracted_case(live)
    login("mona_browser")
    page.goto(f"/cases/{organisation_id}")
    fees = page.locator("#fees")
    expect(fees).to_contain_text("尚无发票")
    fees.get_by_role("link", name="开具费用发票").click()
    expect(page.locator("h1")).to_have_text("开具费用发票")
    page.select_option("#kind", "annual")
    page.fill("#amount", "-100")
    page.fill("#issued_on", today)
    page.fill("#due_on", today)
    page.get_by_role("button", name="登记发票").click()  # negative: refused, nothing kept
    expect(page.locator("#amount-errors")).to_contain_text("大于零")
    page.fill("#amount", "12000")
    page.get_by_role("button", name="登记发票").click()
    expect(page.locator(".flash")).to_contain_text("HT-D-0001-F01")
    row = page.locator("#fees [data-invoice='HT-D-0001-F01']")
    expect(row).to_contain_text("年费")
    expect(row.locator("[data-status]")).to_have_text("未付款")

    row.get_by_role("link", name="登记收款").click()
    page.fill("#amount", "20000")
    page.fill("#paid_on", today)
    page.fill("#reference", "银行转账 BANK-D-1")
    page.get_by_role("button", name="登记收款").click()  # beyond the balance: refused
    expect(page.locator("#amount-errors")).to_contain_text("余额")
    page.fill("#amount", "5000")
    page.get_by_role("button", name="登记收款").click()
    row = page.locator("#fees [data-invoice='HT-D-0001-F01']")
    expect(row.locator("[data-status]")).to_have_text("部分付款")
    expect(row.locator("[data-balance]")).to_have_text("7000.00")

    page.context.clear_cookies()
    login("dora_browser")
    page.goto("/home")
    fees = page.locator("#fees")
    expect(fees.locator("[data-fees-due]")).to_contain_text("尚欠：7000.00 元")
    row = fees.locator("[data-invoice='HT-D-0001-F01']")
    expect(row).to_contain_text("年费")
    expect(row.locator("[data-paid]")).to_have_text("5000.00")
    expect(fees.locator("[data-payment]")).to_contain_text("BANK-D-1")
    expect(fees.get_by_role("link", name="登记收款")).to_have_count(0)  # the client only reads
    page.goto("/home?lang=en")
    fees = page.locator("#fees")
    expect(fees.locator("[data-fees-due]")).to_contain_text("Still to pay: 7000.00 yuan")
    expect(fees).to_contain_text("Annual fee")
    expect(fees.locator("[data-status]")).to_have_text("Partly paid")
    for raw in ("annual", "partly_paid", "None"):
        assert raw not in fees.inner_text()
