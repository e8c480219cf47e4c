"""The public registry (R-14): search, certificate page, status history, announcements; open to
anonymous visitors, cacheable, and showing nothing confidential (R-11)."""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest

from certflow.db import db
from domain.models import (
    Announcement,
    Certificate,
    CertificateEvent,
    Finding,
    Organisation,
    Site,
)
from tests.conftest import START_TIME
from tests.factories import VALID_USCC, make_application, make_audit, make_organisation
from tests.web_support import text, web_fixture  # noqa: F401

NUMBER = "CTC-SHFW-2026-0001"
OTHER_USCC = "91110000MA00000002"
SECRET_REASON = "内部原因：客户联系人王芳多次未接电话"
SECRET_EVIDENCE = "抽查记录显示维修回访率仅 61%"
SCORE = "93.75"


def add_certificate(
    session,
    org,
    *,
    number=NUMBER,
    status="valid",
    star_level=5,
    issued_on=date(2026, 1, 10),
    original_issued_on=None,
    changed_on=None,
    expires_on=None,
    suspended_sites=(),
    replaces_id=None,
) -> Certificate:
    sites = session.query(Site).filter_by(organisation_id=org.id).order_by(Site.id).all()
    certificate = Certificate(
        number=number,
        organisation_id=org.id,
        organisation_name=org.name,
        organisation_address=org.address,
        sites=[
            {"id": s.id, "name": s.name, "address": s.address, "is_fixed": s.is_fixed}
            for s in sites
        ],
        scope="家用电器的安装、维修与退换货服务",
        star_level=star_level,
        standard="GB/T 27922-2011 商品售后服务评价体系",
        rules="首认检测认证/CTC 商品售后服务认证实施规则",
        issuing_body="首认检测认证/CTC",
        signatory="张决定",
        issued_on=issued_on,
        original_issued_on=original_issued_on or issued_on,
        changed_on=changed_on,
        expires_on=expires_on or issued_on.replace(year=issued_on.year + 3) - timedelta(days=1),
        status=status,
        replaces_id=replaces_id,
        mark=f"服务认证标志 {star_level}星",
        suspended_sites=list(suspended_sites),
        mark_use_allowed=status == "valid",
    )
    session.add(certificate)
    session.flush()
    return certificate


def add_event(session, certificate, event, rule, on, *, before, after, sites=(), reason=""):
    session.add(
        CertificateEvent(
            certificate_id=certificate.id,
            event=event,
            rule=rule,
            reason=reason,
            status_before=before,
            status_after=after,
            sites=list(sites),
            actor="decider.zhang",
            at=datetime(on.year, on.month, on.day, 2, 0, tzinfo=UTC),
            effective_on=on,
            data={"score": SCORE, "contact_phone": "0591-0000000"},
        )
    )
    session.flush()


def add_announcement(session, certificate, kind, on, *, title=None, n=0):
    session.add(
        Announcement(
            certificate_id=certificate.id,
            kind=kind,
            organisation_name=certificate.organisation_name,
            certificate_number=certificate.number,
            title=title or f"{certificate.organisation_name} 公告 {kind} {n}",
            body=f"证书 {certificate.number} 状态：{kind}",
            published_on=on,
            published_at=datetime(on.year, on.month, on.day, 1, n % 60, tzinfo=UTC),
        )
    )


@dataclass
class Registry:
    """Organisation A (福州优服电器有限公司, 2 sites) with a reissued 4-star certificate that
    replaced a 5-star one and is partially suspended; organisation B (厦门 …) withdrawn."""

    app: object
    current: str
    old: str
    withdrawn: str
    site_names: list[str]

    def get(self, url: str, **kwargs):
        return self.app.test_client().get(url, **kwargs)


