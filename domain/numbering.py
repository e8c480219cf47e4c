"""Case numbers: uppercase, no spaces, prefix + year + serial (e.g. APP-2026-0001).

Numbers come from a counter row per (prefix, year) in `number_counter`, incremented with one
`UPDATE … RETURNING`: the row lock it takes is held until the caller's transaction ends, so
concurrent transactions (threads, app processes) queue on it and each gets its own serial — on
PostgreSQL and on SQLite (single writer). The counter never lags behind the numbers that exist:
while holding the lock it is raised to the highest existing number of the column, so numbers
registered before the counter existed (or entered by other means) continue without a gap or a
clash. A rolled-back transaction gives its serial back (the increment is rolled back too).
"""

from sqlalchemy import Integer, String, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from certflow.db import db


class NumberCounter(db.Model):
    """The last serial handed out for one prefix and year."""

    __tablename__ = "number_counter"

    prefix: Mapped[str] = mapped_column(String(40), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


def _ensure_counter(session: Session, prefix: str, year: int) -> None:
    """Create the counter row unless it exists (concurrent creators: one insert wins, quietly)."""
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(NumberCounter)
        .values(prefix=prefix, year=year, last=0)
        .on_conflict_do_nothing(index_elements=["prefix", "year"])
    )


def _highest_serial(session: Session, column, stem: str) -> int:
    highest = session.scalar(select(func.max(column)).where(column.like(f"{stem}%")))
    if not highest:
        return 0
    tail = highest[len(stem) :]
    return int(tail) if tail.isdigit() else 0


def next_number(session: Session, column, prefix: str, year: int, width: int = 4) -> str:
    """The next free number `PREFIX-YEAR-NNNN` for `column` (a unique string column).

    Takes the counter row's lock until the end of the caller's transaction (see module doc)."""
    _ensure_counter(session, prefix, year)
    key = (NumberCounter.prefix == prefix) & (NumberCounter.year == year)
    serial = session.scalar(
        update(NumberCounter)
        .where(key)
        .values(last=NumberCounter.last + 1)
        .returning(NumberCounter.last)
        .execution_options(synchronize_session=False)
    )
    stem = f"{prefix}-{year}-"
    existing = _highest_serial(session, column, stem)
    if existing >= serial:  # numbers from before the counter (or entered otherwise): continue
        serial = existing + 1
        session.execute(
            update(NumberCounter)
            .where(key)
            .values(last=serial)
            .execution_options(synchronize_session=False)
        )
    return f"{stem}{serial:0{width}d}"
