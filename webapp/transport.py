"""HTTPS: Secure session cookies and Strict-Transport-Security when served over HTTPS, and the
reverse proxy in front of the app.

* `CERTFLOW_SECURE_COOKIES=1` marks the session cookie `Secure` always (webapp/security.py).
  Without it, the cookie is `Secure` on every response to an HTTPS request anyway.
* HTTPS responses carry `Strict-Transport-Security: max-age=31536000` (one year, this host only:
  no includeSubDomains, other hosts of the domain are not ours to decide).
* `CERTFLOW_TRUST_PROXY=N` (default 0): the app runs behind N reverse proxies; werkzeug's
  ProxyFix then takes the client address, scheme, host and port from the last N
  `X-Forwarded-For/-Proto/-Host/-Port` headers. The client address matters for the sign-in and
  complaint throttles (per address), the scheme for Secure cookies and HSTS. Leave it 0 when
  clients reach the app directly: the headers could then be forged by anyone.
"""

from flask import Flask, Response, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

HSTS = "max-age=31536000"


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, `Secure` on HTTPS requests even when not configured."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def _strict_transport_security(response: Response) -> Response:
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def trusted_proxies(value: object) -> int:
    """The CERTFLOW_TRUST_PROXY setting as a count of proxies (0–10); ValueError otherwise."""
    text = str(value if value is not None else 0).strip()
    if not text.isdigit() or int(text) > 10:
        raise ValueError(f"CERTFLOW_TRUST_PROXY must be a number of proxies 0–10, not {text!r}")
    return int(text)


def init_transport(app: Flask) -> None:
    app.session_interface = SessionInterface()
    app.after_request(_strict_transport_security)
    proxies = trusted_proxies(app.config.get("CERTFLOW_TRUST_PROXY", 0))
    if proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies
        )
