"""Helpers for the web page tests: users with passwords and organisations, a test client that
signs in and sends the CSRF token it finds in the rendered pages, and process instances linked
(or not) to an organisation's application.

The `web` fixture: import it into a test module with
`from tests.web_support import web_fixture  # noqa: F401` and name a test's argument `web`.
"""

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, select
from werkzeug.security import generate_password_hash
from werkzeug.test import TestResponse

from certflow.accounts import create_user
from certflow.db import db
from domain.models import Application, Organisation
from engine.models import HumanTask
from engine.service import Actor
from tests.conftest import START_TIME
from tests.factories import make_application, make_organisation
from tests.helpers import FIXTURES, OWNER, REVIEW_FLOW, record_acceptance, registered

WEB_FORMS = FIXTURES / "web_forms"

PASSWORD = "pw-correct-horse"
# username: (roles, organisation key or None)
USERS: dict[str, tuple[set[str], str | None]] = {
    "ada": ({"admin"}, None),
    "quinn": ({"quality_manager"}, None),
    "asa": ({"assessor"}, None),  # accreditation assessor: reads, never acts (issue 13)
    "olga": ({"process_owner"}, None),
    "mia": ({"market"}, None),
    "max": ({"market"}, None),
    "hank": ({"hr"}, None),
    "carl": ({"client"}, "A"),
    "cleo": ({"client"}, "A"),
    "cora": ({"client"}, "B"),
}
ROLES = {name: frozenset(roles) for name, (roles, _) in USERS.items()}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
REVIEW_OK = {"f/accepted": "1", "f/man_days": "2.5"}


def actor(username: str) -> Actor:
    return Actor(username, ROLES[username])


class Browser:
    """A Flask test client of one user that keeps the CSRF token of the last page it read."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.client = app.test_client()
        self.token: str | None = None

    def _remember_token(self, response: TestResponse) -> None:
        if response.mimetype == "text/html":
            match = CSRF.search(response.get_data(as_text=True))
            if match:
                self.token = html.unescape(match.group(1))

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        response = self.client.get(url, **kwargs)
        self._remember_token(response)
        return response

    def post(
        self, url: str, data: dict | None = None, *, csrf: bool = True, **kwargs: Any
    ) -> TestResponse:
        data = dict(data or {})
        if csrf and "csrf_token" not in data:
            if self.token is None:
                self.get("/login")
            data["csrf_token"] = self.token
        response = self.client.post(url, data=data, **kwargs)
        self._remember_token(response)
        return response

    def login(self, username: str, password: str = PASSWORD) -> TestResponse:
        self.get("/login")
        response = self.post("/login", {"username": username, "password": password})
        if response.status_code == 302:
            self.get("/")  # the session changed at sign-in: take the new token
        return response


def text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


@dataclass
class Web:
    app: Flask
    organisations: dict[str, int] = field(default_factory=dict)

    def browser(self, username: str | None = None) -> Browser:
        browser = Browser(self.app)
        if username is not None:
            response = browser.login(username)
            assert response.status_code == 302, text(response)
        return browser

    @property
    def engine(self):
        return self.app.extensions["certflow.engine"]

    @property
    def clock(self):
        return self.app.extensions["certflow.clock"]

    @property
    def storage(self) -> Path:
        return Path(self.app.instance_path) / "uploads"

    def start(
        self,
        business_key: str | None = "APP-1",
        org: str | None = None,
        process: str = "review_flow",
        **data: Any,
    ) -> int:
        """A review_flow (or web_form_flow) instance started by mia; with `org` linked to an
        application of that organisation."""
        if process == "review_flow":
            data = {"headcount": 120, "application_id": business_key, **data}
        with self.app.app_context():
            instance = self.engine.start(
                process, actor=actor("mia"), business_key=business_key, data=data
            )
            if org is not None:
                organisation = db.session.get(Organisation, self.organisations[org])
                application = make_application(
                    db.session, START_TIME, organisation, number=business_key
                )
                application.instance_id = instance.id
                db.session.commit()
            return instance.id

    def open_task(self, instance_id: int) -> str:
        with self.app.app_context():
            [row] = db.session.scalars(
                select(HumanTask).where(
                    HumanTask.instance_id == instance_id, HumanTask.state == "open"
                )
            ).all()
            return row.id

    def task(self, task_id: str) -> HumanTask:
        with self.app.app_context():
            row = db.session.get(HumanTask, task_id)
            db.session.expunge(row)
            return row

    def to_contract(self, instance_id: int) -> str:
        """Complete the review (as mia): the instance waits on the client's contract task."""
        with self.app.app_context():
            self.engine.complete_task(
                self.open_task(instance_id),
                actor=actor("mia"),
                data={"accepted": True, "man_days": 2.0},
            )
        return self.open_task(instance_id)

    def claim(self, task_id: str, username: str) -> None:
        with self.app.app_context():
            self.engine.claim(task_id, actor=actor(username))

    def now(self) -> datetime:
        with self.app.app_context():
            return self.clock.now()

    def advance(self, delta: timedelta) -> None:
        with self.app.app_context():
            self.clock.advance(delta)


def add_users(organisations: dict[str, int]) -> None:
    for name, (roles, org) in USERS.items():
        user = create_user(
            db.session,
            name,
            password=PASSWORD,
            roles=roles,
            display_name=f"{name.title()} 测试",
            now=START_TIME,
        )
        user.organisation_id = organisations[org] if org else None
    db.session.commit()


@pytest.fixture(name="web")
def web_fixture(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[Web]:
    # Cheap password hashes: the tests sign in many times.
    monkeypatch.setattr(
        "certflow.models.generate_password_hash",
        partial(generate_password_hash, method="pbkdf2:sha256:1"),
    )
    with app.app_context():
        org_a = make_organisation(db.session, START_TIME, name="甲公司 Alpha Ltd")
        org_b = make_organisation(
            db.session, START_TIME, name="乙公司 Beta Ltd", uscc="91110000MA00000002"
        )
        organisations = {"A": org_a.id, "B": org_b.id}
        add_users(organisations)
    with registered("test_record_acceptance", record_acceptance):
        with app.app_context():
            app.extensions["certflow.engine"].deploy(
                [REVIEW_FLOW, WEB_FORMS], actor=OWNER, comment="web"
            )
        yield Web(app, organisations)


__all__ = ["Application", "Browser", "PASSWORD", "REVIEW_OK", "Web", "actor", "text", "web_fixture"]


@contextmanager
def sent_statements(engine) -> Iterator[list[str]]:
    """The SQL statements sent to `engine` inside the block, in order."""
    sent: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def page_statements(web: "Web", browser, url: str) -> tuple[str, list[str]]:
    """The page at `url` (answered 200) and the statements its request sent."""
    with web.app.app_context():
        engine = db.engine
    with sent_statements(engine) as sent:
        answer = browser.get(url)
        assert answer.status_code == 200
    return answer.get_data(as_text=True), sent
