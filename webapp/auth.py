"""Signing in and out of the web pages (Flask-Login), the access log, and refusing access.

* Passwords are hashed (werkzeug, see certflow.models.User); a failed sign-in says nothing about
  whether the user exists.
* Every sign-in, failed sign-in, throttled attempt, sign-out and refused access is a row of
  `access_log` (AccessLog), written with the wall-clock time: it is a security record, so it does
  not follow the simulated business clock.
* Throttling: after LOGIN_MAX_FAILURES failed attempts within LOGIN_WINDOW for one username or
  from one address, further attempts get 429 until the window has passed.
* The session remembers the user id together with a fingerprint of the password hash, so
  changing a password (or deactivating the account) ends every other session.
"""

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import (
    Blueprint,
    Flask,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from sqlalchemy import func, select

from certflow.db import db
from certflow.models import User
from webapp.access import Viewer
from webapp.i18n import safe_next
from webapp.models import AccessLog

F = TypeVar("F", bound=Callable[..., Any])

LOGIN_MAX_FAILURES = 10
LOGIN_WINDOW = timedelta(minutes=15)
# Checked against for unknown usernames, so a wrong name costs as much time as a wrong password.
_DUMMY_HASH = "scrypt:32768:8:1$certflow$" + "0" * 128

bp = Blueprint("auth", __name__)
login_manager = LoginManager()


def wall_clock() -> datetime:
    """The real time (security records and throttling never use the simulated clock)."""
    return datetime.now(UTC)


class WebUser:
    """The signed-in account as Flask-Login sees it; other attributes come from the User row."""

    def __init__(self, user: User) -> None:
        self.user = user

    def __getattr__(self, name: str) -> Any:
        return getattr(self.user, name)

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return bool(self.user.active)

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.user.id}.{_fingerprint(self.user)}"

    @property
    def viewer(self) -> Viewer:
        return Viewer.of(self.user)


def _fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


@login_manager.user_loader
def _load_user(session_id: str) -> WebUser | None:
    user_id, _sep, fingerprint = session_id.partition(".")
    if not user_id.isdigit() or int(user_id) >= 2**31:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or _fingerprint(user) != fingerprint:
        return None
    return WebUser(user)


def current_viewer() -> Viewer:
    return current_user.viewer


def remote_addr() -> str:
    return (request.remote_addr or "")[:64]


def log_access(
    event: str,
    *,
    username: str | None = None,
    status: int | None = None,
    detail: str = "",
    data: dict | None = None,
) -> None:
    """Write one access-log row in its own transaction."""
    if username is None and getattr(current_user, "is_authenticated", False):
        username = current_user.username
    db.session.rollback()  # never commit half of a failed operation along with the log row
    db.session.add(
        AccessLog(
            at=wall_clock(),
            username=(username or None) and username[:80],
            event=event,
            method=request.method[:10],
            path=request.full_path.rstrip("?")[:500],
            status=status,
            detail=detail[:2000],
            remote_addr=remote_addr(),
            data=data or {},
        )
    )
    db.session.commit()


def deny(status: int = 404, detail: str = ""):
    """Refuse access: write the attempt to the access log and answer 404 (or 403)."""
    log_access("denied", status=status, detail=detail)
    if status == 404:
        title, message = _("Not found"), _("This page does not exist or is not available to you.")
    else:
        title, message = _("Not allowed"), _("You may not do this.")
    return render_template("message.html", title=title, message=message), status


def roles_required(*roles: str) -> Callable[[F], F]:
    """Only signed-in users holding one of `roles`; others are refused (and logged)."""

    def decorate(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_viewer().roles & set(roles):
                return deny(403, f"needs one of the roles {sorted(roles)}")
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


# -- throttling -----------------------------------------------------------------------------------
def _failures_by(username: str, address: str) -> tuple[int, int]:
    since = wall_clock() - LOGIN_WINDOW
    base = select(func.count(AccessLog.id)).where(
        AccessLog.event == "login_failed", AccessLog.at >= since
    )
    by_name = db.session.scalar(base.where(AccessLog.username == username[:80])) or 0
    by_address = db.session.scalar(base.where(AccessLog.remote_addr == address)) or 0
    return by_name, by_address


def throttled(username: str) -> bool:
    by_name, by_address = _failures_by(username, remote_addr())
    return max(by_name, by_address) >= LOGIN_MAX_FAILURES


# -- views ----------------------------------------------------------------------------------------
@bp.route("/login", methods=["GET", "POST"])
def login():
    target = safe_next(request.values.get("next"), url_for("inbox.index"))
    if current_user.is_authenticated:
        return redirect(target)
    if request.method == "GET":
        return render_template("login.html", next=target, username="")
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    if "\x00" in username or "\x00" in password or len(username) > 80:
        username = username.replace("\x00", "")[:80]
        password = ""
    if throttled(username):
        log_access("login_throttled", username=username or None, status=429)
        error = _("Too many failed sign-ins. Please wait 15 minutes and try again.")
        return render_template("login.html", next=target, username=username, error=error), 429
    user = (
        db.session.scalars(select(User).where(User.username == username)).first()
        if username
        else None
    )
    ok = user.check_password(password) if user is not None else _check_dummy(password)
    if not ok or user is None or not user.active or not password:
        log_access("login_failed", username=username or None, status=401)
        error = _("Wrong username or password.")
        return render_template("login.html", next=target, username=username, error=error), 401
    language = session.get("lang")
    session.clear()  # a fresh session for the signed-in user (no fixation)
    if language:
        session["lang"] = language
    login_user(WebUser(user))
    log_access("login", username=user.username, status=302)
    return redirect(target)


def _check_dummy(password: str) -> bool:
    from werkzeug.security import check_password_hash

    check_password_hash(_DUMMY_HASH, password)
    return False


@bp.post("/logout")
@login_required
def logout():
    username = current_user.username
    logout_user()
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    log_access("logout", username=username, status=302)
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


def init_auth(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = lazy_gettext("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.localize_callback = str  # translate when flashed, in the user's language
    login_manager.session_protection = "basic"
    app.register_blueprint(bp)
