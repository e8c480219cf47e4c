"""The evidence checklist on the task page (issue 10; R-8.5.2, R-8.5.4, R-3, R-5): rendered from
the deployed indicator set, submitted as the form's rows, 422 on a bad row, day 2 adds to day 1,
through the real diagrams, handlers and web app, on both databases."""

import io
import json
import re

import pytest
from flask import g
from flask_babel import refresh
from sqlalchemy import select

from certflow.accounts import issue_token
from certflow.db import db
from certflow.models import User
from domain.models import Attachment, Audit, Finding
from domain.scoring import DEFAULT_INDICATOR_SET_PATH, load_indicator_set
from tests.certification_case import Case, deploy_everything, make_people
from tests.web_support import Browser, text

ITEMS = load_indicator_set(DEFAULT_INDICATOR_SET_PATH).items


@pytest.fixture
def case(app, ctx, engine, clock, tmp_path):
    deploy_everything(engine)
    case = Case(engine, clock, make_people(clock.now()), tmp_path / "uploads")
    case.apply()
    case.review()
    case.contract()
    case.programme()
    case.appoint()
    case.plan_and_prepare()
    case.opening_meeting()
    return case


@pytest.fixture
def web(app, case):
    web = CaseBrowser(app)
    assert web.login("li_auditor", "pw-li_auditor").status_code == 302
    return web


class CaseBrowser(Browser):
    """A Browser for tests that hold an app context (the case is driven through the engine):
    requests then share `g`, so what flask_babel (the locale) and flask_wtf (the CSRF token)
    keep there is dropped before each request, as a real request starts without it."""

    def get(self, url, **kwargs):
        refresh()
        g.pop("csrf_token", None)
        return super().get(url, **kwargs)

    def post(self, url, data=None, **kwargs):
        refresh()
        g.pop("csrf_token", None)
        return super().post(url, data, **kwargs)


def page_in(web: Browser, url: str) -> str:
    return text(web.get(url))


def row_index(page: str, code: str) -> str:
    """The form index of item `code`'s row on the page (inputs f/findings/<i>/…)."""
    match = re.search(r'name="f/findings/(\d+)/item_code" value="' + re.escape(code) + '"', page)
    assert match, code
    return match.group(1)


def day_form(case: Case, page: str, rows: dict[str, dict], *, more_days: bool) -> dict:
    form = {
        "action": "complete",
        "f/audit_day": case.today(),
        "f/daily_communication": "当日与客户沟通审查进展",
        "f/escalation": "none",
    }
    if more_days:
        form["f/more_days"] = "1"
    for code, values in rows.items():
        index = row_index(page, code)
        form[f"f/findings/{index}/item_code"] = code
        form.update({f"f/findings/{index}/{k}": str(v) for k, v in values.items()})
    return form


def conform(code: str) -> dict:
    return {"method": "records", "result": "conform", "evidence": f"查阅记录 {code}"}


def test_the_checklist_shows_the_tree_with_labels_in_both_languages(case, web):
    task = case.open_task("Task_CollectEvidence")
    page = page_in(web, f"/tasks/{task.id}")
    assert len(re.findall(r'class="checklist-row[^"]*" data-item="', page)) == 48
    assert len(re.findall(r'<h3 id="f-findings-5-\d"', page)) == 3
    assert len(re.findall(r"<summary>5\.\d\.\d+ ", page)) == 15
    assert ITEMS[0].text_zh in page and "售后服务体系" in page
    assert ">符合</option>" in page and ">面谈</option>" in page
    assert not re.search(r">\s*(conform|nonconform|sampled|interview|records)\s*<", page)
    assert "0 of 48" not in page and "已评 0 / 48 项" in page
    # Inside a filled-in row: method, result and evidence are required, the rest optional.
    row = page[page.index(f'data-item="{ITEMS[0].code}"') :]
    row = row[: row.index('class="checklist-row')]
    assert '收集方法<span class="req"' in row
    assert '客观证据<span class="req"' in row
    assert "改进机会</label>" in row
    assert "证据文件</label>" in row
    english = page_in(web, f"/tasks/{task.id}?lang=en")
    assert ITEMS[0].text_en in english and "After-sales service system" in english
    assert "Running score" in english and "0 of 48 items assessed" in english
    assert "Objective evidence" in english and "收集方法" not in english


