"""Certification fees on the case page (R-9.5.1e): the market department (or admin) invoices a
fee of a contract and records payments from choices — bad input is 422 on its field and writes
nothing; the invoice starts its unpaid_fees process in the same transaction; the client of the
case sees its invoices and what is due (case page and home), in Chinese and English, and nothing
of another organisation's."""

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from certflow.dates import china_date
from certflow.db import db
from domain.models import Contract, Organisation
from domain.models_fees import ContractInvoice, ContractPayment
from engine.models import ProcessInstance
from tests.factories import make_application
from tests.web_support import actor, text, web_fixture  # noqa: F401

PROCESS = __import__("pathlib").Path(__file__).parents[2] / "processes" / "unpaid_fees.bpmn"


def contract_of(web, org: str, number: str) -> tuple[int, int, str]:
    """A contracted application of the organisation with its signed contract."""
    with web.app.app_context():
        organisation = db.session.get(Organisation, web.organisations[org])
        application = make_application(db.session, web.now(), organisation)
        contract = Contract(
            application_id=application.id,
            number=number,
            client_signatory="王经理",
            client_signed_on=date(2026, 1, 5),
            cb_signatory="马市场",
            cb_signed_on=date(2026, 1, 6),
            fee=Decimal("30000"),
            recorded_by="mia",
            recorded_at=web.now(),
        )
        db.session.add(contract)
        db.session.commit()
        return organisation.id, contract.id, application.number


def counts(web) -> tuple[int, int, int]:
    with web.app.app_context():
        return (
            db.session.scalar(select(func.count(ContractInvoice.id))),
            db.session.scalar(select(func.count(ContractPayment.id))),
            db.session.scalar(
                select(func.count(ProcessInstance.id)).where(
                    ProcessInstance.process_id == "unpaid_fees"
                )
            ),
        )


def test_market_invoices_and_records_payments_and_the_client_sees_the_balance(web):
    with web.app.app_context():
        web.engine.deploy([PROCESS], actor=actor("olga"), comment="fees")
    org, contract, application_number = contract_of(web, "A", "HT-A-0001")
    web.advance(timedelta(days=30))  # 2026-02-04: the contract (2026-01-06) is signed
    ada = web.browser("ada")
    url = f"/cases/{org}/fees/invoice"
    form_page = text(ada.get(url))
    assert "HT-A-0001" in form_page and "年费" in form_page
    today = china_date(web.now())
    form = {
        "contract_id": str(contract),
        "kind": "annual",
        "amount": "12000",
        "issued_on": "2026-01-10",
        "due_on": "2026-02-28",
        "note": "",
    }
    negative = ada.post(url, {**form, "amount": "-5"})
    assert negative.status_code == 422 and "金额" in text(negative)
    before = ada.post(url, {**form, "issued_on": "2026-01-01"})
    assert before.status_code == 422 and "合同签订" in text(before)
    assert ada.post(url, {**form, "kind": "tip"}).status_code == 422
    assert ada.post(url, {**form, "contract_id": "999999"}).status_code == 422
    assert counts(web) == (0, 0, 0)  # nothing written

    done = ada.post(url, form)
    assert done.status_code == 302, text(done)
    assert counts(web) == (1, 0, 1)
    with web.app.app_context():
        invoice = db.session.scalars(select(ContractInvoice)).one()
        instance = db.session.scalars(
            select(ProcessInstance).where(ProcessInstance.process_id == "unpaid_fees")
        ).one()
        invoice_id, number = invoice.id, invoice.number
        assert (instance.business_key, instance.status) == (application_number, "running")
    assert number == "HT-A-0001-F01"

    pay_url = f"/cases/{org}/fees/{invoice_id}/payment"
    payment = {"amount": "5000", "paid_on": today.isoformat(), "reference": "BANK-001"}
    too_much = ada.post(pay_url, {**payment, "amount": "12000.01"})
    assert too_much.status_code == 422 and "余额" in text(too_much)
    no_reference = ada.post(pay_url, {**payment, "reference": " "})
    assert no_reference.status_code == 422
    assert counts(web) == (1, 0, 1)
    assert ada.post(pay_url, payment).status_code == 302
    assert counts(web) == (1, 1, 1)

    # The client of A: its invoice, what it paid and what is due — both languages, no codes.
    carl = web.browser("carl")
    for page in (text(carl.get(f"/cases/{org}")), text(carl.get("/home"))):
        assert number in page and "年费" in page and "7000.00" in page and "5000.00" in page
        assert "annual" not in page and "partly_paid" not in page and "None" not in page
    english = text(carl.get(f"/cases/{org}?lang=en"))
    assert "Annual fee" in english and "Still to pay: 7000.00 yuan" in english
    assert "annual_fee" not in english and "None" not in english
    # Nor invoicing for the client; another organisation's client sees nothing of it.
    assert carl.post(url, form).status_code == 403
    assert number not in text(web.browser("cora").get("/home"))


