"""Waking the sweep job (issue 16): on PostgreSQL a thread LISTENs on the channel of
certflow/timer_wakeup.py, so a committed transaction that stored a timer (or moved the simulated
clock) moves the sweep job's next run time to now. Elsewhere there is nothing to listen to."""

import logging
import threading
from collections.abc import Callable

import psycopg
from flask import Flask
from sqlalchemy.engine import make_url

from certflow.timer_wakeup import CHANNEL

log = logging.getLogger(__name__)
# How often the listening thread looks whether it should stop; how long it waits to reconnect.
_STOP_CHECK_SECONDS = 1.0
_RECONNECT_SECONDS = 1.0


class NotifyListener:
    """A daemon thread that calls `on_notify` for each NOTIFY on CHANNEL, and once each time it
    (re)starts listening (a notification sent while it was not listening is lost; the extra
    sweep is cheap). A lost connection is reopened after a pause."""

    def __init__(self, conninfo: str, on_notify: Callable[[], None]) -> None:
        self._conninfo = conninfo
        self._on_notify = on_notify
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._listen, name="certflow-timer-wakeup", daemon=True
        )

    def start(self) -> "NotifyListener":
        self._thread.start()
        return self

    def stop(self, wait: bool = True) -> None:
        self._stop.set()
        if wait and self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    self._on_notify()
                    while not self._stop.is_set():
                        for _ in connection.notifies(timeout=_STOP_CHECK_SECONDS, stop_after=1):
                            self._on_notify()
            except psycopg.Error as err:
                log.warning("timer wake-ups unavailable (%s); retrying", err)
                self._stop.wait(_RECONNECT_SECONDS)
            except Exception:
                log.exception("timer wake-up failed")
                self._stop.wait(_RECONNECT_SECONDS)


def libpq_conninfo(sqlalchemy_url: str) -> str:
    """The libpq connection string of a SQLAlchemy PostgreSQL URL (any driver suffix)."""
    url = make_url(sqlalchemy_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def listener_for(app: Flask, on_notify: Callable[[], None]) -> NotifyListener | None:
    """A (not yet started) listener on PostgreSQL; None elsewhere (SQLite has no NOTIFY)."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if make_url(url).get_backend_name() == "postgresql":
        return NotifyListener(libpq_conninfo(url), on_notify)
    return None