def test_a_qualitative_item_offers_no_sampled_result(case, web):
    task = case.open_task("Task_CollectEvidence")
    page = page_in(web, f"/tasks/{task.id}")
    qualitative = next(i for i in ITEMS if i.kind == "qualitative")
    sampled = next(i for i in ITEMS if i.kind == "sampled")

    def row_html(code: str) -> str:
        start = page.index(f'data-item="{code}"')
        return page[start : page.index('class="checklist-row', start + 1)]

    assert 'value="sampled"' not in row_html(qualitative.code)
    assert 'value="sampled"' in row_html(sampled.code)
    assert f"f/findings/{row_index(page, sampled.code)}/failures" in row_html(sampled.code)


def test_a_bad_row_gives_422_on_its_field_and_records_nothing(case, web):
    task = case.open_task("Task_CollectEvidence")
    page = page_in(web, f"/tasks/{task.id}")
    sampled = next(i for i in ITEMS if i.kind == "sampled")
    form = day_form(
        case,
        page,
        {
            ITEMS[0].code: conform(ITEMS[0].code),
            sampled.code: {
                "method": "records",
                "result": "sampled",
                "sample_size": 3,
                "failures": 5,
                "evidence": "抽查 3 份",
            },
        },
        more_days=False,
    )
    response = web.post(f"/tasks/{task.id}", form)
    assert response.status_code == 422
    answer = text(response)
    row = answer[answer.index(f'data-item="{sampled.code}"') :]
    row = row[: row.index('class="checklist-row')]
    assert "R-8.5.2" in row and "exceed the sample size" in row
    assert 'value="5"' in row  # what was entered is shown again
    assert case.open_task("Task_CollectEvidence").id == task.id
    assert db.session.scalars(select(Finding)).all() == []


def test_an_item_code_not_in_the_set_is_refused_on_its_field(case, web):
    task = case.open_task("Task_CollectEvidence")
    page = page_in(web, f"/tasks/{task.id}")
    form = day_form(case, page, {}, more_days=False)
    # Shaped like an item code, but not an item of the set (R-8.5.4).
    form.update({"f/findings/99/item_code": "5.3.99.99", "f/findings/99/method": "records"})
    form.update({"f/findings/99/result": "conform", "f/findings/99/evidence": "x"})
    response = web.post(f"/tasks/{task.id}", form)
    assert response.status_code == 422
    row = re.search(
        r"<code>5\.3\.99\.99</code></p><ul class=\"field-errors\"[^>]*>(.*?)</ul>",
        text(response),
        re.S,
    )
    assert row is not None and "R-8.5.4" in row.group(1), text(response)[-3000:]


def test_preview_shows_the_running_score_and_saves_nothing(case, web):
    task = case.open_task("Task_CollectEvidence")
    page = page_in(web, f"/tasks/{task.id}")
    first, second = ITEMS[0], ITEMS[1]
    form = day_form(
        case,
        page,
        {
            first.code: conform(first.code),
            second.code: {"method": "interview", "result": "nonconform", "evidence": "未见"},
        },
        more_days=False,
    )
    form["action"] = "preview"
    response = web.post(f"/tasks/{task.id}?lang=en", form)
    assert response.status_code == 200
    expected = f"{first.points * 100 / (first.points + second.points):.2f}"
    assert f"<span data-score>{expected}</span>" in text(response)
    assert "2 of 48 items assessed" in text(response)
    assert f'<li data-level="5.1">5.1 After-sales service system: {expected}</li>' in text(response)
    assert case.open_task("Task_CollectEvidence").id == task.id
    assert db.session.scalars(select(Finding)).all() == []


