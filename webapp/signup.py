"""Public sign-up of a client organisation's users (issue 10, R-11): `GET/POST /signup`.

* No sign-in; CSRF-protected like every form. At most SIGNUP_RATE_LIMIT (5) sign-ups per address
  within SIGNUP_RATE_WINDOW (1 hour), counted atomically before anything is written
  (webapp/throttle.py, shared by all app processes); an invalid submission gives its place back.
* Invalid input → 422 with the field errors worded by the rule, every value kept except the
  passwords. Success → the user is signed in and redirected (POST/redirect/GET) to the client
  home (webapp/client_home.py).
* The rules are in domain/client_signup.py: a new unified social credit code creates the
  organisation and its first (active) client user; a known code creates a user without any
  organisation and a link request that the market role decides (webapp/link_requests.py) —
  never an automatic link. Both are written to the access log.
"""

from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user
from sqlalchemy.exc import IntegrityError

from certflow.db import db
from domain.client_signup import (
    FIELDS,
    MAX_LENGTHS,
    PASSWORD_MIN_LENGTH,
    SignupForm,
    register_signup,
    validate_signup,
)
from webapp import throttle
from webapp.auth import WebUser, log_access, remote_addr, start_web_session, wall_clock
from webapp.runtime import get_clock

bp = Blueprint("signup", __name__)

SIGNUP_RATE_LIMIT = 5
SIGNUP_RATE_WINDOW = timedelta(hours=1)
PASSWORD_FIELDS = ("password", "password2")


def _rate_bucket() -> str:
    return throttle.bucket("signup-addr", remote_addr())


def error_message(code: str, field: str) -> str:
    messages = {
        "required": _("This field is required."),
        "uscc_invalid": _(
            "This is not a valid unified social credit code: 18 characters, upper case, "
            "and the last one is a check character. Please compare it with the business licence."
        ),
        "contact_required": _("Give an e-mail address or a phone number (or both)."),
        "email_invalid": _("This is not an e-mail address."),
        "phone_invalid": _("This is not a phone number."),
        "username_invalid": _(
            "3 to 80 characters: letters, digits and . _ @ - (starting with a letter or digit)."
        ),
        "username_taken": _("This username is taken. Please choose another."),
        "password_short": _("The password needs at least %(n)d characters.", n=PASSWORD_MIN_LENGTH),
        "password_weak": _("The password needs letters and digits."),
        "password_username": _("The password must not contain the username."),
        "password_mismatch": _("The two passwords differ."),
    }
    if code == "too_long":
        return _(
            "Please shorten this text to at most %(limit)d characters.",
            limit=MAX_LENGTHS.get(field, 0),
        )
    return messages.get(code, _("This value is not accepted."))


def _form_from_request() -> SignupForm:
    values = {name: request.form.get(name, "").replace("\x00", "")[:1000] for name in FIELDS}
    return SignupForm(**values)


def _page(form: SignupForm | None, errors: dict[str, list[str]], status: int = 200):
    values = {name: "" for name in FIELDS}
    if form is not None:
        values.update({name: getattr(form, name) for name in FIELDS})
    for name in PASSWORD_FIELDS:  # never sent back to the browser
        values[name] = ""
    messages = {
        field: [error_message(code, field) for code in codes] for field, codes in errors.items()
    }
    page = render_template(
        "signup.html",
        values=values,
        errors=messages,
        max_lengths=MAX_LENGTHS,
        password_min=PASSWORD_MIN_LENGTH,
    )
    return page, status


def _sign_in(user) -> None:
    language = session.get("lang")
    session.clear()  # a fresh session for the new user (no fixation)
    if language:
        session["lang"] = language
    login_user(WebUser(user, start_web_session(user)))


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    if current_user.is_authenticated:  # already has an account: to its start page
        client = current_user.viewer.roles == {"client"}
        return redirect(url_for("client_home.home" if client else "inbox.index"))
    if request.method == "GET":
        return _page(None, {})
    slot = throttle.take(_rate_bucket(), SIGNUP_RATE_LIMIT, SIGNUP_RATE_WINDOW, wall_clock())
    if not slot.allowed:
        throttle.give_back(_rate_bucket())  # refused attempts do not count
        log_access("signup_throttled", status=429)
        page = render_template(
            "message.html",
            title=_("Too many sign-ups"),
            message=_("Too many sign-ups came from your network. Please try again later."),
        )
        return page, 429, {"Retry-After": str(slot.retry_after)}
    form = _form_from_request()
    result, errors = _register(form)
    if errors:
        throttle.give_back(_rate_bucket())
        return _page(form, errors, 422)
    user, request_row = result
    event = "signup_link_requested" if request_row is not None else "signup"
    log_access(event, username=user.username, status=302, data={"uscc": form.uscc.strip()})
    _sign_in(user)
    if request_row is not None:
        flash(
            _(
                "Your account was created. The organisation already has users: the "
                "certification body will confirm that you belong to it."
            ),
            "info",
        )
    else:
        flash(_("Welcome! Your organisation and your account were created."), "success")
    return redirect(url_for("client_home.home"))


def _register(form: SignupForm):
    """(user, link request or None), {} — or None, field error codes. A concurrent sign-up with
    the same username or code (unique columns) is validated again: the second becomes a link
    request or gets the field error."""
    for _attempt in range(2):
        errors = validate_signup(db.session, form)
        if errors:
            db.session.rollback()
            return None, errors
        try:
            result = register_signup(db.session, form, get_clock().now())
            db.session.commit()
            return (result.user, result.link_request), {}
        except IntegrityError:
            db.session.rollback()
    return None, {"username": ["username_taken"]}
