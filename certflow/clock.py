"""One clock for the whole application.

Every date the rules count (12/15 months, 6 months, 30 days, 3 months before expiry) and every
BPMN timer reads this clock. The real clock is the default; with CERTFLOW_CLOCK=simulated the time
is stored in the database so that the web server, the scheduler and the CLI agree on it, and it
only moves when someone sets or advances it.
"""

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from certflow.timer_wakeup import notify_sweepers


class Clock:
    simulated = False

    def now(self) -> datetime:
        raise NotImplementedError


class RealClock(Clock):
    def now(self) -> datetime:
        return datetime.now(UTC)


class SimulatedClock(Clock):
    """Time kept in the `simulated_time` table (one row); starts at the real time if unset."""

    simulated = True

    def __init__(self, session_factory) -> None:
        # A callable returning the session to use, so the clock reads inside the caller's
        # transaction (e.g. `lambda: db.session`).
        self._session_factory = session_factory

    def _row(self, session: Session):
        from certflow.models import SimulatedTime

        row = session.get(SimulatedTime, 1)
        if row is None:
            row = SimulatedTime(id=1, now=datetime.now(UTC).replace(microsecond=0))
            session.add(row)
            session.flush()
        return row

    def now(self) -> datetime:
        return self._row(self._session_factory()).now

    def set(self, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("simulated time must carry a UTC offset")
        session = self._session_factory()
        row = self._row(session)
        row.now = value.astimezone(UTC)
        notify_sweepers(session, "clock")  # the sweepers look at the new time (issue 16)
        session.commit()
        return row.now

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("the simulated clock does not run backwards")
        session = self._session_factory()
        row = self._row(session)
        row.now = row.now + delta
        notify_sweepers(session, "clock")
        session.commit()
        return row.now


def parse_utc(value: str) -> datetime:
    """Parse an ISO 8601 timestamp that carries an offset; naive input is refused, not guessed."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp {value!r} has no UTC offset")
    return parsed.astimezone(UTC)
