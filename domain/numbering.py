"""Case numbers: uppercase, no spaces, prefix + year + serial (e.g. APP-2026-0001)."""

from sqlalchemy import func, select
from sqlalchemy.orm import Session


def next_number(session: Session, column, prefix: str, year: int, width: int = 4) -> str:
    """The next free number `PREFIX-YEAR-NNNN` for `column` (a unique string column).

    Two concurrent transactions can compute the same number; the unique constraint then makes
    the later commit fail (a conflict the caller retries), never a duplicate.
    """
    stem = f"{prefix}-{year}-"
    highest = session.scalar(select(func.max(column)).where(column.like(f"{stem}%")))
    serial = int(highest[len(stem) :]) + 1 if highest else 1
    return f"{stem}{serial:0{width}d}"
