"""Browser tests: Playwright (pytest-playwright) drives Debian's chromium against the web app served
by a live server thread on 127.0.0.1 (a free port), on a SQLite file migrated with Alembic, with
the simulated clock and demo data made here. SQLite only (`browser` marker).

Needs `apt-get install -y chromium` (never `playwright install`: it downloads a browser build and
fails here). Without chromium (or pytest-playwright) every browser test FAILS with that message.

Screenshots: `CERTFLOW_SHOTS=/some/dir` makes test_screenshots.py save its PNGs there too.
"""

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest
from werkzeug.security import generate_password_hash
from werkzeug.serving import make_server

from tests.case_support import CaseRecords, add_case_records
from tests.conftest import START_TIME, make_app
from tests.factories import make_organisation
from tests.helpers import OWNER, REVIEW_FLOW, record_acceptance, registered
from tests.web_support import PASSWORD, WEB_FORMS, Web, add_users

CHROMIUM = os.environ.get("CERTFLOW_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
INSTALL = "apt-get install -y chromium"

try:
    import pytest_playwright  # noqa: F401

    PLAYWRIGHT = True
except ImportError:  # pragma: no cover - the test deps were not installed
    PLAYWRIGHT = False


def browser_problem() -> str | None:
    if not PLAYWRIGHT:
        return "pytest-playwright is not installed: pip install -e '.[test]'"
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        return (
            f"Debian's chromium is missing ({CHROMIUM} not found): the browser tests need it. "
            f"Install it with `{INSTALL}` (do not run `playwright install`)."
        )
    return None


@pytest.fixture(scope="session", autouse=True)
def _chromium_is_there() -> None:
    """Fail (never skip) every browser test when the browser cannot be had."""
    problem = browser_problem()
    if problem:
        pytest.fail(problem, pytrace=False)


if PLAYWRIGHT:

    @pytest.fixture(scope="session")
    def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
        return {
            **browser_type_launch_args,
            "executable_path": CHROMIUM,
            "args": CHROMIUM_ARGS,
            "headless": True,
        }


@dataclass
class Live:
    """The running app: its URL, and a `Web` helper to make data in the same database."""

    url: str
    web: Web
    records: CaseRecords  # organisation A's case: audit, documents, certificate, file
    seed_instance: int  # its process instance, waiting for the client's contract

    @property
    def app(self):
        return self.web.app


@contextmanager
def served(app, name: str) -> Iterator[str]:
    """The app served by a live server thread on a free port of 127.0.0.1: its URL. Afterwards
    the server is stopped and the app's database connections closed."""
    from certflow.db import db

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _seed(app) -> dict[str, int]:
    from flask_migrate import upgrade

    from certflow.db import db

    with app.app_context():
        upgrade()
        app.extensions["certflow.clock"].set(START_TIME)
        org_a = make_organisation(db.session, START_TIME, name="甲公司 Alpha Ltd")
        org_b = make_organisation(
            db.session, START_TIME, name="乙公司 Beta Ltd", uscc="91110000MA00000002"
        )
        organisations = {"A": org_a.id, "B": org_b.id}
        add_users(organisations)
        app.extensions["certflow.engine"].deploy(
            [REVIEW_FLOW, WEB_FORMS], actor=OWNER, comment="browser tests"
        )
        db.session.commit()
    return organisations


@pytest.fixture(scope="session")
def live(tmp_path_factory) -> Iterator[Live]:
    from certflow.db import db

    root = tmp_path_factory.mktemp("live")
    app = make_app(f"sqlite:///{root / 'browser.sqlite3'}", root / "instance", TESTING=False)
    with (
        pytest.MonkeyPatch.context() as patch,
        registered("test_record_acceptance", record_acceptance),
    ):
        # Cheap password hashes: every test signs in.
        patch.setattr(
            "certflow.models.generate_password_hash",
            partial(generate_password_hash, method="pbkdf2:sha256:1"),
        )
        organisations = _seed(app)
        web = Web(app, organisations)
        # Organisation A's case: an application in review, then its audit, report, certificate.
        instance = web.start("APP-A-SEED", org="A")
        web.to_contract(instance)
        with app.app_context():
            records = add_case_records(
                db.session, web.storage, web.now(), organisations["A"], "APP-A-SEED"
            )
        with served(app, "live-server") as url:
            yield Live(url, web, records, instance)


@pytest.fixture(scope="session")
def base_url(live: Live) -> str:
    return live.url


_numbers = iter(range(1, 100_000))


@pytest.fixture
def start(live: Live):
    """start(org="A") → (instance id, business key): a fresh review_flow instance linked to a new
    application of the organisation, waiting for the market's acceptance review."""

    def start_instance(org: str = "A", process: str = "review_flow") -> tuple[int, str]:
        key = f"APP-{org}-{next(_numbers):03d}"
        if process == "review_flow":
            return live.web.start(key, org=org), key
        return live.web.start(key, process=process), key

    return start_instance


@pytest.fixture
def login(page, live: Live):
    """login(username) signs the page in (the Chinese default language)."""

    def sign_in(username: str, password: str = PASSWORD) -> None:
        page.goto("/login")
        page.fill("#username", username)
        page.fill("#password", password)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/login" not in url)

    return sign_in