def test_day_two_adds_to_day_one_and_the_last_day_is_scored(case, web, engine):
    task = case.open_task("Task_CollectEvidence")
    page = page_in(web, f"/tasks/{task.id}")
    day_one = {item.code: conform(item.code) for item in ITEMS[:30]}
    response = web.post(f"/tasks/{task.id}", day_form(case, page, day_one, more_days=True))
    assert response.status_code == 302, text(response)[:3000]

    task = case.open_task("Task_CollectEvidence")
    page = page_in(web, f"/tasks/{task.id}?lang=en")
    assert page.count("data-recorded>") == 30
    assert "30 of 48 items assessed" in page and "<span data-score>100.00</span>" in page
    # The new day starts empty: day 1's rows are shown as recorded, not as today's answers.
    assert "查阅记录 5.1.1.1</textarea>" not in page
    assert len(re.findall(r'name="f/findings/\d+/result"[^>]*>\s*<option value="">', page)) == 48
    assert " selected>" not in page.split('id="f-special_deductions"')[0].split("data-checklist")[1]

    day_two = {item.code: conform(item.code) for item in ITEMS[30:]}
    day_two[ITEMS[0].code] = {
        "method": "interview",
        "result": "nonconform",
        "evidence": "无售后服务部门 no service department",
    }
    response = web.post(f"/tasks/{task.id}", day_form(case, page, day_two, more_days=False))
    assert response.status_code == 302, text(response)[:3000]
    audit = db.session.scalars(select(Audit)).one()
    db.session.refresh(audit)
    expected = round((1000 - ITEMS[0].points) / 10, 2)
    assert float(audit.final_score) == expected
    assert "Task_AuditConclusion" in case.active()


def test_the_api_refuses_a_bad_row_on_its_field_and_describes_the_options(app, case):
    """The same submit-time check for an integrator (the engine runs it), and the task schema
    names the options with words."""
    user = db.session.scalars(select(User).where(User.username == "li_auditor")).one()
    token = issue_token(db.session, user, case.clock.now())
    db.session.commit()
    api = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    task = case.open_task("Task_CollectEvidence")
    answer = api.get(f"/api/v1/tasks/{task.id}", headers=headers)
    assert answer.status_code == 200
    row_schema = answer.json["form_schema"]["properties"]["findings"]["items"]["properties"]
    assert {"const": "conform", "title": "符合"} in row_schema["result"]["oneOf"]

    sampled = next(i for i in ITEMS if i.kind == "sampled")
    row = {
        "item_code": sampled.code,
        "method": "records",
        "result": "sampled",
        "sample_size": 2,
        "failures": 3,
        "evidence": "抽查 2 份",
        "improvement_opportunity": None,
    }
    data = {
        "audit_day": case.today(),
        "findings": [row],
        "special_deductions": [],
        "special_bonus": [],
        "random_survey": None,
        "daily_communication": "沟通",
        "escalation": "none",
        "escalation_details": None,
        "terminate_reason": None,
        "more_days": False,
    }
    response = api.post(f"/api/v1/tasks/{task.id}/complete", json={"data": data}, headers=headers)
    assert response.status_code == 422, response.json
    assert "findings/0/failures" in json.dumps(response.json), response.json
    assert case.open_task("Task_CollectEvidence").id == task.id


