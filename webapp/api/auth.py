"""Bearer-token authentication of the JSON API, and the API's own error type.

The API never looks at cookies or the session: the token in `Authorization: Bearer <token>` is the
only credential, which is why CSRF protection does not apply to it.
"""

from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, g, request

from certflow.accounts import user_for_token
from certflow.db import db
from certflow.models import User
from engine.service import Actor

F = TypeVar("F", bound=Callable[..., Any])

_CHALLENGE = 'Bearer realm="certflow"'


class ApiError(Exception):
    """An error answered as `{"error": kind, "message": ..., ["errors": {...}]}`."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.headers = headers or {}


def public(view: F) -> F:
    """Mark a view as reachable without a token."""
    view.api_public = True  # type: ignore[attr-defined]
    return view


def _bearer_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def authenticate() -> None:
    """`before_request` of the API blueprint: every view needs a valid token unless public."""
    g.pop("api_viewer", None)  # serialize.viewer() builds it once per request from the user
    view = current_app.view_functions.get(request.endpoint or "")
    if view is not None and getattr(view, "api_public", False):
        return
    if not request.headers.get("Authorization"):
        raise ApiError(
            401,
            "authentication required: send 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": _CHALLENGE},
        )
    token = _bearer_token()
    user = user_for_token(db.session, token) if token else None
    if user is None:
        raise ApiError(
            401,
            "the bearer token is invalid or revoked",
            headers={"WWW-Authenticate": f'{_CHALLENGE}, error="invalid_token"'},
        )
    g.api_user = user
    g.api_actor = Actor(user.username, frozenset(user.roles))


def current_actor() -> Actor:
    """The acting user of this request as an engine Actor (set by `authenticate`)."""
    return g.api_actor


def current_user() -> User:
    return g.api_user
