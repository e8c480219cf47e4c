"""Issue 16: the HTML form submit (`POST /tasks/<id>`) reads the workflow once (in the engine's
step) and completes the task in ONE transaction that also removes the user's draft, committed
after the engine's step; a refused step leaves the task and the draft as they were."""

from collections import Counter

import pytest
from sqlalchemy import event

from certflow.db import db
from engine.models import HumanTask
from tests.web_support import REVIEW_OK, Web, web_fixture  # noqa: F401
from webapp.models import TaskDraft


@pytest.fixture
def sent(web):
    """The statements sent (without the tests' clock), and "COMMIT" for every commit."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if "simulated_time" not in statement and statement != "BEGIN":
            statements.append(" ".join(statement.split()))

    def commit(conn):
        statements.append("COMMIT")

    with web.app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    event.listen(engine, "commit", commit)
    yield statements
    event.remove(engine, "before_cursor_execute", record)
    event.remove(engine, "commit", commit)


def by_table(statements: list[str]) -> dict[str, int]:
    counts: Counter = Counter()
    for statement in statements:
        words = statement.split()
        if words[0] == "SELECT" and "." in words[1]:  # the table of its first column
            key = f"SELECT {words[1].split('.')[0]}"
        elif words[0] == "SELECT":  # a function, e.g. PostgreSQL's pg_notify
            key = " ".join(words[:2])
        elif words[0] in ("INSERT", "DELETE"):
            key = f"{words[0]} {words[2]}"
        else:  # UPDATE table, COMMIT
            key = " ".join(words[:2])
        counts[key] += 1
    return dict(counts)


def submit(web: Web, key: str, sent: list[str], form: dict):
    mia = web.browser("mia")
    task = web.open_task(web.start(key))
    mia.get(f"/tasks/{task}")  # the CSRF token
    mia.post(f"/tasks/{task}", {**form, "action": "draft"})
    sent.clear()
    return task, mia.post(f"/tasks/{task}", {**form, "action": "complete"})


def test_html_submit_reads_the_task_once_and_commits_once_after_the_engine(web, sent):
    submit(web, "APP-2", sent, REVIEW_OK)  # warm: the spec and form caches
    task, response = submit(web, "APP-1", sent, REVIEW_OK)
    assert response.status_code == 302, response.get_data(as_text=True)
    # Before: a commit before the engine (which then read task and instance again) and one for
    # the draft after it — 3 commits, 2 more reads.
    counts = by_table(sent)
    reads = {key: n for key, n in counts.items() if key.startswith("SELECT") and "(" not in key}
    assert reads == {
        "SELECT user_account": 1,  # the session's user with its web session (one join)
        # the task (with instance and version); open tasks (with the instance's message
        # subscriptions). The next task's row is written by an upsert, not looked up first.
        "SELECT human_task": 2,
    }, "\n".join(sent)
    assert counts["DELETE task_draft"] == 1  # in the engine's transaction
    assert counts["COMMIT"] == 1, "\n".join(sent)
    assert sent[-1] == "COMMIT"
    with web.app.app_context():
        assert db.session.get(HumanTask, task).state == "completed"
        assert db.session.get(TaskDraft, (task, "mia")) is None


def test_a_refused_submit_leaves_the_task_and_the_draft_as_they_were(web, sent):
    # man_days below the form's minimum: parsed by the page, refused by the engine's check.
    refused = {**REVIEW_OK, "f/man_days": "0.1"}
    task, response = submit(web, "APP-1", sent, refused)
    assert response.status_code == 422
    with web.app.app_context():
        assert db.session.get(HumanTask, task).state == "open"
        draft = db.session.get(TaskDraft, (task, "mia"))
        assert draft is not None and draft.data["man_days"] == 0.1
    assert "COMMIT" not in sent  # nothing written


def test_a_conflicting_submit_keeps_the_draft(web, sent):
    task, _ = submit(web, "APP-1", sent, REVIEW_OK)  # completed
    mia = web.browser("mia")
    mia.get(f"/tasks/{task}")
    with web.app.app_context():  # a draft left from before, for a task someone completed
        db.session.add(TaskDraft(task_id=task, username="max", data={}, saved_at=web.now()))
        db.session.commit()
    assert mia.post(f"/tasks/{task}", {**REVIEW_OK, "action": "complete"}).status_code == 409
    with web.app.app_context():
        assert db.session.get(TaskDraft, (task, "max")) is not None
