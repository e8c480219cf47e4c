"""Issue 16: what every signed-in page and the inbox send to the database. The user and its web
session come in one query; the inbox lists the blocked cases a user worked on without their
stored workflow state (the state of a stopped case is the whole running workflow)."""

from domain.errors import RuleViolation
from handlers.registry import handler, unregister
from tests.helpers import record_acceptance
from tests.web_support import actor, web_fixture  # noqa: F401
from tests.web_support import page_statements as statements

OPERATOR = "test_record_acceptance"


def test_the_user_and_its_session_come_in_one_query(web):
    quinn = web.browser("quinn")
    _, sent = statements(web, quinn, "/")
    reads = [s for s in sent if "FROM user_account" in s or "FROM web_session" in s]
    assert len([s for s in reads if s.lstrip().upper().startswith("SELECT")]) == 1, reads


def no_more_than_ten_man_days(params, ctx):
    if params["man_days"] > 10:
        raise RuleViolation("R-6.2.1", "审查人日超过 10", field="man_days")
    return record_acceptance(params, ctx)


def test_the_inbox_lists_blocked_cases_without_their_workflow_state(web):
    instance = web.start("APP-A1", org="A")
    unregister(OPERATOR)
    handler(OPERATOR)(no_more_than_ten_man_days)
    try:
        with web.app.app_context():
            web.engine.complete_task(
                web.open_task(instance),
                actor=actor("mia"),
                data={"accepted": True, "man_days": 12.0},
            )
            assert web.engine.open_incidents(instance)
    finally:
        unregister(OPERATOR)
        handler(OPERATOR)(record_acceptance)
    page, sent = statements(web, web.browser("mia"), "/")
    assert "data-blocked-cases" in page and "APP-A1" in page
    assert not [s for s in sent if "state_json" in s]


def test_the_unfiltered_inbox_counts_each_tab_once(web):
    """Without URL filters the listed tasks are the tab's: its count is the page's total (one
    count per tab, none more); with a filter the page is counted on its own."""
    web.start("APP-A1", org="A")
    web.start("APP-A2", org="A")
    quinn = web.browser("quinn")  # quality manager: tabs mine, groups and all
    page, sent = statements(web, quinn, "/?tab=all")
    counts = [s for s in sent if "count(" in s.lower()]
    assert len(counts) == 3, counts
    assert 'data-total="2"' in page
    page, sent = statements(web, quinn, "/?tab=all&key=APP-A1")
    assert len([s for s in sent if "count(" in s.lower()]) == 4
    assert 'data-total="1"' in page
