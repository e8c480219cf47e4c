"""Set-based INSERTs for bulk writers (issue 16: `certflow generate`).

An executemany INSERT … RETURNING runs as SQLAlchemy's "insertmanyvalues": the one compiled
single-row statement is repeated as multi-row `VALUES (…), (…)` batches (about 1000 rows per
round trip) on PostgreSQL and SQLite alike, and the ids come back in the order of the rows.
Rows whose ids nobody needs go through COPY on PostgreSQL (`insert_rows`): one stream instead of
statements, the values converted by each column's own type first (as an INSERT would)."""

import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import JSON, Table, insert
from sqlalchemy.orm import Session


def insert_returning_ids(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> list:
    """Insert `rows` (dicts with the same keys) into `table` in the session's transaction; the
    new rows' ids in the order of `rows`."""
    if not rows:
        return []
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(session.scalars(statement, list(rows)))


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows`: COPY on PostgreSQL, else batches of many rows per statement."""
    if rows and session.get_bind().dialect.name == "postgresql":
        copy_rows(session, table, rows)
    else:
        insert_returning_ids(session, table, rows)


def copy_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """PostgreSQL COPY … FROM STDIN in the session's transaction (psycopg 3)."""
    connection = session.connection()
    dialect = connection.dialect
    columns = list(rows[0])
    processors = [_copy_processor(table.c[name].type, dialect) for name in columns]
    names = ", ".join(dialect.identifier_preparer.quote(name) for name in columns)
    target = dialect.identifier_preparer.format_table(table)
    cursor = connection.connection.driver_connection.cursor()
    with cursor, cursor.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(
                [
                    row[name] if process is None else process(row[name])
                    for name, process in zip(columns, processors, strict=True)
                ]
            )


def _copy_processor(column_type, dialect) -> Callable[[Any], Any] | None:
    """The column type's own conversion of a value for the database; JSON as its text (psycopg
    adapts JSON parameters itself, so SQLAlchemy gives no processor for them)."""
    process = column_type.bind_processor(dialect)
    if process is None and isinstance(column_type, JSON):
        serialize = dialect._json_serializer or json.dumps
        as_null = column_type.none_as_null  # else None is the JSON null, as an INSERT does
        return lambda value: None if value is None and as_null else serialize(value)
    return process
