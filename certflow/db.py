"""The one SQLAlchemy instance of the application, and column helpers shared by all models."""

from datetime import UTC, datetime

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData, TypeDecorator
from sqlalchemy.orm import DeclarativeBase

# Named constraints keep Alembic migrations portable between SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC timestamps on every backend.

    SQLite has no time zone type, so values are normalised to UTC on the way in and marked UTC on
    the way out; a naive datetime is a programming error and is refused.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} refused: store timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def configure_sqlite(engine) -> None:
    """Make SQLite behave for a multi-threaded server: WAL, a busy timeout, foreign keys, and
    explicit BEGIN so that SAVEPOINT (used around each handler call) works as documented.

    synchronous=NORMAL (issue 16): in WAL mode a commit then needs no fsync of its own (the WAL
    is synced at checkpoints); the database stays consistent after a crash, and only a power
    loss can drop the last commits — the trade-off SQLite documents for WAL."""
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, connection_record) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        connection.exec_driver_sql("BEGIN")


# SQLSTATE classes that mean "a concurrent transaction got there first": integrity violation (23…),
# serialization failure (40001) and deadlock (40P01).
_CONFLICT_SQLSTATES = ("23", "40001", "40P01")


def is_conflict(err: BaseException) -> bool:
    """True for database errors caused by a concurrent change (one wins, the other gets 409):
    integrity violations, PostgreSQL serialization failures and deadlocks, SQLite's busy lock.
    Accepts SQLAlchemy's wrapped errors and the driver's own (e.g. a root cause)."""
    from sqlalchemy.exc import DBAPIError, IntegrityError

    if isinstance(err, IntegrityError):
        return True
    orig = err.orig if isinstance(err, DBAPIError) else err
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None) or ""
    if sqlstate.startswith(_CONFLICT_SQLSTATES):
        return True
    return type(orig).__module__ == "sqlite3" and "database is locked" in str(orig)
