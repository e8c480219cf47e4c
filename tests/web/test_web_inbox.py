"""The inbox: tabs and counts, filters, search, sort, pages, URL state, claim / unclaim /
reassign, overdue flags on the simulated clock, follow-up dates."""

import re
from datetime import timedelta
from html import unescape

from sqlalchemy import select

from certflow.db import db
from engine.models import EventLog
from tests.web_support import Web, actor, text, web_fixture  # noqa: F401
from webapp.models import AccessLog

ROW = re.compile(r'<tr class="([^"]*)" data-task-id="([^"]+)"')


def rows(response) -> list[str]:
    assert response.status_code == 200, text(response)
    return [task_id for _, task_id in ROW.findall(text(response))]


def overdue_rows(response) -> list[str]:
    return [task_id for cls, task_id in ROW.findall(text(response)) if "is-overdue" in cls]


def counts(response) -> dict[str, int]:
    found = re.findall(r'data-count="(\w+)">(\d+)<', text(response))
    return {name: int(n) for name, n in found}


def total(response) -> int:
    return int(re.search(r'data-total="(\d+)"', text(response)).group(1))


def started(web: Web, n: int, **kw) -> list[str]:
    """n review tasks (one per instance), created one minute apart."""
    tasks = []
    for i in range(n):
        tasks.append(web.open_task(web.start(f"APP-{i + 1:02d}", **kw)))
        web.advance(timedelta(minutes=1))
    return tasks


def denied(web: Web) -> list[tuple]:
    with web.app.app_context():
        return [
            (r.username, r.status, r.path)
            for r in db.session.scalars(select(AccessLog).where(AccessLog.event == "denied"))
        ]


# -- tabs -----------------------------------------------------------------------------------------
def test_tabs_and_counts(web):
    tasks = started(web, 3)
    web.claim(tasks[0], "mia")
    web.claim(tasks[1], "max")
    mia = web.browser("mia")
    page = mia.get("/")
    assert counts(page) == {"mine": 1, "groups": 3}  # no "all" tab for market
    assert rows(page) == [tasks[0]]  # mine is the default tab when it has tasks
    assert rows(mia.get("/?tab=groups")) == tasks  # assigned or not
    assert "我的任务" in text(page) and "我所在组的任务" in text(page)
    hank = web.browser("hank")
    assert counts(hank.get("/")) == {"mine": 0, "groups": 0}
    assert rows(hank.get("/")) == []
    ada = web.browser("ada")
    assert counts(ada.get("/")) == {"mine": 0, "groups": 0, "all": 3}
    assert rows(ada.get("/?tab=all")) == tasks
    quinn = web.browser("quinn")
    assert counts(quinn.get("/?tab=all")) == {"mine": 0, "groups": 0, "all": 3}
    assert "全部待办" in text(quinn.get("/?tab=all"))


def test_the_all_tab_is_refused_to_others_and_logged(web):
    started(web, 1)
    response = web.browser("mia").get("/?tab=all")
    assert response.status_code == 403
    assert denied(web) == [("mia", 403, "/?tab=all")]


def test_clients_see_only_their_organisations_tasks(web):
    a = web.to_contract(web.start("APP-A", org="A"))
    b = web.to_contract(web.start("APP-B", org="B"))
    web.to_contract(web.start("APP-X"))  # no application: no client sees it
    assert rows(web.browser("carl").get("/?tab=groups")) == [a]
    assert rows(web.browser("cleo").get("/?tab=groups")) == [a]
    assert rows(web.browser("cora").get("/?tab=groups")) == [b]
    assert len(rows(web.browser("ada").get("/?tab=all"))) == 3


def test_completed_tasks_leave_the_inbox(web):
    [task] = started(web, 1)
    web.to_contract(web.task(task).instance_id)
    assert rows(web.browser("mia").get("/?tab=groups")) == []


