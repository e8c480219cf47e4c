"""Signing in and out of the web pages (Flask-Login), the access log, and refusing access.

* Passwords are hashed (werkzeug, see certflow.models.User); a failed sign-in says nothing about
  whether the user exists.
* Every sign-in, failed sign-in, throttled attempt, sign-out and refused access is a row of
  `access_log` (AccessLog), written with the wall-clock time: it is a security record, so it does
  not follow the simulated business clock.
* Throttling (webapp/throttle.py, counters in the database so that all app processes share them):
  failed sign-ins are limited per (account, address) pair — LOGIN_MAX_FAILURES (10) within
  LOGIN_WINDOW (15 min) — and per address over all accounts — LOGIN_MAX_FAILURES_PER_ADDRESS
  (50), for guessing across many accounts. Each attempt is counted before the password is
  checked, in one atomic step, so concurrent attempts cannot slip past the limit; a correct
  password gives its count back and clears the pair. Policy: guessing account U from an address
  blocks only U from that address (and, past the higher limit, that address): the same address
  can still sign in to account V, and nobody elsewhere can lock U's owner out. A per-account lock
  over all addresses is deliberately absent — it would let anyone who knows a username lock its
  owner out; distributed guessing stays bounded per address and visible in the access log.
* Sessions are server side too (`web_session`): the cookie carries a random session id whose
  hash is a row; sign-out ends the row, so a copy of the cookie taken before stops working. The
  id also carries a fingerprint of the password hash, so changing a password (or deactivating the
  account) ends every other session.
"""

import hashlib
import secrets
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
from sqlalchemy import delete, select, update

from certflow.db import db
from certflow.models import User
from webapp import throttle
from webapp.access import Viewer
from webapp.i18n import safe_next
from webapp.models import AccessLog, WebSession

F = TypeVar("F", bound=Callable[..., Any])

LOGIN_MAX_FAILURES = 10  # per (account, address)
LOGIN_MAX_FAILURES_PER_ADDRESS = 50  # per address over all accounts
LOGIN_WINDOW = timedelta(minutes=15)
ENDED_SESSIONS_KEPT = timedelta(days=1)
# Checked against for unknown usernames, so a wrong name costs as much time as a wrong password.
_DUMMY_HASH = "scrypt:32768:8:1$certflow$" + "0" * 128

bp = Blueprint("auth", __name__)
login_manager = LoginManager()


def wall_clock() -> datetime:
    """The real time (security records and throttling never use the simulated clock)."""
    return datetime.now(UTC)


class WebUser:
    """The signed-in account as Flask-Login sees it; other attributes come from the User row."""

    def __init__(self, user: User, session_id: str) -> None:
        self.user = user
        self.session_id = session_id  # the random id of the server-side session (web_session)

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
        return f"{self.user.id}.{_fingerprint(self.user)}.{self.session_id}"

    @property
    def viewer(self) -> Viewer:
        return Viewer.of(self.user)


def _fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def _session_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def start_web_session(user: User) -> str:
    """A new server-side session for `user` (committed); returns its random id."""
    session_id = secrets.token_urlsafe(32)
    user_id = user.id
    db.session.rollback()  # the insert opens the transaction (SQLite waits for its lock)
    now = wall_clock()
    db.session.execute(  # ended sessions are kept a day (for the record), then dropped
        delete(WebSession).where(WebSession.ended_at < now - ENDED_SESSIONS_KEPT)
    )
    db.session.add(WebSession(id_hash=_session_hash(session_id), user_id=user_id, created_at=now))
    db.session.commit()
    return session_id


def end_web_session(session_id: str) -> None:
    db.session.rollback()  # the update opens the transaction (SQLite waits for its lock)
    db.session.execute(
        update(WebSession)
        .where(WebSession.id_hash == _session_hash(session_id), WebSession.ended_at.is_(None))
        .values(ended_at=wall_clock())
    )
    db.session.commit()


@login_manager.user_loader
def _load_user(login_id: str) -> WebUser | None:
    user_id, fingerprint, session_id = (login_id.split(".", 2) + ["", ""])[:3]
    if not user_id.isdigit() or int(user_id) >= 2**31 or not session_id:
        return None
    # The user and its web session in one round trip (every page pays it; issue 16).
    found = db.session.execute(
        select(User, WebSession)
        .join(WebSession, WebSession.user_id == User.id)
        .where(User.id == int(user_id), WebSession.id_hash == _session_hash(session_id))
    ).first()
    if found is None:
        return None  # no such user, or a session never issued to it
    user, row = found
    if not user.active or _fingerprint(user) != fingerprint:
        return None
    if row.ended_at is not None:
        return None  # signed out: a saved copy of the cookie is worthless
    return WebUser(user, session_id)


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


# -- throttling (see the module docstring for the policy) ----------------------------------------
def _buckets(username: str) -> tuple[str, str]:
    address = remote_addr()
    return throttle.bucket("login-pair", username, address), throttle.bucket("login-addr", address)


def take_attempt(username: str) -> int | None:
    """Count this sign-in attempt as a failure in advance (atomically); None when it may be
    evaluated, else the seconds until it may be tried again."""
    pair, address = _buckets(username)
    now = wall_clock()
    taken = throttle.take(pair, LOGIN_MAX_FAILURES, LOGIN_WINDOW, now)
    if not taken.allowed:
        throttle.give_back(pair)  # not evaluated: not a failure
        return taken.retry_after
    by_address = throttle.take(address, LOGIN_MAX_FAILURES_PER_ADDRESS, LOGIN_WINDOW, now)
    if not by_address.allowed:
        throttle.give_back(address)
        throttle.give_back(pair)
        return by_address.retry_after
    return None


def attempt_succeeded(username: str) -> None:
    """A correct password: the attempt was no failure; the pair starts afresh."""
    pair, address = _buckets(username)
    throttle.reset(pair)
    throttle.give_back(address)


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
    retry_after = take_attempt(username)
    if retry_after is not None:
        log_access("login_throttled", username=username or None, status=429)
        error = _("Too many failed sign-ins. Please wait 15 minutes and try again.")
        page = render_template("login.html", next=target, username=username, error=error)
        return page, 429, {"Retry-After": str(retry_after)}
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
    attempt_succeeded(username)
    language = session.get("lang")
    session.clear()  # a fresh session for the signed-in user (no fixation)
    if language:
        session["lang"] = language
    login_user(WebUser(user, start_web_session(user)))
    log_access("login", username=user.username, status=302)
    if target == url_for("inbox.index") and user.roles == {"client"}:
        target = url_for("client_home.home")  # a client lands on its home (issue 10)
    return redirect(target)


def _check_dummy(password: str) -> bool:
    from werkzeug.security import check_password_hash

    check_password_hash(_DUMMY_HASH, password)
    return False


@bp.post("/logout")
@login_required
def logout():
    username = current_user.username
    end_web_session(current_user.session_id)
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
