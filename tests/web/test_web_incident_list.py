"""The open incidents of every case for the roles that repair them (issue 10, "no dead ends"):
`/incidents` lists each with its case, organisation, process, step and error in words, since
when and who was working on it; filters by process and age; links to the repair page; the
navigation shows the count. The engine reads them with one COUNT and one page SELECT."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from certflow.accounts import create_user
from certflow.db import db
from domain.models import Application, Organisation
from engine.service import IncidentFilter
from tests.engine.test_incident_repair import blocked  # noqa: F401  (fixture)
from tests.forms.test_form_checks import FreshBrowser
from tests.web_support import text
from webapp.access import INCIDENT_LIST_ROLES, SEE_ALL_INSTANCES


@pytest.fixture
def site(app, blocked):  # noqa: F811
    case, incident = blocked
    now = case.clock.now()
    create_user(
        db.session, "ada_admin", password="pw-ada", roles={"admin"}, display_name="管理员", now=now
    )
    create_user(
        db.session,
        "olga_po",
        password="pw-olga",
        roles={"process_owner"},
        display_name="流程负责人",
        now=now,
    )
    create_user(
        db.session,
        "quinn_qm",
        password="pw-quinn",
        roles={"quality_manager"},
        display_name="质量经理",
        now=now,
    )
    db.session.commit()
    return case, incident, app


def browser(app, username, password):
    b = FreshBrowser(app)
    assert b.login(username, password).status_code == 302
    return b


def listed_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-incident-id="(\d+)"', page)]


def test_the_list_shows_the_incident_in_words_and_links_to_its_repair(site):
    case, incident, app = site
    admin = browser(app, "ada_admin", "pw-ada")
    page = text(admin.get("/incidents"))
    assert listed_ids(page) == [incident.id]
    application = db.session.scalars(select(Application)).one()
    organisation = db.session.get(Organisation, application.organisation_id)
    row = page[page.index(f'data-incident-id="{incident.id}"') :]
    row = row[: row.index("</tr>")]
    assert application.number in row  # the case by its application number
    assert organisation.name in row and f"/cases/{organisation.id}" in row
    assert "认证流程" in row  # the process by its name
    assert "登记首次会议" in row and "Task_RecordOpeningMeeting" not in row  # the step in words
    assert "R-8.5.1" in row and "拒绝了数据" in row  # the error in words, with its rule
    assert "张组长" in row  # whose answer the step read (the opening meeting's leader)
    assert f"/instances/{case.instance_id}/incidents/{incident.id}/repair" in row
    assert 'data-nav-count="1"' in page  # the count in the navigation
    english = text(admin.get("/incidents?lang=en"))
    assert "Record opening meeting" in english and "登记首次会议" not in english
    assert "1 open incident" in english


def test_filters_by_process_and_age(site):
    case, incident, app = site
    olga = browser(app, "olga_po", "pw-olga")  # process_owner: a repairing role too
    assert listed_ids(text(olga.get("/incidents?process=certification"))) == [incident.id]
    assert listed_ids(text(olga.get("/incidents?process=surveillance"))) == []
    assert listed_ids(text(olga.get("/incidents?age=7"))) == []  # open since today only
    assert listed_ids(text(olga.get("/incidents?process=nonsense&age=5"))) == [incident.id]
    case.clock.set(case.clock.now() + timedelta(days=8))
    assert listed_ids(text(olga.get("/incidents?age=7"))) == [incident.id]
    assert listed_ids(text(olga.get("/incidents?age=30"))) == []


def test_the_roles_of_the_list_see_every_case_it_shows():
    """The list has no case filter: only roles that see every instance may be given it."""
    assert INCIDENT_LIST_ROLES and INCIDENT_LIST_ROLES <= SEE_ALL_INSTANCES


def test_only_the_repairing_roles_see_the_list_and_its_count(site):
    case, incident, app = site
    quinn = browser(app, "quinn_qm", "pw-quinn")  # sees every case, may not repair
    assert quinn.get("/incidents").status_code == 403
    assert "data-nav-count" not in text(quinn.get("/"))
    leader = browser(app, "zhang_leader", "pw-zhang_leader")
    assert leader.get("/incidents").status_code == 403
    assert 'href="/incidents"' not in text(leader.get("/"))


def test_repaired_the_list_is_empty_and_the_count_gone(site):
    case, incident, app = site
    admin = browser(app, "ada_admin", "pw-ada")
    repair = text(admin.get(f"/instances/{case.instance_id}/incidents/{incident.id}/repair"))
    lock = re.search(r'name="lock_version" value="(\d+)"', repair).group(1)
    done = admin.post(
        f"/instances/{case.instance_id}/incidents/{incident.id}/correct",
        {"lock_version": lock, "v/meeting_date": case.day(28)},
    )
    assert done.status_code == 302
    page = text(admin.get("/incidents"))
    assert listed_ids(page) == [] and "data-no-incidents" in page
    assert "data-nav-count" not in page


def test_the_engine_reads_a_page_of_incidents_with_two_selects(site, engine):
    case, incident, app = site
    statements: list[str] = []

    def remember(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", remember)
    try:
        total, items = engine.page_open_incidents(IncidentFilter(), limit=50)
    finally:
        event.remove(db.engine, "before_cursor_execute", remember)
    assert total == 1 and [i.incident.id for i in items] == [incident.id]
    assert items[0].last_worked_by == "zhang_leader"
    assert items[0].business_key == db.session.scalars(select(Application.number)).one()
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 2
    assert "LIMIT" in statements[-1].upper()
    assert engine.page_open_incidents(IncidentFilter(), limit=50, offset=1) == (1, [])
    assert engine.count_open_incidents() == 1