@pytest.fixture
def registry(app) -> Registry:
    with app.app_context():
        now = START_TIME
        org = make_organisation(db.session, now, sites=2)
        application = make_application(db.session, now, org)
        audit = make_audit(db.session, now, org, application)
        audit.score = Decimal(SCORE)
        audit.final_score = Decimal(SCORE)
        db.session.add(
            Finding(
                audit_id=audit.id,
                item_code="5.2.4",
                method="records",
                result="nonconform",
                evidence=SECRET_EVIDENCE,
                recorded_by="auditor.li",
                recorded_at=now,
            )
        )
        sites = db.session.query(Site).filter_by(organisation_id=org.id).order_by(Site.id).all()
        old = add_certificate(
            db.session, org, number="CTC-SHFW-2025-0007", issued_on=date(2025, 3, 1)
        )
        add_event(db.session, old, "issued", "R-8.8", date(2025, 3, 1), before=None, after="valid")
        add_event(
            db.session,
            old,
            "superseded",
            "R-9.3",
            date(2026, 1, 20),
            before="valid",
            after="superseded",
        )
        old.status = "superseded"
        current = add_certificate(
            db.session,
            org,
            number="CTC-SHFW-2026-0003",
            star_level=4,
            issued_on=date(2026, 1, 20),
            original_issued_on=date(2025, 3, 1),
            changed_on=date(2026, 1, 20),
            expires_on=date(2028, 2, 29),
            status="suspended",
            suspended_sites=[sites[1].id],
            replaces_id=old.id,
        )
        add_event(
            db.session,
            current,
            "downgraded",
            "R-8.10.3b",
            date(2026, 1, 20),
            before=None,
            after="valid",
            reason=SECRET_REASON,
        )
        add_event(
            db.session,
            current,
            "surveillance_extended",
            "R-8.10.1",
            date(2026, 1, 22),
            before="valid",
            after="valid",
            reason="延期理由：内部人员不足",
        )
        add_event(
            db.session,
            current,
            "suspended",
            "R-9.5.1c",
            date(2026, 2, 3),
            before="valid",
            after="suspended",
            sites=[sites[1].id],
            reason=SECRET_REASON,
        )
        current.status_changed_on = date(2026, 2, 3)
        add_announcement(db.session, current, "downgraded", date(2026, 1, 20))
        add_announcement(db.session, current, "suspended", date(2026, 2, 3))

        other = make_organisation(
            db.session, now, name="厦门海服家电维修有限公司", uscc=OTHER_USCC, sites=1
        )
        withdrawn = add_certificate(
            db.session, other, number="CTC-SHFW-2025-0002", issued_on=date(2025, 6, 1)
        )
        add_event(
            db.session, withdrawn, "issued", "R-8.8", date(2025, 6, 1), before=None, after="valid"
        )
        add_event(
            db.session,
            withdrawn,
            "withdrawn",
            "R-9.5.2b",
            date(2026, 1, 15),
            before="valid",
            after="withdrawn",
            reason=SECRET_REASON,
        )
        withdrawn.status = "withdrawn"
        withdrawn.status_changed_on = date(2026, 1, 15)
        add_announcement(db.session, withdrawn, "withdrawn", date(2026, 1, 15))
        db.session.commit()
        return Registry(app, current.number, old.number, withdrawn.number, [s.name for s in sites])


def rows(html: str, table_id: str) -> list[str]:
    """The text of each body row of a table."""
    match = re.search(rf'<table[^>]*id="{table_id}".*?<tbody>(.*?)</tbody>', html, re.S)
    assert match, f"no table {table_id}"
    return [
        " ".join(re.sub(r"<[^>]+>", " ", row).split())
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", match.group(1), re.S)
    ]


class _ElementText(HTMLParser):
    """The text of the element with one id (nested elements included)."""

    VOID = {"br", "img", "input", "meta", "link", "hr"}

    def __init__(self, element_id: str) -> None:
        super().__init__()
        self.element_id = element_id
        self.depth = 0
        self.found = False
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        if self.depth:
            self.depth += 1
        elif dict(attrs).get("id") == self.element_id and not self.found:
            self.found = True
            self.depth = 1

    def handle_endtag(self, tag):
        if self.depth and tag not in self.VOID:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.parts.append(data)


