"""Issue 10, "one language at a time": a case is run through the real diagrams — with an
appointment refused on the way (R-7.2.1(5)) and an auditor the rules refuse in the options
(R-7.2.2) — up to its certificate; then the appointment task, the registry's announcements, the
client's home and the case page are walked in Chinese and in English with the test client. No
page shows an internal id ("#12"), an unrendered template (`{{`) or a title in two languages
at once, and the reasons people read are in the page's language."""

import re
from datetime import date
from pathlib import Path

import pytest
from flask_babel import refresh
from sqlalchemy import delete, select

from certflow.db import db
from domain.models import Application, ConflictOfInterest
from tests.access.test_client_confidentiality_walk import signed_in
from tests.certification_case import Case, deploy_everything, findings_losing, make_people, one_nc
from tests.factories import make_auditor
from tests.web_support import text

CJK = re.compile(r"[\u4e00-\u9fff]")
INTERNAL_ID = re.compile(r"#\d")
HEADINGS = re.compile(r"<(title|h1|h2|h3)[^>]*>(.*?)</\1>", re.S)
TAG = re.compile(r"<[^>]+>")
# Names that stay as they are in any language: the case's people, organisation and places.
NAMES = ["张组长", "李审查", "钱无证", "陈专家"]  # and the organisation's name (added below)


@pytest.fixture
def case(engine, clock, app):
    deploy_everything(engine)
    return Case(engine, clock, make_people(clock.now()), Path(app.instance_path) / "uploads")


def page(browser, url: str, lang: str) -> str:
    """The page in `lang`: the test client reuses the test's app context, where Flask-Babel
    keeps the language of the previous request."""
    refresh()
    response = browser.get(f"{url}?lang={lang}")
    assert response.status_code == 200, url
    return text(response)


def headings(html: str) -> list[str]:
    return [" ".join(TAG.sub("", inner).split()) for _, inner in HEADINGS.findall(html)]


def section(html: str, heading: str) -> str:
    """The text of the instructions' section under `heading`, up to the next paragraph."""
    start = html.index(heading)
    return TAG.sub(" ", html[start : html.index("</ul>", start)])


def assert_readable(html: str, url: str) -> None:
    assert "{{" not in html and "{%" not in html, url
    visible = TAG.sub(" ", re.sub(r"<(script|style)[^>]*>.*?</\1>", "", html, flags=re.S))
    assert not INTERNAL_ID.search(visible), (url, INTERNAL_ID.search(visible))
    for title in headings(html):
        has_latin = re.search(r"[a-z]{3}", title) is not None  # words; not "CTC-SHFW"
        has_chinese = not english_except_names(title)
        assert not (has_chinese and has_latin), (url, title)  # one language per title


def english_except_names(value: str) -> bool:
    for name in NAMES:
        value = value.replace(name, "")
    return not CJK.search(value)


def test_pages_people_see_are_in_one_language_without_ids(case, app, clock):
    case.apply()
    case.review()
    case.contract()
    case.programme()
    people = case.people
    application = db.session.scalars(select(Application)).one()
    organisation_id = application.organisation_id
    if application.organisation.name not in NAMES:
        NAMES.append(application.organisation.name)
    make_auditor(db.session, clock.now(), name="钱无证", registration=None)  # disabled
    db.session.add(  # R-7.2.1(5): 李审查 consulted for the client last year
        ConflictOfInterest(
            auditor_id=people.auditor_id,
            organisation_id=organisation_id,
            kind="consulted",
            until=date.fromisoformat(case.day(28)).replace(year=2025),
            note="",
        )
    )
    db.session.commit()
    case.appoint()
    assert case.data("Task_AppointTeam")["appointment"]["appointed"] is False
    task_id = case.open_task("Task_AppointTeam").id

    scheduler = signed_in(app, people.scheduler.username)
    zh = page(scheduler, f"/tasks/{task_id}", "zh_CN")
    en = page(scheduler, f"/tasks/{task_id}", "en")
    for html, url in ((zh, "appointment zh"), (en, "appointment en")):
        assert_readable(html, url)
    refused_zh = section(zh, "上次委派被拒绝")
    assert "规则第7.2.1条（5）" in refused_zh and "李审查" in refused_zh
    assert not re.search(r"[A-Za-z]{4}", refused_zh)
    refused_en = section(en, "The previous appointment was refused")
    assert "Rule 7.2.1(5)" in refused_en and english_except_names(refused_en), refused_en
    assert "规则第7.2.2条：钱无证没有服务认证审查员注册资格" in zh  # the disabled option's reason
    assert "Rule 7.2.2: 钱无证 has no service-certification auditor registration" in en

    db.session.execute(delete(ConflictOfInterest))
    db.session.commit()
    case.appoint()
    case.plan_and_prepare()
    case.opening_meeting()
    case.evidence(findings_losing(80))
    case.conclude("recommend", one_nc())
    case.receive_report()
    nc_ids = case.confirm_ncs()
    case.answer_ncs(nc_ids)
    case.verify_ncs(nc_ids, accepted=True)
    case.at(45)
    case.decide("grant", 4)
    assert case.instance().status == "completed"

    public = app.test_client()
    zh = page(public, "/registry/announcements", "zh_CN")
    en = page(public, "/registry/announcements", "en")
    assert_readable(zh, "registry zh")
    assert_readable(en, "registry en")
    [title_zh] = re.findall(r'<h2 class="announcement-title">([^<]+)</h2>', zh)
    [title_en] = re.findall(r'<h2 class="announcement-title">([^<]+)</h2>', en)
    assert title_zh.startswith("获证公告：") and title_en.startswith("Certified: ")

    client = signed_in(app, people.client.username)
    for url in ("/home", f"/cases/{organisation_id}"):
        for lang in ("zh_CN", "en"):
            assert_readable(page(client, url, lang), f"{url} {lang}")
    staff = signed_in(app, people.scheduler.username)
    for lang in ("zh_CN", "en"):
        assert_readable(page(staff, f"/cases/{organisation_id}", lang), f"case {lang}")
