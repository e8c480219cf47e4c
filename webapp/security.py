"""CSRF protection, security headers and cookie flags for every response.

* CSRF (Flask-WTF CSRFProtect) on every POST of the web pages; the JSON API (`api` blueprint)
  is exempt: it authenticates with bearer tokens only, never with the session cookie.
* Content-Security-Policy without inline scripts or styles (`default-src 'self'`): scripts and
  styles come from webapp/static only. A page that needs more (e.g. the diagram viewer) can add
  sources for its own response with `extend_csp(...)` — never `'unsafe-inline'` for scripts.
* X-Content-Type-Options, X-Frame-Options, Referrer-Policy; pages for signed-in users are not
  cached.
* Request size: MAX_CONTENT_LENGTH (CERTFLOW_MAX_REQUEST_MB, certflow/config.py) is always set;
  a larger body gets 413 (this friendly page; JSON under /api/v1) without being read.
* Session cookie: HttpOnly, SameSite=Lax, and Secure when CERTFLOW_SECURE_COOKIES=1 (and on
  every HTTPS response, with HSTS: webapp/transport.py).
"""

import os

from flask import Flask, Response, g, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError, CSRFProtect

from certflow.config import DEFAULT_MAX_REQUEST_MB

csrf = CSRFProtect()

CSP: dict[str, list[str]] = {
    "default-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
MAX_UPLOAD_BYTES = DEFAULT_MAX_REQUEST_MB * 1024 * 1024


def extend_csp(directive: str, *sources: str) -> None:
    """Allow more sources for one directive in the current response only."""
    extra: dict[str, list[str]] = g.setdefault("csp_extra", {})
    extra.setdefault(directive, []).extend(sources)


def content_security_policy() -> str:
    policy = {key: list(values) for key, values in CSP.items()}
    for directive, sources in g.get("csp_extra", {}).items():
        policy.setdefault(directive, list(CSP["default-src"])).extend(sources)
    return "; ".join(f"{key} {' '.join(values)}" for key, values in policy.items())


def _set_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy())
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    if (
        request.endpoint != "static"
        and getattr(current_user, "is_authenticated", False)
        and "Cache-Control" not in headers
    ):
        headers["Cache-Control"] = "no-store"
    return response


def _csrf_failed(err: CSRFError):
    return (
        render_template(
            "message.html",
            title=_("The form has expired"),
            message=_("Please go back, reload the page and try again."),
        ),
        400,
    )


def _too_large(err):
    return (
        render_template(
            "message.html",
            title=_("Upload too large"),
            message=_("The files together are too large."),
        ),
        413,
    )


def init_security(app: Flask) -> None:
    # Flask has defaults for these keys (SameSite None, Secure False): set unless configured.
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    if app.config.get("SESSION_COOKIE_SAMESITE") is None:
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    secure = os.environ.get("CERTFLOW_SECURE_COOKIES", "0") == "1"
    if secure:
        app.config["SESSION_COOKIE_SECURE"] = True
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    app.config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("REMEMBER_COOKIE_SECURE", secure)
    # Flask defines MAX_CONTENT_LENGTH as None (no limit), so setdefault would keep None.
    if not app.config.get("MAX_CONTENT_LENGTH"):
        app.config["MAX_CONTENT_LENGTH"] = MAX_UPLOAD_BYTES
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 8 * 3600)  # a long form may take a while
    csrf.init_app(app)
    app.after_request(_set_headers)
    app.register_error_handler(CSRFError, _csrf_failed)
    app.register_error_handler(413, _too_large)


def exempt_api(blueprint) -> None:
    """The token-authenticated JSON API takes no CSRF token (it ignores cookies)."""
    csrf.exempt(blueprint)