def element(html: str, element_id: str) -> str:
    parser = _ElementText(element_id)
    parser.feed(html)
    assert parser.found, f"no element {element_id}"
    return " ".join(" ".join(parser.parts).split())


# -- search ---------------------------------------------------------------------------------------
def test_search_by_number_is_exact_and_ignores_case_and_spaces(registry):
    for q in (
        registry.current,
        registry.current.lower(),
        f"  {registry.current[:8]} {registry.current[8:]} ",
    ):
        html = text(registry.get("/registry", query_string={"q": q}))
        found = rows(html, "search-results")
        assert len(found) == 1, q
        assert registry.current in found[0] and "福州优服电器有限公司" in found[0]
        assert "部分暂停" in found[0] and "四星级" in found[0]
    html = text(registry.get("/registry", query_string={"q": "CTC-SHFW-2026"}))
    assert 'id="no-results"' in html and 'id="search-results"' not in html


def test_search_by_organisation_name_substring(registry):
    html = text(registry.get("/registry", query_string={"q": "优服电器"}))
    found = rows(html, "search-results")
    assert len(found) == 2
    assert all("福州优服电器有限公司" in row for row in found)
    assert any(registry.current in row and "部分暂停" in row for row in found)
    assert any(registry.old in row and "已换发" in row for row in found)
    assert "厦门" not in html
    html = text(registry.get("/registry", query_string={"q": "海服"}))
    [row] = rows(html, "search-results")
    assert registry.withdrawn in row and "撤销" in row and "Withdrawn" in row
    # LIKE wildcards are plain text
    assert 'id="no-results"' in text(registry.get("/registry", query_string={"q": "%"}))
    # no query: the form only
    html = text(registry.get("/registry"))
    assert 'id="registry-search"' in html and 'id="search-results-section"' not in html


# -- the certificate page -------------------------------------------------------------------------
def test_certificate_page_shows_the_public_fields_and_the_status_history(registry):
    response = registry.get(f"/registry/certificates/{registry.current}")
    assert response.status_code == 200
    html = text(response)
    assert element(html, "certificate-number") == registry.current
    assert element(html, "certificate-organisation") == "福州优服电器有限公司"
    assert element(html, "certificate-scope") == "家用电器的安装、维修与退换货服务"
    assert "四星级" in element(html, "certificate-level")
    assert element(html, "certificate-standard") == "GB/T 27922-2011 商品售后服务评价体系"
    assert element(html, "certificate-issuing-body") == "首认检测认证/CTC"
    assert element(html, "certificate-issued-on") == "2026-01-20"
    assert element(html, "certificate-original-issued-on") == "2025-03-01"
    assert element(html, "certificate-changed-on") == "2026-01-20"
    assert element(html, "certificate-expires-on") == "2028-02-29"
    assert element(html, "certificate-replaces") == registry.old
    sites = element(html, "certificate-sites")
    assert all(name in sites for name in registry.site_names)
    assert f'href="/registry/certificates/{registry.current}.pdf"' in html

    history = rows(html, "status-history")
    # The rule in words, as a clause of the certification rules (issue 10), not "R-8.10.3b".
    assert history == [
        "2026-01-20 降级 《商品售后服务认证实施规则》第8.10.3条（b）",
        f"2026-02-03 暂停 （{registry.site_names[1]}） 《商品售后服务认证实施规则》第9.5.1条（c）",
    ]  # the surveillance extension is internal: not published
    assert 'class="event event-suspended"' in html
    english = text(registry.get(f"/registry/certificates/{registry.current}?lang=en"))
    assert "Certification rules, clause 8.10.3 (b)" in rows(english, "status-history")[0]
    assert "R-8.10.3b" not in english