# -- filters, search, sort, pages -----------------------------------------------------------------
def test_filter_by_process_task_name_and_business_key(web):
    review = started(web, 2)
    form = web.open_task(web.start("FORM-1", process="web_form_flow", customer="c"))
    mia = web.browser("mia")
    assert rows(mia.get("/?tab=groups")) == [form, *review]  # form is due first (P2D)
    assert rows(mia.get("/?tab=groups&process=web_form_flow")) == [form]
    assert rows(mia.get("/?tab=groups&process=review_flow")) == review
    name = "受理评审 Acceptance review"
    assert rows(mia.get("/", query_string={"tab": "groups", "task": name})) == review
    assert rows(mia.get("/?tab=groups&key=APP-02")) == [review[1]]
    assert rows(mia.get("/?tab=groups&key=APP-0")) == []  # exact match
    page = text(mia.get("/?tab=groups&process=review_flow"))
    assert '<option value="review_flow" selected>' in page  # the form shows the state


def test_filter_by_organisation(web):
    a = web.open_task(web.start("APP-A", org="A"))
    b = web.open_task(web.start("APP-B", org="B"))
    web.open_task(web.start("APP-X"))
    mia = web.browser("mia")
    org_a, org_b = web.organisations["A"], web.organisations["B"]
    assert rows(mia.get(f"/?tab=groups&org={org_a}")) == [a]
    assert rows(mia.get(f"/?tab=groups&org={org_b}")) == [b]
    page = text(mia.get("/?tab=groups"))
    assert "甲公司 Alpha Ltd" in page and "乙公司 Beta Ltd" in page


def test_filter_by_due_date(web):
    review = started(web, 1)  # due in 5 days
    form_instance = web.start("FORM-1", process="web_form_flow", customer="c")
    form = web.open_task(form_instance)  # due in 2 days
    mia = web.browser("mia")
    assert rows(mia.get("/?tab=groups&due=overdue")) == []
    assert rows(mia.get("/?tab=groups&due=week")) == [form, *review]
    web.advance(timedelta(days=2))
    assert rows(mia.get("/?tab=groups&due=today")) == [form]
    web.advance(timedelta(hours=1))
    assert rows(mia.get("/?tab=groups&due=overdue")) == [form]
    # A task without a due date.
    with web.app.app_context():
        web.engine.complete_task(form, actor=actor("mia"), data=_valid_kitchen_data(web))
    check = web.open_task(form_instance)
    assert rows(mia.get("/?tab=groups&due=none")) == [check]


def _valid_kitchen_data(web) -> dict:
    from domain.attachments import store_attachment

    with web.app.app_context():
        attachment = store_attachment(
            db.session,
            web.storage,
            filename="a.txt",
            content_type="text/plain",
            data=b"x",
            kind="other",
            uploaded_by="mia",
            now=web.clock.now(),
        )
        db.session.commit()
        return {
            "title": "t",
            "count": 1,
            "confirmed": True,
            "level": 1,
            "sites": [{"name": "HQ", "fixed": True}],
            "evidence_file": attachment.id,
        }


def test_filter_by_assignee(web):
    tasks = started(web, 3)
    web.claim(tasks[0], "mia")
    web.claim(tasks[1], "max")
    mia = web.browser("mia")
    assert rows(mia.get("/?tab=groups&assignee=me")) == [tasks[0]]
    assert rows(mia.get("/?tab=groups&assignee=none")) == [tasks[2]]
    assert rows(mia.get("/?tab=groups&assignee=max")) == [tasks[1]]
    assert '<option value="max"' in text(mia.get("/?tab=groups"))


def test_search_by_name_business_key_and_organisation(web):
    a = web.open_task(web.start("APP-A7", org="A"))
    b = web.open_task(web.start("APP-B8", org="B"))
    form = web.open_task(web.start("FORM-1", process="web_form_flow", customer="c"))
    mia = web.browser("mia")
    assert rows(mia.get("/?tab=groups&q=b8")) == [b]  # case-insensitive
    assert rows(mia.get("/", query_string={"tab": "groups", "q": "Alpha"})) == [a]
    assert rows(mia.get("/", query_string={"tab": "groups", "q": "填写"})) == [form]
    assert sorted(rows(mia.get("/?tab=groups&q=review"))) == sorted([a, b])
    assert rows(mia.get("/?tab=groups&q=%25")) == []  # LIKE wildcards are literal
    assert rows(mia.get("/?tab=groups&q=_")) == []


