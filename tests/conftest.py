"""Test fixtures: every database test runs on SQLite (a real file) and on PostgreSQL.

PostgreSQL comes from TEST_DATABASE_URL, or a private cluster started for the session. When it
cannot be had, the PostgreSQL half is skipped with the reason (and fails outright when
CERTFLOW_REQUIRE_POSTGRES=1, as in CI).
"""

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.pg_cluster import PostgresCluster, PostgresUnavailable

FIXTURES = Path(__file__).parent / "fixtures"
START_TIME = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
_postgres_status: list[str] = []


@pytest.fixture(scope="session")
def postgres_url():
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        _postgres_status.append(f"PostgreSQL: TEST_DATABASE_URL ({url.split('@')[-1]})")
        yield url
        return
    cluster = None
    try:
        cluster = PostgresCluster()
        url = cluster.start()
    except PostgresUnavailable as err:
        _postgres_status.append(f"PostgreSQL UNAVAILABLE — PostgreSQL tests skipped: {err}")
        if os.environ.get("CERTFLOW_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required (CERTFLOW_REQUIRE_POSTGRES=1): {err}")
        pytest.skip(f"PostgreSQL unavailable: {err}")
    _postgres_status.append(f"PostgreSQL: private cluster on port {cluster.port}")
    yield url
    cluster.stop()


def pytest_terminal_summary(terminalreporter) -> None:
    for line in _postgres_status:
        terminalreporter.write_line(line)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'certflow-test.sqlite3'}"
    return request.getfixturevalue("postgres_url")


def make_app(database_url: str, instance_path: Path, **config):
    from webapp import create_app

    settings = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "CERTFLOW_CLOCK": "simulated",
        "CERTFLOW_SCHEDULER": False,
        **config,
    }
    return create_app(settings, instance_path=str(instance_path))


@pytest.fixture(scope="session")
def migrated_url(database_url, tmp_path_factory):
    """The schema is built by the Alembic migrations, once per backend."""
    from flask_migrate import upgrade

    from certflow.db import db

    app = make_app(database_url, tmp_path_factory.mktemp("instance"))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return database_url


def clear_database() -> None:
    """Empty every table (the schema stays); foreign keys are cyclic (audit ↔ certificate)."""
    from certflow.db import db

    tables = list(db.metadata.tables.values())
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(conn.dialect.identifier_preparer.quote(t.name) for t in tables)
            conn.exec_driver_sql(f"TRUNCATE {names} CASCADE")  # noqa: S608 (our own table names)
        else:
            conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
            for table in tables:
                conn.execute(table.delete())


def forget_compiled_statements() -> None:
    """Drop the ORM's per-mapper caches of compiled INSERT/UPDATE/DELETE statements. They are
    keyed by the engine's dialect, and every test's app has an engine of its own: each test's
    dialect stayed alive with its statements, up to ~150 a mapper (sqlalchemy#4560), about a
    million objects after tests/web that every garbage collection walked. One engine per
    process, as in production, fills them once. `_compiled_cache` is SQLAlchemy's own (no public
    way): tests/platform/test_discarded_apps.py fails if this stops freeing the dialects."""
    from certflow.db import db

    for mapper in db.Model.registry.mappers:
        mapper._compiled_cache.clear()


@pytest.fixture(autouse=True)
def _statements_of_the_test_are_forgotten():
    yield
    forget_compiled_statements()


@pytest.fixture
def app(migrated_url, tmp_path):
    from certflow.db import db

    app = make_app(migrated_url, tmp_path / "instance")
    with app.app_context():
        clear_database()
        app.extensions["certflow.clock"].set(START_TIME)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


@pytest.fixture
def engine(ctx):
    return ctx.extensions["certflow.engine"]


@pytest.fixture
def clock(ctx):
    return ctx.extensions["certflow.clock"]


@pytest.fixture
def deployed(engine):
    """The fixture process tests/fixtures/processes (review_flow and its kin) deployed, its
    service task's handler registered for the test (a module's own `deployed` replaces this)."""
    from tests.helpers import OWNER, REVIEW_FLOW, record_acceptance, registered

    with registered("test_record_acceptance", record_acceptance):
        engine.deploy([REVIEW_FLOW], actor=OWNER, comment="fixture")
        yield engine


@pytest.fixture
def case(engine, clock, tmp_path):
    """A certification case not yet applied for: the real processes deployed, the people of
    tests/certification_case.py (a module's own `case` fixture replaces this one)."""
    from tests.certification_case import Case, deploy_everything, make_people

    deploy_everything(engine)
    return Case(engine, clock, make_people(clock.now()), tmp_path / "uploads")
