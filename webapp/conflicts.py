"""Database conflicts answer 409, never 5xx, on the web pages and the JSON API.

Two requests changing the same data at once: one wins, the other is told so and rolled back.
Conflicts are an IntegrityError (a unique or foreign-key rule met because of a concurrent
change), a PostgreSQL serialization failure or deadlock (SQLSTATE 40001, 40P01) and SQLite's
"database is locked" (its single writer was busy too long). Any other database error remains a
500. The engine turns the same errors into ConflictError (409) inside its own operations.
"""

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from sqlalchemy.exc import DBAPIError

from certflow.db import db, is_conflict
from engine.errors import ConflictError

API_PREFIX = "/api/v1"


def conflict_response(err: Exception):
    db.session.rollback()
    current_app.logger.warning("database conflict on %s %s: %s", request.method, request.path, err)
    message = "the data was changed by a concurrent request; nothing was saved — reload and retry"
    if request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/"):
        return jsonify({"error": "conflict", "message": message}), 409
    page = render_template(
        "message.html",
        title=_("Changed at the same time"),
        message=_(
            "Someone else changed the same data at the same moment, so nothing was saved. "
            "Please reload the page and try again."
        ),
    )
    return page, 409


def _on_database_error(err: DBAPIError):
    if not is_conflict(err):
        raise err  # a real failure: the usual 500 (logged by Flask)
    return conflict_response(err)


def init_conflicts(app: Flask) -> None:
    # IntegrityError, OperationalError (psycopg's serialization failure and deadlock, SQLite's
    # lock) and the rest of the driver errors; only conflicts among them become 409.
    app.register_error_handler(DBAPIError, _on_database_error)
    # The engine's own ConflictError on a web page (the API answers it with its EngineError
    # handler, which takes precedence for /api/v1).
    app.register_error_handler(ConflictError, conflict_response)