def test_a_partial_suspension_is_shown_as_such(registry):
    html = text(registry.get(f"/registry/certificates/{registry.current}"))
    assert element(html, "certificate-status") == "部分暂停 Partially suspended"
    assert re.search(
        r'id="certificate-status" class="status status-suspended status-partial"', html
    )
    assert 'id="partial-suspension"' in html
    suspended = re.findall(
        r'<li class="site site-suspended"><span class="site-name">([^<]+)<', html
    )
    assert suspended == [registry.site_names[1]]
    assert f'<li class="site"><span class="site-name">{registry.site_names[0]}<' in html


def test_a_full_suspension_and_a_withdrawal_show_their_status(registry):
    html = text(registry.get(f"/registry/certificates/{registry.withdrawn}"))
    assert element(html, "certificate-status") == "撤销 Withdrawn"
    assert 'class="status status-withdrawn"' in html
    assert element(html, "status-since") == "自 2026-01-15"
    assert rows(html, "status-history") == [
        "2025-06-01 颁发证书 《商品售后服务认证实施规则》第8.8条",
        "2026-01-15 撤销 《商品售后服务认证实施规则》第9.5.2条（b）",
    ]
    assert 'id="status-notice"' in html

    with registry.app.app_context():
        certificate = db.session.query(Certificate).filter_by(number=registry.current).one()
        certificate.suspended_sites = []  # the whole certificate
        db.session.commit()
    html = text(registry.get(f"/registry/certificates/{registry.current}"))
    assert element(html, "certificate-status") == "暂停 Suspended"
    assert 'class="status status-suspended"' in html and "status-partial" not in html


def test_a_replaced_certificate_links_to_the_new_one(registry):
    html = text(registry.get(f"/registry/certificates/{registry.old}"))
    assert element(html, "certificate-status") == "已换发 Superseded"
    assert element(html, "certificate-replaced-by") == registry.current
    assert 'id="certificate-original-issued-on"' not in html  # never changed itself
    assert rows(html, "status-history") == [
        "2025-03-01 颁发证书 《商品售后服务认证实施规则》第8.8条",
        "2026-01-20 被新证书替换 《商品售后服务认证实施规则》第9.3条",
    ]


def test_a_valid_certificate_past_its_expiry_date_is_not_shown_as_valid(app):
    with app.app_context():
        org = make_organisation(db.session, START_TIME, sites=1)
        add_certificate(db.session, org, issued_on=date(2022, 12, 1), expires_on=date(2025, 11, 30))
        db.session.commit()
    html = text(app.test_client().get(f"/registry/certificates/{NUMBER}"))
    assert element(html, "certificate-status") == "已过期 Expired"


def test_the_number_in_the_url_is_not_case_sensitive(registry):
    response = registry.get(f"/registry/certificates/{registry.current.lower()}")
    assert response.status_code == 301
    assert response.headers["Location"].endswith(f"/registry/certificates/{registry.current}")
    response = registry.get(f"/registry/certificates/{registry.current.lower()}.pdf")
    assert response.status_code == 301
    assert response.headers["Location"].endswith(f"/registry/certificates/{registry.current}.pdf")


def test_unknown_numbers_are_404(registry):
    for url in (
        "/registry/certificates/CTC-SHFW-1999-0001",
        "/registry/certificates/CTC-SHFW-1999-0001.pdf",
        "/registry/certificates/" + "X" * 300,
    ):
        response = registry.get(url)
        assert response.status_code == 404, url
        assert 'id="certificate-not-found"' in text(response)
        assert "/login" not in response.headers.get("Location", "")


