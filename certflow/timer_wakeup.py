"""Waking the timer sweepers (issue 16, "timers on time").

A sweeper sleeps until the next due time (`next_timer_at`). When a transaction stores a timer, or
moves the simulated clock, it sends `NOTIFY certflow_timers` on PostgreSQL; PostgreSQL delivers it
to every listening sweeper when (and only if) that transaction commits, so a sweeper sleeping
towards a later time wakes and recomputes at once. On SQLite nothing is sent: the sweeper wakes at
the earliest due time it knew of, or after CERTFLOW_SWEEP_SECONDS at the latest.
"""

from sqlalchemy import text
from sqlalchemy.orm import Session

CHANNEL = "certflow_timers"


def notify_sweepers(session: Session, reason: str) -> None:
    """Wake the sweepers once this transaction commits (PostgreSQL; a no-op elsewhere)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    session.execute(
        text("SELECT pg_notify(:channel, :reason)"), {"channel": CHANNEL, "reason": reason}
    )