def test_sort_orders(web):
    tasks = started(web, 3)  # created one minute apart, due one minute apart
    form = web.open_task(web.start("FORM-1", process="web_form_flow", customer="c"))
    mia = web.browser("mia")
    assert rows(mia.get("/?tab=groups")) == [form, *tasks]  # default: due, earliest first
    assert rows(mia.get("/?tab=groups&sort=-due")) == [*reversed(tasks), form]
    assert rows(mia.get("/?tab=groups&sort=created")) == [*tasks, form]
    assert rows(mia.get("/?tab=groups&sort=-created")) == [form, *reversed(tasks)]
    assert rows(mia.get("/?tab=groups&sort=name"))[-1] == form  # 受 < 填 (code point order)
    assert rows(mia.get("/?tab=groups&sort=-name"))[0] == form
    assert rows(mia.get("/?tab=groups&sort=bogus")) == [form, *tasks]


def test_pagination_keeps_the_filter_in_the_links(web):
    tasks = started(web, 12)
    mia = web.browser("mia")
    first = mia.get("/?tab=groups&per=10&sort=created&q=APP")
    assert rows(first) == tasks[:10]
    assert total(first) == 12
    page = unescape(text(first))
    assert 'href="/?tab=groups&q=APP&sort=created&page=2&per=10"' in page
    second = mia.get("/?tab=groups&q=APP&sort=created&page=2&per=10")
    assert rows(second) == tasks[10:]
    assert rows(mia.get("/?tab=groups&sort=created&page=99&per=10")) == tasks[10:]  # clamped
    assert rows(mia.get("/?tab=groups&sort=created&page=x&per=7")) == tasks  # bad values ignored


def test_the_url_holds_the_whole_state(web):
    started(web, 1)
    mia = web.browser("mia")
    page = unescape(text(mia.get("/?tab=groups&q=APP&due=week&followup=1&sort=-created")))
    # Switching tabs keeps the filters; the form shows every value.
    assert 'href="/?tab=mine&due=week&followup=1&q=APP&sort=-created"' in page
    assert 'name="q" value="APP"' in page
    assert '<option value="week" selected>' in page
    assert 'name="followup" value="1" checked' in page
    assert '<option value="-created" selected>' in page
    # The task links bring the user back to this very list.
    assert "?next=/?tab%3Dgroups%26q%3DAPP" in text(mia.get("/?tab=groups&q=APP"))


