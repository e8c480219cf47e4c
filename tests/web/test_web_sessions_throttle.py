"""Issue 9 items 8 and 9: sign-in failures counted exactly under concurrency (real threads),
sessions that end server side at sign-out, Secure cookies and HSTS over HTTPS (also behind a
trusted reverse proxy)."""

import threading

from sqlalchemy import func, select

from certflow.db import db
from tests.conftest import make_app
from tests.helpers import run_in_threads
from tests.web_support import web_fixture  # noqa: F401
from webapp import auth
from webapp.models import AccessLog, WebSession

ATTEMPTS = 40


def count_events(app, event: str) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(AccessLog.id)).where(AccessLog.event == event))


def test_concurrent_wrong_passwords_are_counted_exactly(web):
    app = web.app
    app.config["WTF_CSRF_ENABLED"] = False  # the form token is tested elsewhere
    start = threading.Barrier(ATTEMPTS, timeout=30)

    def guess():
        client = app.test_client()
        start.wait()
        return client.post("/login", data={"username": "mia", "password": "wrong"}).status_code

    results = run_in_threads(app, *([guess] * ATTEMPTS))

    statuses = sorted(value for _, value in results)
    assert all(kind == "ok" for kind, _ in results), [v for k, v in results if k != "ok"]
    assert statuses == [401] * auth.LOGIN_MAX_FAILURES + [429] * (
        ATTEMPTS - auth.LOGIN_MAX_FAILURES
    )
    assert count_events(app, "login_failed") == auth.LOGIN_MAX_FAILURES  # evaluated: the limit
    assert count_events(app, "login_throttled") == ATTEMPTS - auth.LOGIN_MAX_FAILURES
    # The attacked account is closed to this address, another account is not.
    assert web.browser().login("mia").status_code == 429
    assert web.browser().login("max").status_code == 302


def test_a_saved_session_cookie_no_longer_works_after_logout(web):
    browser = web.browser("mia")
    saved = browser.client.get_cookie("session").value
    elsewhere = web.browser("mia")  # a second session of the same user
    assert browser.post("/logout").status_code == 302

    replay = web.app.test_client()
    replay.set_cookie("session", saved)
    response = replay.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    # Only the signed-out session ended.
    assert elsewhere.get("/").status_code == 200
    with web.app.app_context():
        ended = db.session.scalars(select(WebSession.ended_at).order_by(WebSession.created_at))
        assert [value is not None for value in ended] == [True, False]


def test_session_cookie_is_secure_with_hsts_over_https_only(web):
    client = web.app.test_client()
    plain = client.get("/login")
    assert "Secure" not in plain.headers["Set-Cookie"]
    assert "Strict-Transport-Security" not in plain.headers
    secure_client = web.app.test_client()
    https = secure_client.get("/login", base_url="https://certflow.example")
    assert "; Secure" in https.headers["Set-Cookie"]
    assert https.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_behind_a_trusted_proxy_the_forwarded_scheme_and_address_count(web, migrated_url, tmp_path):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    # Not trusted (default): the headers are ignored — anyone could send them.
    untrusted = web.app.test_client().get("/login", headers=forwarded)
    assert "Secure" not in untrusted.headers["Set-Cookie"]
    assert "Strict-Transport-Security" not in untrusted.headers

    # (The test client keeps Secure cookies to itself over http: no CSRF token round trip here.)
    app = make_app(
        migrated_url, tmp_path / "proxied", CERTFLOW_TRUST_PROXY="1", WTF_CSRF_ENABLED=False
    )
    client = app.test_client()
    page = client.get("/login", headers=forwarded)
    assert "; Secure" in page.headers["Set-Cookie"]
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000"
    data = {"username": "mia", "password": "wrong"}
    assert client.post("/login", data=data, headers=forwarded).status_code == 401
    with app.app_context():
        row = db.session.scalars(select(AccessLog).order_by(AccessLog.id.desc())).first()
        assert (row.event, row.remote_addr) == ("login_failed", "203.0.113.7")
        db.session.remove()
        db.engine.dispose()
