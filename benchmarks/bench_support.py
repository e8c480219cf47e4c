"""What the benchmark scripts share: the database they run on (a fresh SQLite file, a private
PostgreSQL cluster, or a disposable database named by URL), the app they build on it, and the
counting of the SQL statements a piece of work sends."""

import argparse
import logging
import re
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def add_database_options(parser: argparse.ArgumentParser) -> None:
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--database-url", help="a disposable database, e.g. postgresql+psycopg://user@host/db"
    )
    target.add_argument(
        "--postgres", action="store_true", help="start a private PostgreSQL cluster for the run"
    )


@contextmanager
def workspace(args: argparse.Namespace, prefix: str) -> Iterator[tuple[str, Path]]:
    """(database URL, temporary directory) of one run: a private PostgreSQL cluster
    (--postgres, stopped afterwards), the --database-url given, or a fresh SQLite file in the
    directory, which is removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        if not args.postgres:
            yield args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", Path(tmp)
            return
        sys.path.insert(0, str(ROOT))  # tests/ is not an installed package
        from tests.pg_cluster import PostgresCluster

        cluster = PostgresCluster()
        try:
            yield cluster.start(), Path(tmp)
        finally:
            cluster.stop()


@contextmanager
def benchmark_app(
    url: str, instance_path: Path, *, clock: str = "real", quiet: int = logging.INFO
) -> Iterator[Any]:
    """The app on `url`, migrated, inside its app context; the connections closed afterwards.
    Log lines up to `quiet` (alembic's per-migration INFO lines) are silenced while migrating."""
    from flask_migrate import upgrade

    from certflow.db import db
    from webapp import create_app

    app = create_app(
        {
            "SECRET_KEY": "benchmark",
            "SQLALCHEMY_DATABASE_URI": url,
            "CERTFLOW_CLOCK": clock,
            "CERTFLOW_SCHEDULER": False,
        },
        instance_path=str(instance_path),
    )
    with app.app_context():
        logging.disable(quiet)
        try:
            upgrade()
        finally:
            logging.disable(logging.NOTSET)
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


def statement_key(statement: str) -> str:
    """A statement's first words (verb and table), parameters collapsed."""
    text = re.sub(r"\s+", " ", statement).strip()
    text = re.sub(r"\(.*", "(…)", text) if text.upper().startswith("INSERT") else text
    return text[:110]


@contextmanager
def counted_statements(engine: Any) -> Iterator[Counter[str]]:
    """The statements sent on `engine` while the block runs, counted by `statement_key`."""
    from sqlalchemy import event

    counts: Counter[str] = Counter()

    def count(conn, cursor, statement, parameters, context, executemany):
        counts[statement_key(statement)] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield counts
    finally:
        event.remove(engine, "before_cursor_execute", count)
