"""How a sweeper sleeps until its next sweep (issue 16): on PostgreSQL it LISTENs on the channel
of certflow/timer_wakeup.py, so a committed transaction that stored a timer (or moved the
simulated clock) wakes it at once; elsewhere it just sleeps. Either way a stop request ends the
wait within a second."""

import logging
import threading
import time

import psycopg
from flask import Flask
from sqlalchemy.engine import make_url

from certflow.timer_wakeup import CHANNEL

log = logging.getLogger(__name__)
_STOP_CHECK_SECONDS = 1.0


class SleepWaiter:
    def __init__(self, stop: threading.Event) -> None:
        self._stop = stop

    def wait(self, seconds: float) -> None:
        self._stop.wait(max(0.0, seconds))

    def close(self) -> None:
        pass


class NotifyWaiter:
    """Waits for a NOTIFY on CHANNEL or the timeout, whichever comes first; a lost connection is
    reopened at the next wait (meanwhile it sleeps)."""

    def __init__(self, conninfo: str, stop: threading.Event) -> None:
        self._conninfo = conninfo
        self._stop = stop
        self._connection: psycopg.Connection | None = None

    def _listening(self) -> psycopg.Connection | None:
        if self._connection is None or self._connection.closed:
            try:
                self._connection = psycopg.connect(self._conninfo, autocommit=True)
                self._connection.execute(f"LISTEN {CHANNEL}")
            except psycopg.Error as err:
                log.warning("timer wake-ups unavailable (%s); sleeping instead", err)
                self._connection = None
        return self._connection

    def wait(self, seconds: float) -> None:
        deadline = time.monotonic() + max(0.0, seconds)
        while not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            timeout = min(remaining, _STOP_CHECK_SECONDS)
            connection = self._listening()
            if connection is None:
                self._stop.wait(timeout)
                continue
            try:
                for _ in connection.notifies(timeout=timeout, stop_after=1):
                    return  # woken: the caller sweeps and recomputes its wait
            except psycopg.Error as err:
                log.warning("timer wake-up connection lost (%s)", err)
                self.close()

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            finally:
                self._connection = None


def libpq_conninfo(sqlalchemy_url: str) -> str:
    """The libpq connection string of a SQLAlchemy PostgreSQL URL (any driver suffix)."""
    url = make_url(sqlalchemy_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def waiter_for(app: Flask, stop: threading.Event) -> SleepWaiter | NotifyWaiter:
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if make_url(url).get_backend_name() == "postgresql":
        return NotifyWaiter(libpq_conninfo(url), stop)
    return SleepWaiter(stop)
