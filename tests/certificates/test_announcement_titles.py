"""Announcement titles on the public registry (R-14, issue 10): one language per page, from the
letters catalogue — never "获证公告 Certified: …" in both at once."""

import re
from datetime import UTC, date, datetime

from certflow.db import db
from domain.certificates import announcement_title
from domain.models import Announcement
from tests.factories import make_application, make_audit, make_organisation
from tests.web_support import text

ISSUED_AT = datetime(2026, 3, 9, 17, 30, tzinfo=UTC)
TITLE = re.compile(r'<h2 class="announcement-title">([^<]+)</h2>')
CJK = re.compile(r"[\u4e00-\u9fff]")


def _certify_and_suspend(app) -> tuple[str, str]:
    """A certificate issued and then suspended by the real handlers: two announcements."""
    from handlers import get_handler
    from tests.helpers import handler_context

    def call(operator, params, now, actor="shen_auditdept"):
        return get_handler(operator)(params, handler_context(db.session, now, actor=actor))

    with app.app_context():
        org = make_organisation(db.session, ISSUED_AT, sites=1)
        application = make_application(db.session, ISSUED_AT, org, requested_level=4)
        audit = make_audit(db.session, ISSUED_AT, org, application, start=date(2026, 2, 1))
        audit.status, audit.conclusion, audit.star_level_achieved = "completed", "recommend", 4
        db.session.flush()
        decision = call(
            "decision.record",
            {
                "application_id": application.id,
                "audit_id": audit.id,
                "outcome": "grant",
                "star_level": 4,
                "reasons": "",
            },
            ISSUED_AT,
            actor="tina_technical",
        )
        issued = call(
            "certificate.issue",
            {"application_id": application.id, "decision_id": decision["id"]},
            ISSUED_AT,
            actor="system",
        )
        call(
            "certificate.suspend",
            {"certificate_id": issued["id"], "reason": "c", "sites": [], "detail": "内部"},
            datetime(2026, 8, 1, 2, 0, tzinfo=UTC),
        )
        db.session.commit()
        return org.name, issued["number"]


def test_registry_announcement_titles_are_in_the_page_language(app):
    name, number = _certify_and_suspend(app)
    client = app.test_client()

    chinese = TITLE.findall(text(client.get("/registry/announcements")))
    assert chinese == [f"暂停公告：{name}（{number}）", f"获证公告：{name}（{number}）"]

    english = TITLE.findall(text(client.get("/registry/announcements?lang=en")))
    assert english == [f"Suspended: {name} ({number})", f"Certified: {name} ({number})"]
    for title in english:  # only the organisation's own name may be Chinese
        assert not CJK.search(title.replace(name, "")), title


def test_stored_titles_come_from_the_catalogue_in_the_document_language(app):
    name, number = _certify_and_suspend(app)
    with app.app_context():
        stored = db.session.query(Announcement.kind, Announcement.title).all()
    assert sorted(stored) == [
        ("certified", f"获证公告：{name}（{number}）"),
        ("suspended", f"暂停公告：{name}（{number}）"),
    ]


def test_every_announcement_kind_has_a_title_in_both_languages():
    from webapp.public_certificate import ANNOUNCEMENT_KINDS

    for kind in ANNOUNCEMENT_KINDS:
        zh = announcement_title(kind, "某公司", "CTC-1", locale="zh_CN")
        en = announcement_title(kind, "ACME", "CTC-1", locale="en")
        assert zh.endswith("公告：某公司（CTC-1）"), zh
        assert en.endswith(": ACME (CTC-1)") and not CJK.search(en), en