# -- claim, unclaim, reassign ---------------------------------------------------------------------
def test_claim_and_unclaim_from_the_inbox(web):
    [task] = started(web, 1)
    mia = web.browser("mia")
    page = mia.get("/?tab=groups")
    assert f'action="/tasks/{task}/claim"' in text(page)
    response = mia.post(f"/tasks/{task}/claim", {"next": "/?tab=groups"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/?tab=groups"
    assert web.task(task).assignee == "mia"
    page = mia.get("/?tab=groups")
    assert "您已认领任务" in text(page)
    assert f'action="/tasks/{task}/unclaim"' in text(page)
    assert counts(page)["mine"] == 1
    response = mia.post(f"/tasks/{task}/unclaim", {"next": "/?tab=mine"})
    assert response.headers["Location"] == "/?tab=mine"
    assert web.task(task).assignee is None
    with web.app.app_context():
        events = db.session.scalars(
            select(EventLog.event_type).where(EventLog.task_id == task).order_by(EventLog.id)
        ).all()
    assert events == ["task_created", "task_claimed", "task_unclaimed"]


def test_claiming_a_task_claimed_by_someone_else_is_409(web):
    [task] = started(web, 1)
    web.claim(task, "max")
    mia = web.browser("mia")
    response = mia.post(f"/tasks/{task}/claim")
    assert response.status_code == 409
    assert "max" in text(response) and "认领" in text(response)
    assert web.task(task).assignee == "max"
    # ... and mia cannot complete it either.
    response = mia.post(f"/tasks/{task}", {"f/accepted": "1", "f/man_days": "1"})
    assert response.status_code == 409
    assert web.task(task).state == "open"
    # Nor unclaim it: that needs the assignee or a supervisor (refusal logged).
    assert mia.post(f"/tasks/{task}/unclaim").status_code == 403
    assert denied(web)[-1][:2] == ("mia", 403)
    assert web.browser("ada").post(f"/tasks/{task}/unclaim").status_code == 302
    assert web.task(task).assignee is None


def test_reassign_by_a_supervisor(web):
    [task] = started(web, 1)
    web.claim(task, "mia")
    ada = web.browser("ada")
    page = text(ada.get(f"/tasks/{task}"))
    assert 'action="/tasks/' + task + '/reassign"' in page
    options = re.findall(r'<option value="(\w+)"', page.split("reassign")[-1])
    assert "max" in options and "mia" in options and "hank" not in options
    response = ada.post(f"/tasks/{task}/reassign", {"assignee": "max", "next": "/"})
    assert response.status_code == 302
    assert web.task(task).assignee == "max"
    # A user without the candidate role cannot be chosen.
    assert ada.post(f"/tasks/{task}/reassign", {"assignee": "hank"}).status_code == 422
    assert ada.post(f"/tasks/{task}/reassign", {"assignee": "nobody"}).status_code == 422
    assert web.task(task).assignee == "max"
    # Only supervisors reassign; others are refused and logged.
    mia = web.browser("mia")
    assert "/reassign" not in text(mia.get(f"/tasks/{task}"))
    assert mia.post(f"/tasks/{task}/reassign", {"assignee": "mia"}).status_code == 403
    assert denied(web)[-1][:2] == ("mia", 403)
    assert web.task(task).assignee == "max"


def test_client_tasks_are_reassigned_only_within_the_organisation(web):
    task = web.to_contract(web.start("APP-A", org="A"))
    page = text(web.browser("ada").get(f"/tasks/{task}"))
    options = re.findall(r'<option value="(\w+)"', page.split("reassign")[-1])
    assert "carl" in options and "cleo" in options and "cora" not in options
    response = web.browser("ada").post(f"/tasks/{task}/reassign", {"assignee": "cora"})
    assert response.status_code == 422


# -- due dates and follow-up ----------------------------------------------------------------------
def test_overdue_highlighting_follows_the_simulated_clock(web):
    [task] = started(web, 1)  # due in 5 days
    mia = web.browser("mia")
    assert overdue_rows(mia.get("/?tab=groups")) == []
    web.advance(timedelta(days=5, seconds=1))
    page = mia.get("/?tab=groups")
    assert overdue_rows(page) == [task]
    assert "已逾期" in text(page)
    # Shown in China time (UTC+8): created 2026-01-05 01:00 UTC is 09:00 in Beijing.
    assert "2026-01-05 09:00" in text(page)
    assert "2026-01-10 09:00" in text(page)  # the due date


def test_personal_follow_up_date(web):
    tasks = started(web, 2)
    mia = web.browser("mia")
    response = mia.post(f"/tasks/{tasks[1]}/follow-up", {"follow_up": "2026-01-07"})
    assert response.status_code == 302
    assert "2026-01-07" in text(mia.get(f"/tasks/{tasks[1]}"))
    assert rows(mia.get("/?tab=groups&followup=1")) == []  # not yet due
    web.advance(timedelta(days=2))  # 2026-01-07 09:00 China time
    page = mia.get("/?tab=groups&followup=1")
    assert rows(page) == [tasks[1]]
    assert "需跟进" in text(page)
    # Personal: max has no follow-up on it.
    assert rows(web.browser("max").get("/?tab=groups&followup=1")) == []
    bad = mia.post(f"/tasks/{tasks[1]}/follow-up", {"follow_up": "soon"})
    assert bad.status_code == 302
    assert "YYYY-MM-DD" in text(mia.get(bad.headers["Location"]))
    mia.post(f"/tasks/{tasks[1]}/follow-up", {"action": "clear"})
    assert rows(mia.get("/?tab=groups&followup=1")) == []