# -- announcements --------------------------------------------------------------------------------
def test_announcements_newest_first_filtered_by_kind(registry):
    html = text(registry.get("/registry/announcements"))
    titles = re.findall(r'<h2 class="announcement-title">([^<]+)</h2>', html)
    assert titles == [  # from the letters catalogue, in the page's language (issue 10)
        f"暂停公告：福州优服电器有限公司（{registry.current}）",
        f"降级公告：福州优服电器有限公司（{registry.current}）",
        f"撤销公告：厦门海服家电维修有限公司（{registry.withdrawn}）",
    ]
    assert element(html, "announcement-count") == "共 3 条"
    assert f'href="/registry/certificates/{registry.withdrawn}"' in html

    html = text(registry.get("/registry/announcements?kind=withdrawn"))
    assert re.findall(r'data-kind="(\w+)">\s*<p class="announcement-meta">', html) == ["withdrawn"]
    current = '<a href="/registry/announcements?kind=withdrawn" data-kind="withdrawn" aria-current'
    assert current in html
    html = text(registry.get("/registry/announcements?kind=restored"))
    assert 'id="no-announcements"' in html
    html = text(registry.get("/registry/announcements?kind=nonsense"))  # ignored
    assert len(re.findall(r'<li class="card announcement ', html)) == 3


def test_announcements_are_paginated(app):
    with app.app_context():
        org = make_organisation(db.session, START_TIME, sites=1)
        certificate = add_certificate(db.session, org)
        for n in range(45):
            kind = "suspended" if n % 3 == 0 else "certified"
            add_announcement(
                db.session, certificate, kind, date(2025, 1, 1) + timedelta(days=n), n=n
            )
        db.session.commit()
    client = app.test_client()

    def numbers(html):  # announcement n was published n days after 1 January 2025
        return [
            (date.fromisoformat(day) - date(2025, 1, 1)).days
            for day in re.findall(r'<time datetime="([0-9-]+)">', html)
        ]

    page1 = text(client.get("/registry/announcements"))
    assert numbers(page1) == list(range(44, 24, -1))
    assert 'rel="next" href="/registry/announcements?page=2"' in page1
    page3 = text(client.get("/registry/announcements?page=3"))
    assert numbers(page3) == list(range(4, -1, -1))
    assert numbers(text(client.get("/registry/announcements?page=99"))) == numbers(page3)  # last
    suspended = text(client.get("/registry/announcements?kind=suspended"))
    assert numbers(suspended) == list(range(42, -1, -3))  # 15: one page
    assert 'class="pagination"' not in suspended
    assert element(suspended, "announcement-count") == "共 15 条"
    certified2 = text(client.get("/registry/announcements?kind=certified&page=2"))
    assert numbers(certified2) == [n for n in range(44, -1, -1) if n % 3][20:]
    assert 'rel="prev" href="/registry/announcements?kind=certified"' in certified2


# -- confidentiality, access, language, caching ---------------------------------------------------
def test_nothing_confidential_appears(registry):
    pages = [
        f"/registry?q={registry.current}",
        "/registry?q=优服",
        f"/registry/certificates/{registry.current}",
        f"/registry/certificates/{registry.old}",
        f"/registry/certificates/{registry.withdrawn}",
        "/registry/announcements",
    ]
    secrets = [
        VALID_USCC,
        OTHER_USCC,
        "0591-0000000",  # contact phone
        "service@example.cn",  # contact e-mail
        "王芳",  # contact name
        SCORE,
        "93.8",
        SECRET_REASON,
        SECRET_EVIDENCE,
        "延期理由",
        "decider.zhang",  # actor
        "auditor.li",
    ]
    for url in pages:
        for lang in ("zh_CN", "en"):
            html = text(registry.get(url + ("&" if "?" in url else "?") + f"lang={lang}"))
            for secret in secrets:
                assert secret not in html, (url, lang, secret)