def test_an_invoice_of_another_case_is_not_found(web):
    org_a, _, _ = contract_of(web, "A", "HT-A-0002")
    _, contract_b, _ = contract_of(web, "B", "HT-B-0001")
    web.advance(timedelta(days=30))
    with web.app.app_context():
        from domain import contract_fees

        invoice_b = contract_fees.record_invoice(
            db.session,
            contract_id=contract_b,
            kind="audit",
            amount="100",
            issued_on="2026-01-10",
            due_on="2026-01-20",
            note=None,
            actor="ada",
            now=web.now(),
        )
        db.session.commit()
        invoice_b_id = invoice_b.id
    ada = web.browser("ada")
    assert ada.get(f"/cases/{org_a}/fees/{invoice_b_id}/payment").status_code == 404
    response = ada.post(
        f"/cases/{org_a}/fees/invoice",
        {
            "contract_id": str(contract_b),
            "kind": "audit",
            "amount": "1",
            "issued_on": "2026-01-10",
            "due_on": "2026-01-20",
        },
    )
    assert response.status_code == 422  # B's contract is not a choice of A's case
    assert counts(web)[0] == 1
    # unpaid_fees not deployed here: the invoice is not kept without its process (no 500).
    _, contract_a, _ = contract_of(web, "A", "HT-A-0009")
    response = ada.post(
        f"/cases/{org_a}/fees/invoice",
        {
            "contract_id": str(contract_a),
            "kind": "audit",
            "amount": "1",
            "issued_on": "2026-01-10",
            "due_on": "2026-01-20",
        },
    )
    assert response.status_code == 503 and "暂时无法开具发票" in text(response)
    assert counts(web) == (1, 0, 0)


def test_the_api_lists_an_organisations_invoices_to_its_client_and_staff_only(web):
    org_a, contract_a, _ = contract_of(web, "A", "HT-A-0003")
    org_b, _, _ = contract_of(web, "B", "HT-B-0002")
    web.advance(timedelta(days=30))
    with web.app.app_context():
        from certflow.accounts import issue_token
        from certflow.models import User
        from domain import contract_fees

        invoice = contract_fees.record_invoice(
            db.session,
            contract_id=contract_a,
            kind="surveillance",
            amount="3000",
            issued_on="2026-01-10",
            due_on="2026-01-20",
            note=None,
            actor="mia",
            now=web.now(),
        )
        contract_fees.record_payment(
            db.session,
            invoice_id=invoice.id,
            amount="1000",
            paid_on="2026-01-15",
            reference="BANK-7",
            actor="mia",
            now=web.now(),
        )
        users = {u.username: u for u in db.session.scalars(select(User))}
        tokens = {n: issue_token(db.session, users[n], web.now()) for n in ("ada", "carl", "cora")}
        db.session.commit()
    client = web.app.test_client()

    def get(user: str, org: int):
        headers = {"Authorization": f"Bearer {tokens[user]}"}
        return client.get(f"/api/v1/organisations/{org}/invoices", headers=headers)

    mine = get("carl", org_a)
    assert mine.status_code == 200, mine.json
    [item] = mine.json["items"]
    assert (item["number"], item["status"], item["paid"], item["balance"]) == (
        "HT-A-0003-F01",
        "overdue",  # due 2026-01-20, today 2026-02-04
        "1000.00",
        "2000.00",
    )
    assert mine.json["balance"] == "2000.00"
    assert item["payments"][0]["recorded_by"] is None  # internal: staff only
    assert get("ada", org_a).json["items"][0]["payments"][0]["recorded_by"] == "mia"
    assert get("cora", org_a).status_code == 404
    assert get("carl", org_b).status_code == 404
