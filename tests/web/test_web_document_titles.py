"""Titles of generated documents (issue 10): from the letters catalogue, one language per page —
the client's documents list and the case page show "不符合报告（APP-…）" in Chinese and
"Nonconformity report — APP-…" in English, never "不符合报告 Nonconformity report — …"; on the real
diagrams, handlers and web app, on both databases."""

import re

import pytest
from sqlalchemy import select

from certflow.db import db
from certflow.models import User
from domain.documents import create_document, document_title, shown_title
from domain.letter_templates import document_locale
from domain.models import Application, Document
from tests.certification_case import Case, deploy_everything, make_people, one_nc, through_onsite
from tests.factories import make_organisation
from tests.web.test_web_evidence_checklist import CaseBrowser
from tests.web_support import text

CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN_WORD = re.compile(r"\b[A-Za-z]{3,}\b")
KINDS = (
    "not_accepted_notice",
    "appointment_letter",
    "audit_report",
    "mystery_shopping_record",
    "nc_report",
    "nc_reminder",
    "refusal_notice",
    "surveillance_reminder",
    "extra_surveillance_trigger",
    "certificate_change_notice",
    "change_refusal_notice",
    "disclosure_notice",
    "disclosure_record",
    "misuse_notice",
    "misuse_closure",
    "complaint_acknowledgement",
    "complaint_reminder",
    "complaint_follow_up",
    "complaint_reply",
)


def test_every_document_kind_has_a_title_in_each_language_alone():
    facts = {"reference": "APP-2026-0001", "audit_kind": "initial", "number": 1}
    for kind in KINDS:
        chinese = document_title(kind, locale="zh_CN", **facts)
        english = document_title(kind, locale="en", **facts)
        assert "APP-2026-0001" in chinese and "APP-2026-0001" in english, kind
        assert CJK.search(chinese) and not LATIN_WORD.search(chinese.replace("APP-", "")), chinese
        assert not CJK.search(english) and LATIN_WORD.search(english), english
    with pytest.raises(ValueError):
        document_title("no_such_kind", reference="x")


def test_a_stored_title_is_in_the_document_locale_and_shown_in_the_pages(ctx, clock):
    organisation = make_organisation(db.session, clock.now())
    with document_locale("en"):
        document = create_document(
            db.session,
            kind="nc_report",
            title_facts={"reference": "APP-2026-0009"},
            body="x",
            organisation_id=organisation.id,
            created_by="system",
            now=clock.now(),
        )
    assert document.title == "Nonconformity report — APP-2026-0009"
    assert shown_title(document, "zh_CN") == "不符合报告（APP-2026-0009）"
    assert shown_title(document, "en") == document.title


@pytest.fixture
def certified_case(app, ctx, engine, clock, tmp_path):
    deploy_everything(engine)
    people = make_people(clock.now())
    organisation = make_organisation(db.session, clock.now(), sites=0)
    client = db.session.scalars(select(User).where(User.username == "wang_client")).one()
    client.organisation_id = organisation.id
    db.session.commit()
    case = Case(engine, clock, people, tmp_path / "uploads")
    through_onsite(case, points_lost=80, nonconformities=one_nc())
    case.receive_report()
    case.confirm_ncs()
    return case


def documents_shown(page: str) -> list[str]:
    section = page[page.index('id="my-documents"') :]
    section = section[: section.index("</section>")]
    return [re.sub(r"<[^>]+>", "", t) for t in re.findall(r"<a href=[^>]*>(.*?)</a>", section)]


def test_the_clients_documents_are_titled_in_the_pages_language_only(app, certified_case):
    number = db.session.scalars(select(Application.number)).one()
    kinds = {d.kind for d in db.session.scalars(select(Document)).all()}
    assert {"audit_report", "nc_report", "appointment_letter"} <= kinds
    web = CaseBrowser(app)
    assert web.login("wang_client", "pw").status_code == 302
    chinese = documents_shown(text(web.get("/home?lang=zh_CN")))
    assert f"不符合报告（{number}）" in chinese and f"审查报告（{number}）" in chinese, chinese
    assert not any(LATIN_WORD.search(t.replace(number, "")) for t in chinese), chinese
    english = documents_shown(text(web.get("/home?lang=en")))
    assert f"Nonconformity report — {number}" in english, english
    assert not any(CJK.search(t) for t in english), english
    # The case page and the document itself, too.
    organisation_id = db.session.scalars(select(Application.organisation_id)).one()
    case_page = text(web.get(f"/cases/{organisation_id}?lang=en"))
    assert f"Audit report — {number}" in case_page and "审查报告" not in case_page
    report = db.session.scalars(select(Document).where(Document.kind == "audit_report")).one()
    page = text(web.get(f"/cases/{organisation_id}/documents/{report.id}?lang=zh_CN"))
    assert f"<h1>审查报告（{number}）</h1>" in page
