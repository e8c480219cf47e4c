"""Issue 16: the case page at data volume sends a number of statements that does not grow with
the case's completed forms (their files come from one query for the forms' versions, not one per
form; the task page lists its instance's files the same way)."""

from sqlalchemy import event

from certflow.db import db
from tests.web_support import Web, web_fixture  # noqa: F401


def selects(web: Web, browser, url: str) -> int:
    sent: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "simulated_time" not in statement:
            sent.append(statement)

    with web.app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert browser.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(sent)


def test_case_page_statements_do_not_grow_with_the_completed_forms(web):
    quinn = web.browser("quinn")
    web.to_contract(web.start("APP-A1", org="A"))  # a completed review form
    url = f"/cases/{web.organisations['A']}"
    quinn.get(url)  # warm: form caches
    one = selects(web, quinn, url)
    for number in range(2, 5):  # three more cases of the organisation, each with a form done
        web.to_contract(web.start(f"APP-A{number}", org="A"))
    more = selects(web, quinn, url)
    assert more == one, (one, more)
