"""The audit trail of the quality workspace (issue 13, R-13 who did what, when): operations
that change definitions or cases outside a normal task, gathered from the engine's event log,
the access log and the auditor register; searchable by who, what, when and case, paged, as CSV,
the kinds named in both languages."""

import csv
import getpass
import io

import pytest
from sqlalchemy import select

from certflow.db import db
from certflow.models import User
from cli.main import clock_group
from engine.models import Incident
from tests.case_support import failing_record_acceptance, use_record_acceptance
from tests.helpers import record_acceptance
from tests.web_support import Web, actor, text, web_fixture  # noqa: F401

AUDITOR = {
    "name": "周审查",
    "registration_number": "CCAA-SC-4001",
    "level": "senior",
    "team_leader_qualified": "1",
    "fields": "after_sales_service",
    "languages": ["zh"],
    "registration_expires_on": "2027-06-30",
}


@pytest.fixture
def operations(web: Web) -> Web:
    """On 2026-01-05 (China): ada reassigns APP-1's review to max; APP-2's acceptance fails and
    olga retries it; the clock is advanced a day (CLI). On 2026-01-06 hank registers an
    auditor. ada changes hank's roles (the access log keeps wall-clock time)."""
    app_1 = web.start("APP-1")
    with web.app.app_context():
        web.engine.reassign(web.open_task(app_1), assignee=actor("max"), actor=actor("ada"))
    app_2 = web.start("APP-2")
    use_record_acceptance(failing_record_acceptance)
    try:
        with web.app.app_context():
            web.engine.complete_task(
                web.open_task(app_2), actor=actor("mia"), data={"accepted": True, "man_days": 2.0}
            )
            incident = db.session.scalars(select(Incident.id)).one()
            web.engine.retry_incident(incident, actor=actor("olga"))
    finally:
        use_record_acceptance(record_acceptance)
    result = web.app.test_cli_runner().invoke(clock_group, ["advance", "P1D"])
    assert result.exit_code == 0, result.output
    hank = web.browser("hank")
    assert hank.post("/hr/auditors/new", AUDITOR).status_code == 302
    with web.app.app_context():
        hank_id = db.session.scalars(select(User.id).where(User.username == "hank")).one()
    ada = web.browser("ada")
    changed = {"display_name": "Hank 测试", "roles": ["hr", "auditor"], "active": "1"}
    assert ada.post(f"/admin/users/{hank_id}", changed).status_code == 302
    return web


def rows(web: Web, query: str = "", lang: str = "") -> list[dict[str, str]]:
    response = web.browser("quinn").get(f"/quality/trail.csv?{query}{lang}")
    assert response.status_code == 200, text(response)
    assert response.data.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(text(response).lstrip("\ufeff"))))


def test_each_operation_is_in_the_trail_with_who_what_and_case(operations):
    found = rows(operations, lang="&lang=en")
    assert [(r["Who"], r["Operation"], r["Case"], r["Details"]) for r in found] == [
        ("ada", "User account changed (roles, organisation, active)", "hank", ROLES_CHANGE),
        ("hank", "Auditor registered", "周审查", "2026-01-06"),
        ("cli:" + getpass.getuser(), "Application clock changed", "", CLOCK_CHANGE),
        ("olga", "Failed step retried", "APP-2", ""),
        ("ada", "Task reassigned", "APP-1", "— → max"),
        ("olga_owner", "Definition deployed", "web_form_flow v1", found[5]["Details"]),
        ("olga_owner", "Definition deployed", "review_flow v1", found[6]["Details"]),
    ]
    assert found[6]["Details"].endswith(" web")  # the hash's start and the comment
    assert found[2]["Time"] == "2026-01-05 09:00:00"  # China time
    # In Chinese by default: the kinds' labels, never the raw values.
    chinese = rows(operations)
    assert [r["操作"] for r in chinese][2:5] == ["系统时钟已调整", "失败步骤已重试", "任务已转派"]
    page = text(operations.browser("quinn").get("/quality/trail"))
    assert "<td>系统时钟已调整</td>" in page and ">clock_changed<" not in page


ROLES_CHANGE = "Roles: Human resources → Auditor, Human resources"
CLOCK_CHANGE = "2026-01-05 09:00 → 2026-01-06 09:00"


@pytest.mark.parametrize(
    "query, expected",
    [
        ("who=olga", [("olga", "APP-2")]),
        ("who=ada", [("ada", "hank"), ("ada", "APP-1")]),
        ("case=APP-1", [("ada", "APP-1")]),
        ("case=周审查", [("hank", "周审查")]),
        ("kind=clock_changed", [("cli:" + getpass.getuser(), "")]),
        ("kind=user_updated&who=ada", [("ada", "hank")]),
        ("kind=definition_deployed&who=ada", []),
        ("from=2026-01-06&to=2026-01-06", [("hank", "周审查")]),
        ("to=2026-01-05&kind=task_reassigned", [("ada", "APP-1")]),
        ("from=2026-01-06&kind=task_reassigned", []),
    ],
)
def test_the_trail_is_searched_by_who_what_when_and_case(operations, query, expected):
    found = rows(operations, query, "&lang=en")
    assert [(r["Who"], r["Case"]) for r in found] == expected


def test_the_trail_is_paged(operations, monkeypatch):
    monkeypatch.setattr("webapp.quality.trail.PAGE_SIZE", 3)
    quinn = operations.browser("quinn")
    first = text(quinn.get("/quality/trail?lang=en"))
    assert first.count("<tr data-kind=") == 3 and 'data-total="7"' in first
    third = text(quinn.get("/quality/trail?lang=en&page=3"))
    assert third.count("<tr data-kind=") == 1 and 'data-kind="definition_deployed"' in third
    filtered = text(quinn.get("/quality/trail?who=ada&page=1"))
    assert filtered.count("<tr data-kind=") == 2
    assert "/quality/trail.csv?who=ada" in filtered  # the CSV of what is shown


@pytest.mark.parametrize(
    "query", ["kind=bogus", "from=2026-02-30", "from=2026-02-02&to=2026-02-01"]
)
def test_a_bad_filter_is_a_422_naming_the_field(web: Web, query):
    quinn = web.browser("quinn")
    assert quinn.get(f"/quality/trail?{query}").status_code == 422
    assert quinn.get(f"/quality/trail.csv?{query}").status_code == 422
    page = text(quinn.get(f"/quality/trail?{query}&lang=en"))
    assert 'role="alert"' in page and "Please correct the marked fields." in page
