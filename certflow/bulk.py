"""Set-based INSERTs for bulk writers (issue 16: `certflow generate`).

An executemany INSERT … RETURNING runs as SQLAlchemy's "insertmanyvalues": the one compiled
single-row statement is repeated as multi-row `VALUES (…), (…)` batches (about 1000 rows per
round trip) on PostgreSQL and SQLite alike, and the ids come back in the order of the rows."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session


def insert_returning_ids(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> list:
    """Insert `rows` (dicts with the same keys) into `table` in the session's transaction; the
    new rows' ids in the order of `rows`."""
    if not rows:
        return []
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(session.scalars(statement, list(rows)))


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` in batches of many rows per statement (see the module doc)."""
    insert_returning_ids(session, table, rows)
