"""Structured logs (issue 16): with CERTFLOW_LOG_FORMAT=json every log line of the process is one
JSON object (python-json-logger) carrying the request id of the request it belongs to, so the
lines of one request can be found across the access log, the app's and the engine's."""

import logging
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

REQUEST_ID: ContextVar[str | None] = ContextVar("certflow_request_id", default=None)


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


def configure_logging(log_format: str, level: int = logging.INFO) -> None:
    """Send the root logger's records to stderr, as JSON when asked (idempotent)."""
    if log_format != "json":
        return
    handler = logging.StreamHandler()
    handler.addFilter(_RequestIdFilter())
    handler.setFormatter(
        JsonFormatter(
            "%(levelname)s %(name)s %(message)s %(request_id)s",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",  # ISO 8601, UTC
        )
    )
    handler.set_name("certflow-json")
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
