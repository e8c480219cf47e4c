"""Every task page of a real certification case, as the person doing the task, in English and in
Chinese (issue 10, "Labels everywhere"): the task name, the form's labels, options and hints and
the instructions are in the page's language, with the English deployed with the definitions."""

import re
from typing import Any

import lxml.html
import pytest
from flask import g
from flask_babel import refresh
from sqlalchemy import select

from certflow.db import db
from certflow.process_texts import CATALOGUE
from domain.models import Auditor
from engine.models import ProcessVersionFile
from tests.certification_case import findings_losing
from tests.web_support import Browser

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")
# What a person reads about the task (not the data of the case, which stays as entered).
LABELS = "//h1 | //legend | //label | //*[@id='form-title'] | //p[contains(@class, 'help')]"


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [str(value)] if value is not None else []


def _labels(page: str) -> list[str]:
    tree = lxml.html.fromstring(page)
    for keep in tree.xpath("//input[contains(@name, '__keep')]/.."):  # uploaded file names
        keep.drop_tree()
    texts = [" ".join(e.text_content().split()) for e in tree.xpath(LABELS)]
    return [t for t in texts if t and t != "*"]


def _instructions(page: str, data_values: list[str]) -> str:
    tree = lxml.html.fromstring(page)
    text = " ".join(e.text_content() for e in tree.xpath("//div[@class='markdown']"))
    for value in sorted(data_values, key=len, reverse=True):  # the case's own data may be Chinese
        if len(value) > 1:
            text = text.replace(value, " ")
    return text


def _signed_in(app, username: str) -> Browser:
    # The test's app context outlives the requests: drop the CSRF token another browser left.
    for key in list(vars(g)):
        g.pop(key, None)
    browser = Browser(app)
    response = browser.login(username, "pw")
    if response.status_code == 401:  # auditors (tests/factories.make_auditor)
        response = browser.login(username, "pw-" + username)
    assert response.status_code == 302, response.get_data(as_text=True)[-800:]
    return browser


def _visible(page: str) -> str:
    return lxml.html.fromstring(page).text_content()


def _get(browser: Browser, url: str):
    refresh()  # the locale Flask-Babel keeps in the test's long-lived app context
    return browser.get(url)


def test_deploy_stores_the_catalogue_with_every_process_version(case):
    paths = db.session.scalars(
        select(ProcessVersionFile.path).where(ProcessVersionFile.path == CATALOGUE.as_posix())
    ).all()
    assert len(paths) >= 13  # every process of processes/


def test_every_task_page_of_a_case_speaks_one_language(app, case, engine):
    problems: list[str] = []
    seen: list[str] = []

    def look(element_id, who):
        if element_id == "Task_SubmitApplication":
            return  # answered before the case has an organisation its client could see
        task = case.open_task(element_id)
        browser = _signed_in(app, who.username)
        values = _strings(engine.task_data(task))
        response = _get(browser, f"/tasks/{task.id}?lang=en")
        assert response.status_code == 200, (
            element_id,
            response.status_code,
            response.get_data(as_text=True)[-1500:],
        )
        english = response.get_data(as_text=True)
        chinese = _get(browser, f"/tasks/{task.id}?lang=zh_CN").get_data(as_text=True)
        # People's names are data, not texts of the definitions (choices from data, issue 10).
        names = sorted(db.session.scalars(select(Auditor.name)), key=len, reverse=True)
        for label in _labels(english):
            for name in names:
                label = label.replace(name, "")
            if CJK.search(label):
                problems.append(f"{element_id} en label: {label[:80]}")
        if CJK.search(_instructions(english, values)):
            problems.append(f"{element_id} en instructions: {_instructions(english, values)[:200]}")
        for label in _labels(chinese):
            if LATIN_WORD.search(label) and not CJK.search(label):
                problems.append(f"{element_id} zh label in English: {label[:80]}")
        assert "<legend>" in english or "<label" in english, element_id
        seen.append(element_id)

    case.before_complete = look
    case.apply()
    case.review()
    case.contract()
    case.programme()
    case.appoint()
    case.plan_and_prepare(revise=True)
    case.opening_meeting()
    case.evidence(findings_losing(80))
    nc = {
        "item_code": "5.1.1.1",
        "nature": "general",
        "description": "未建立组织架构图",
        "evidence": "查阅文件",
    }
    case.conclude("recommend", [nc])
    case.receive_report()
    nc_ids = case.confirm_ncs()
    case.answer_ncs(nc_ids)
    case.verify_ncs(nc_ids, accepted=True)
    case.decide("grant", 4)
    assert case.instance().status == "completed"
    assert len(set(seen)) >= 15, seen
    assert problems == [], "\n".join(problems)


def test_inbox_names_the_task_in_the_pages_language(app, case):
    case.apply()
    browser = _signed_in(app, case.people.market.username)
    english = _visible(_get(browser, "/?lang=en").get_data(as_text=True))
    chinese = _visible(_get(browser, "/?lang=zh_CN").get_data(as_text=True))
    assert "Acceptance review" in english and "受理评审" not in english
    assert "受理评审" in chinese and "Acceptance review" not in chinese


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "Recommend certification · certification fees not paid · Urgent significant risk"),
        ("zh_CN", "推荐认证 · 未按规定缴纳认证费用 · 紧急和重大风险"),
    ],
)
def test_instructions_show_stored_codes_as_labels_in_the_pages_language(app, lang, expected):
    from webapp.instructions import render_instructions

    template = (
        '{{ c | label("conclusion") }} · {{ r | label("suspension_reason") }}'
        ' · {{ e | label("escalation") }}'
    )
    with app.test_request_context(f"/?lang={lang}"):
        refresh()
        html = render_instructions(template, {"c": "recommend", "r": "e", "e": "significant_risk"})
    assert expected in str(html)


def test_the_api_gives_the_texts_in_the_clients_accept_language(app, case):
    from certflow.accounts import issue_token
    from certflow.models import User

    case.apply()
    task = case.open_task("Task_AcceptanceReview")
    user = db.session.scalars(select(User).where(User.username == case.people.market.username))
    token = issue_token(db.session, user.one(), case.clock.now())
    db.session.commit()
    api = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    chinese = api.get(f"/api/v1/tasks/{task.id}", headers=auth).json
    english = api.get(f"/api/v1/tasks/{task.id}", headers={**auth, "Accept-Language": "en"}).json
    assert chinese["name"] == "受理评审" and english["name"] == "Acceptance review"
    assert english["instructions"].startswith("## Acceptance review")
    assert english["form_schema"]["properties"]["accepted"]["title"].isascii()
    assert not CJK.search(english["form_schema"]["title"])
    assert CJK.search(chinese["form_schema"]["title"])


def test_the_diagram_is_labelled_in_the_pages_language(app, case):
    case.apply()
    browser = _signed_in(app, case.people.market.username)
    url = f"/instances/{case.instance_id}/diagram.bpmn"
    english = _get(browser, f"{url}?lang=en").get_data(as_text=True)
    chinese = _get(browser, f"{url}?lang=zh_CN").get_data(as_text=True)
    assert 'name="Acceptance review"' in english and 'name="受理评审"' not in english
    assert 'name="受理评审"' in chinese
    assert "bpmndi:BPMNShape" in english  # the layout is kept
