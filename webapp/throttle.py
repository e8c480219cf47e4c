"""Fixed-window rate counters in the database, counted atomically.

`take(bucket, limit, window)` records an attempt and counts it in ONE statement (an upsert with
`RETURNING`, committed at once): concurrent requests — threads or separate app processes — each
get a distinct count, so exactly `limit` attempts per window pass and the rest are refused. An
attempt that turns out not to count (a correct password, an invalid form) is given back with
`give_back`. The counter starts its window at the first attempt and restarts after the window.

(Flask-Limiter would be the usual library, but it has no SQL storage; the app has no Redis, and
the counts must hold across processes — hence this small module.)

Time is the wall clock: security records never follow the simulated business clock.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, literal, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from certflow.db import UTCDateTime, db
from webapp.models import RateCounter

LONGEST_WINDOW = timedelta(days=1)  # rows older than this are deleted now and then


@dataclass(frozen=True)
class Taken:
    allowed: bool
    count: int
    retry_after: int  # seconds until the window ends


def bucket(kind: str, *parts: str) -> str:
    """A bounded key for any parts (usernames, addresses): kind + sha256."""
    digest = hashlib.sha256("\x00".join(parts).encode()).hexdigest()
    return f"{kind[:30]}:{digest}"


def take(name: str, limit: int, window: timedelta, now: datetime) -> Taken:
    """Record one attempt in bucket `name` and say whether it is within `limit` (committed)."""
    assert window <= LONGEST_WINDOW
    session = db.session
    session.rollback()  # a fresh transaction: its first statement is this write (SQLite lock)
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    expired = RateCounter.window_started_at <= literal(now - window, UTCDateTime())
    statement = insert(RateCounter).values(bucket=name, window_started_at=now, count=1)
    statement = statement.on_conflict_do_update(
        index_elements=[RateCounter.bucket],
        set_={
            "count": case((expired, 1), else_=RateCounter.count + 1),
            "window_started_at": case(
                (expired, literal(now, UTCDateTime())), else_=RateCounter.window_started_at
            ),
        },
    ).returning(RateCounter.count, RateCounter.window_started_at)
    count, window_started_at = session.execute(statement).one()
    if count == 1:  # a new window: tidy up counters nobody has used for a day
        session.execute(
            delete(RateCounter).where(
                RateCounter.window_started_at < literal(now - LONGEST_WINDOW, UTCDateTime())
            )
        )
    session.commit()
    remaining = (window_started_at + window - now).total_seconds()
    return Taken(count <= limit, count, max(1, int(remaining + 0.999)))


def give_back(name: str) -> None:
    """Undo one `take` of bucket `name` (the attempt does not count after all; committed)."""
    session = db.session
    session.rollback()
    session.execute(
        update(RateCounter)
        .where(RateCounter.bucket == name, RateCounter.count > 0)
        .values(count=RateCounter.count - 1)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def reset(name: str) -> None:
    """Forget bucket `name` (e.g. the failures of an account after a correct sign-in)."""
    db.session.rollback()
    db.session.execute(delete(RateCounter).where(RateCounter.bucket == name))
    db.session.commit()