def test_anonymous_visitors_are_served_and_responses_are_cacheable(registry):
    client = registry.app.test_client()
    for url in (
        "/registry",
        f"/registry?q={registry.current}",
        f"/registry/certificates/{registry.current}",
        "/registry/announcements",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "public, max-age=60", url
        assert "Cookie" in response.headers["Vary"]
        assert "Set-Cookie" not in response.headers, url
        assert "Content-Security-Policy" in response.headers
    # a language choice sets the session cookie: that response is for this browser only
    response = client.get("/registry?lang=en")
    assert "private" in response.headers["Cache-Control"]


def test_signed_in_users_see_the_registry_too_but_privately_cached(web):
    with web.app.app_context():
        org = db.session.get(Organisation, web.organisations["A"])
        add_certificate(db.session, org)
        db.session.commit()
    browser = web.browser("mia")
    response = browser.get(f"/registry/certificates/{NUMBER}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, max-age=60"
    assert "甲公司 Alpha Ltd" in text(response)


def test_english_on_request(registry):
    html = text(registry.get(f"/registry/certificates/{registry.current}?lang=en"))
    assert '<html lang="en">' in html
    assert "Status history" in html and "Certificate details" in html
    assert element(html, "certificate-status") == "部分暂停 Partially suspended"  # both
    assert "Four-star (四星级)" in element(html, "certificate-level")
    assert (
        rows(html, "status-history")[0]
        == "2026-01-20 Downgraded Certification rules, clause 8.10.3 (b)"
    )
    html = text(registry.get("/registry/announcements?lang=en"))
    assert "Announcements" in html and "Withdrawn" in html
    html = text(registry.get("/registry"))
    assert '<html lang="zh-CN">' in html and "证书查询" in html  # Chinese by default


# -- with the rows the lifecycle handlers write ---------------------------------------------------
def test_the_registry_shows_what_the_status_handlers_wrote(app):
    from handlers import get_handler
    from tests.helpers import handler_context

    issued_at = datetime(2026, 3, 9, 17, 30, tzinfo=UTC)  # 10 March 2026, China date

    def call(operator, params, now, actor="shen_auditdept"):
        return get_handler(operator)(params, handler_context(db.session, now, actor=actor))

    with app.app_context():
        org = make_organisation(db.session, issued_at, sites=2)
        application = make_application(db.session, issued_at, org, requested_level=4)
        audit = make_audit(db.session, issued_at, org, application, start=date(2026, 2, 1), days=2)
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
            issued_at,
            actor="tina_technical",
        )
        issued = call(
            "certificate.issue",
            {"application_id": application.id, "decision_id": decision["id"]},
            issued_at,
            actor="system",
        )
        certificate = db.session.get(Certificate, issued["id"])
        site_ids = [site["id"] for site in certificate.sites]
        call(
            "certificate.suspend",
            {
                "certificate_id": certificate.id,
                "reason": "c",
                "sites": [site_ids[1]],
                "detail": SECRET_REASON,
            },
            datetime(2026, 8, 1, 2, 0, tzinfo=UTC),
        )
        db.session.commit()
        number = certificate.number

    client = app.test_client()
    html = text(client.get(f"/registry/certificates/{number}"))
    assert element(html, "certificate-status") == "部分暂停 Partially suspended"
    assert element(html, "certificate-level").endswith("四星级")
    history = rows(html, "status-history")
    assert history[0].startswith("2026-03-10 颁发证书")
    assert (
        history[-1] == "2026-08-01 暂停 （服务网点 2） 《商品售后服务认证实施规则》第9.5.1条（c）"
    )
    assert re.findall(
        r'<li class="site site-suspended"><span class="site-name">([^<]+)<', html
    ) == ["服务网点 2"]

    with app.app_context():
        call(
            "certificate.withdraw",
            {"certificate_id": issued["id"], "reason": "a", "detail": SECRET_REASON},
            datetime(2026, 9, 1, 2, 0, tzinfo=UTC),
        )
        db.session.commit()
    html = text(client.get(f"/registry/certificates/{number}"))
    assert element(html, "certificate-status") == "撤销 Withdrawn"
    assert (
        rows(html, "status-history")[-1]
        == "2026-09-01 撤销 《商品售后服务认证实施规则》第9.5.2条（a）"
    )
    assert 'class="site site-suspended"' not in html  # ended: no site is "suspended" any more
    announcements = text(client.get("/registry/announcements"))
    kinds = re.findall(r'<li class="card announcement announcement-(\w+)"', announcements)
    assert kinds == ["withdrawn", "suspended", "certified"]
    for page in (html, announcements):
        assert SECRET_REASON not in page and VALID_USCC not in page
