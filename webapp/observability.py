"""Request ids, the access log and the request/completion metrics (issue 16).

Every request gets an id — the caller's `X-Request-ID` when it is a plain token, else a new one —
that is echoed in the response header and carried by every log line of the request
(certflow/logs.py). One access-log line per request (logger `certflow.access`: method, path,
endpoint, status, duration). Metrics are labelled by endpoint name, never by raw path (bounded).
Task completions are counted when their transaction commits, not when attempted.
"""

import logging
import re
import time
import uuid

from flask import Flask, g, request
from sqlalchemy import event
from sqlalchemy.orm import Session

from certflow.logs import REQUEST_ID
from certflow.metrics import HTTP_LATENCY, HTTP_REQUESTS, TASK_COMPLETIONS
from engine.hooks import Hooks, TaskCompleted

access_log = logging.getLogger("certflow.access")
_GIVEN_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_PENDING = "certflow.completed_processes"


def _begin() -> None:
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if _GIVEN_ID.match(given) else uuid.uuid4().hex
    g.request_started = time.perf_counter()
    REQUEST_ID.set(g.request_id)


def _finish(response):
    started = g.get("request_started")
    if started is None:
        return response
    duration = time.perf_counter() - started
    endpoint = request.endpoint or "unmatched"
    HTTP_REQUESTS.labels(request.method, endpoint, str(response.status_code)).inc()
    HTTP_LATENCY.labels(request.method, endpoint).observe(duration)
    response.headers["X-Request-ID"] = g.request_id
    access_log.info(
        "%s %s %s",
        request.method,
        request.path,
        response.status_code,
        extra={
            "method": request.method,
            "path": request.path,
            "endpoint": endpoint,
            "status": response.status_code,
            "duration_ms": round(duration * 1000, 1),
        },
    )
    return response


def _task_completed(event_: TaskCompleted) -> None:
    event_.session.info.setdefault(_PENDING, []).append(event_.process_id)


def _count_committed(session: Session) -> None:
    for process_id in session.info.pop(_PENDING, ()):
        TASK_COMPLETIONS.labels(process_id).inc()


def _forget(session: Session, *_args) -> None:
    session.info.pop(_PENDING, None)


if not event.contains(Session, "after_commit", _count_committed):
    event.listen(Session, "after_commit", _count_committed)
    event.listen(Session, "after_soft_rollback", _forget)


def _forget_request_id(_error=None) -> None:
    REQUEST_ID.set(None)  # the thread serves other requests next; no stale id in their logs


def init_observability(app: Flask, hooks: Hooks) -> None:
    hooks.on(TaskCompleted)(_task_completed)
    app.before_request(_begin)
    app.after_request(_finish)
    app.teardown_request(_forget_request_id)
