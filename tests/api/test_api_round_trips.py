"""Issue 16: the SQL one `POST /api/v1/tasks/{id}/complete` sends. The web layer adds no reads
the engine already made: token and user in one query, the task with its instance and version
in one query that the engine's operation reuses, no access query when the viewer holds the
task's role, no user reload after the commit. The answer is the instance as the completion left
it (taken before the commit: no read after it) and asks for incidents only of an instance in
error."""

import pytest
from sqlalchemy import event

from certflow.db import db
from tests.api.test_api import api  # noqa: F401  (the fixture)

REJECT = {"accepted": False, "man_days": 1}  # → the instance waits for a message


@pytest.fixture
def sent(api):  # noqa: F811
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if "simulated_time" not in statement and statement != "BEGIN":  # the tests' clock
            statements.append(" ".join(statement.split()))

    with api.app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    yield statements
    event.remove(engine, "before_cursor_execute", record)


def test_completing_a_task_over_the_api_sends_seven_statements(api, sent):  # noqa: F811
    warm = api.open_task(api.start("APP-2")["id"], user="mia")
    assert api.complete("mia", warm["id"], REJECT).status_code == 200  # the form is cached
    instance = api.start("APP-1")
    task = api.open_task(instance["id"], user="mia")
    sent.clear()
    response = api.complete("mia", task["id"], REJECT)
    assert response.status_code == 200, response.json
    assert response.json["active_element_ids"] == ["Event_WaitResubmission"]
    by_table: dict[str, int] = {}
    for statement in sent:
        words = statement.split()
        if words[0] == "SELECT":  # the table of its first column (a subquery has a FROM too)
            table = words[1].split(".")[0]
        else:  # INSERT INTO table, UPDATE table, DELETE FROM table
            table = words[2] if words[0] in ("INSERT", "DELETE") else words[1]
        key = f"{words[0]} {table}"
        by_table[key] = by_table.get(key, 0) + 1
    assert by_table == {
        "SELECT api_token": 1,  # with its user
        # the task (with instance and version); the open tasks with the subscriptions and
        # whether a queued message correlates (none does: no lookup for one)
        "SELECT human_task": 2,
        "INSERT event_log": 1,
        "INSERT message_subscription": 1,
        "UPDATE process_instance": 1,
        "UPDATE human_task": 1,
    }, sent


def test_the_answer_is_the_instance_as_stored(api):  # noqa: F811
    """The answer taken before the commit equals the instance read afresh afterwards."""
    instance = api.start("APP-1")
    task = api.open_task(instance["id"], user="mia")
    answer = api.complete("mia", task["id"], REJECT)
    assert answer.status_code == 200, answer.json
    with api.app.app_context():
        db.session.remove()
    stored = api.get("mia", f"/instances/{instance['id']}")
    assert stored.status_code == 200
    assert answer.json == stored.json
    assert (answer.json["status"], answer.json["incidents"]) == ("running", [])
    assert answer.json["active_element_ids"] == ["Event_WaitResubmission"]