def test_a_finding_keeps_its_evidence_files_and_the_next_day_links_them(case, web):
    task = case.open_task("Task_CollectEvidence")
    page = page_in(web, f"/tasks/{task.id}")
    item = ITEMS[0]
    form = day_form(case, page, {item.code: conform(item.code)}, more_days=True)
    index = row_index(page, item.code)
    form[f"f/findings/{index}/evidence_files"] = (
        io.BytesIO(b"%PDF-1.4 org chart"),
        "组织机构图.pdf",
    )
    response = web.post(f"/tasks/{task.id}", form, content_type="multipart/form-data")
    assert response.status_code == 302, text(response)[:2000]
    finding = db.session.scalars(select(Finding).where(Finding.item_code == item.code)).one()
    (file_id,) = finding.evidence_files
    assert db.session.get(Attachment, file_id).kind == "evidence"

    task = case.open_task("Task_CollectEvidence")
    page = page_in(web, f"/tasks/{task.id}")
    row = page[page.index(f'data-item="{item.code}"') :]
    row = row[: row.index("checklist-inputs")]
    assert f'href="/files/{file_id}">组织机构图.pdf</a>' in row


SPECIAL = load_indicator_set(DEFAULT_INDICATOR_SET_PATH)


def test_special_items_are_chosen_by_their_wording_in_both_languages(case, web):
    """Issue 10, R-3: special deductions and bonus items are chosen from the indicator set by
    their wording, in the page's language — never typed as SD-n / SB-n codes."""
    task = case.open_task("Task_CollectEvidence")
    page = page_in(web, f"/tasks/{task.id}")
    select_html = re.search(
        r'<select[^>]*name="f/special_deductions/0/code"[^>]*>(.*?)</select>', page, re.S
    )
    assert select_html, "the special deduction is a choice"
    offered = re.findall(r'<option value="(SD-\d+)">([^<]+)</option>', select_html.group(1))
    assert offered == [(s.code, s.text_zh) for s in SPECIAL.special_deductions]
    bonus = re.search(r'<select[^>]*name="f/special_bonus/0/code"[^>]*>(.*?)</select>', page, re.S)
    assert bonus and SPECIAL.special_bonus[0].text_zh in bonus.group(1)
    english = page_in(web, f"/tasks/{task.id}?lang=en")
    assert SPECIAL.special_deductions[1].text_en in english
    assert SPECIAL.special_deductions[1].text_zh not in english

    day = {item.code: conform(item.code) for item in ITEMS}
    form = day_form(case, page, day, more_days=False)
    form.update({"f/special_deductions/0/code": "SD-2", "f/special_deductions/0/evidence": "处罚"})
    response = web.post(f"/tasks/{task.id}", form)
    assert response.status_code == 302, text(response)[:3000]
    audit = db.session.scalars(select(Audit)).one()
    db.session.refresh(audit)
    assert audit.special_deductions == 1


def test_the_api_offers_the_special_items_and_refuses_a_code_not_offered(app, case):
    """The task schema lists the special items as oneOf with titles; a value not offered is a
    422 on its field naming the rule (the engine's option check), and nothing is recorded."""
    user = db.session.scalars(select(User).where(User.username == "li_auditor")).one()
    token = issue_token(db.session, user, case.clock.now())
    db.session.commit()
    api = app.test_client()
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
    task = case.open_task("Task_CollectEvidence")
    schema = api.get(f"/api/v1/tasks/{task.id}", headers=headers).json["form_schema"]
    code = schema["properties"]["special_bonus"]["items"]["properties"]["code"]
    assert code["oneOf"] == [{"const": s.code, "title": s.text_en} for s in SPECIAL.special_bonus]
    data = {
        "audit_day": case.today(),
        "findings": [],
        "special_deductions": [],
        "special_bonus": [{"code": "SB-9", "evidence": "奖项"}],
        "random_survey": None,
        "daily_communication": "沟通",
        "escalation": "none",
        "escalation_details": None,
        "terminate_reason": None,
        "more_days": True,
    }
    response = api.post(f"/api/v1/tasks/{task.id}/complete", json={"data": data}, headers=headers)
    assert response.status_code == 422, response.json
    assert "special_bonus/0/code" in json.dumps(response.json) and "R-3" in json.dumps(
        response.json
    )
    assert case.open_task("Task_CollectEvidence").id == task.id
