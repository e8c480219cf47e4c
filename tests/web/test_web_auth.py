"""Signing in and out, throttling, CSRF, security headers and cookie flags of the web pages."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from certflow.db import db
from certflow.models import User
from tests.conftest import make_app
from tests.web_support import PASSWORD, Browser, text, web_fixture  # noqa: F401
from webapp import auth
from webapp.models import AccessLog


def access_log(app) -> list[tuple]:
    with app.app_context():
        return [
            (row.event, row.username, row.status, row.path)
            for row in db.session.scalars(select(AccessLog).order_by(AccessLog.id))
        ]


def test_anonymous_users_are_sent_to_the_login_page(web):
    browser = web.browser()
    response = browser.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    page = browser.get("/login")
    assert page.status_code == 200
    assert "登录" in text(page)  # Chinese by default
    assert "请先登录后查看此页面" in text(page)
    assert 'name="csrf_token"' in text(page)


def test_login_ok_lands_on_the_requested_page_and_is_logged(web):
    browser = web.browser()
    browser.get("/login")
    response = browser.post(
        "/login", {"username": "mia", "password": PASSWORD, "next": "/?tab=groups"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/?tab=groups"
    inbox = browser.get("/?tab=groups")
    assert inbox.status_code == 200
    assert "Mia 测试" in text(inbox)
    assert access_log(web.app)[-1][:3] == ("login", "mia", 302)


def test_login_never_redirects_to_another_site(web):
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"):
        browser = web.browser()
        browser.get("/login")
        response = browser.post("/login", {"username": "mia", "password": PASSWORD, "next": target})
        assert response.headers["Location"] == "/", target


def test_wrong_password_or_unknown_user_fails_alike_and_is_logged(web):
    browser = web.browser()
    wrong = browser.post("/login", {"username": "mia", "password": "nope"})
    unknown = browser.post("/login", {"username": "nobody", "password": "nope"})
    empty = browser.post("/login", {"username": "mia", "password": ""})
    for response in (wrong, unknown, empty):
        assert response.status_code == 401
        assert "用户名或密码错误" in text(response)
    assert [row[:3] for row in access_log(web.app)] == [
        ("login_failed", "mia", 401),
        ("login_failed", "nobody", 401),
        ("login_failed", "mia", 401),
    ]
    assert browser.get("/").status_code == 302  # still signed out


def test_inactive_users_cannot_sign_in_and_are_signed_out(web):
    browser = web.browser("mia")
    assert browser.get("/").status_code == 200
    with web.app.app_context():
        db.session.scalars(select(User).where(User.username == "mia")).one().active = False
        db.session.commit()
    assert browser.get("/").status_code == 302
    assert web.browser().login("mia").status_code == 401


def test_a_password_change_ends_other_sessions(web):
    browser = web.browser("mia")
    with web.app.app_context():
        db.session.scalars(select(User).where(User.username == "mia")).one().set_password("new")
        db.session.commit()
    assert browser.get("/").status_code == 302


def test_logout_needs_post_and_ends_the_session(web):
    browser = web.browser("mia")
    assert browser.get("/logout").status_code == 405
    response = browser.post("/logout")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert browser.get("/").status_code == 302
    assert access_log(web.app)[-1][:3] == ("logout", "mia", 302)


def test_login_failures_are_limited_per_account_and_address_separately(web, monkeypatch):
    """Issue 9 item 8: guessing one account locks neither other accounts from the same address
    nor the account's owner elsewhere; the address has its own, higher limit."""
    browser = web.browser()
    for _ in range(auth.LOGIN_MAX_FAILURES):
        assert browser.post("/login", {"username": "mia", "password": "x"}).status_code == 401
    blocked = browser.post("/login", {"username": "mia", "password": PASSWORD})
    assert blocked.status_code == 429
    assert "15" in text(blocked)
    assert 0 < int(blocked.headers["Retry-After"]) <= 15 * 60
    # The same address may still sign in to another account …
    assert web.browser().login("max").status_code == 302
    # … and the owner of the attacked account signs in from elsewhere.
    owner = Browser(web.app)
    owner.client.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    assert owner.login("mia").status_code == 302
    # Guessing across accounts from one address meets the address limit.
    monkeypatch.setattr(auth, "LOGIN_MAX_FAILURES_PER_ADDRESS", auth.LOGIN_MAX_FAILURES + 2)
    for name in ("hank", "carl"):
        assert browser.post("/login", {"username": name, "password": "x"}).status_code == 401
    assert browser.post("/login", {"username": "cora", "password": "x"}).status_code == 429
    assert web.browser().login("max").status_code == 429
    events = [row[0] for row in access_log(web.app)]
    assert events.count("login_failed") == auth.LOGIN_MAX_FAILURES + 2
    assert events.count("login_throttled") == 3
    # After the window, signing in works again.
    later = auth.wall_clock() + auth.LOGIN_WINDOW + timedelta(seconds=1)
    monkeypatch.setattr(auth, "wall_clock", lambda: later)
    assert web.browser().login("mia").status_code == 302


def test_every_post_needs_the_csrf_token(web):
    browser = web.browser("mia")
    iid = web.start("APP-1")
    task_id = web.open_task(iid)
    for url in (
        "/login",
        "/logout",
        f"/tasks/{task_id}",
        f"/tasks/{task_id}/claim",
        f"/tasks/{task_id}/unclaim",
        f"/tasks/{task_id}/reassign",
        f"/tasks/{task_id}/comments",
        f"/tasks/{task_id}/follow-up",
    ):
        for token in (None, "forged"):
            data = {"csrf_token": token} if token else {}
            response = browser.post(url, data, csrf=False)
            assert response.status_code == 400, url
            assert "表单已过期" in text(response)
    assert web.task(task_id).assignee is None
    assert browser.post(f"/tasks/{task_id}/claim").status_code == 302  # with the token
    assert web.task(task_id).assignee == "mia"


def test_the_api_takes_no_csrf_token(web):
    response = web.app.test_client().post("/api/v1/instances", json={})
    assert response.status_code == 401  # the bearer token decides, not CSRF


def test_security_headers_on_every_response(web):
    browser = web.browser()
    responses = [
        browser.get("/login"),
        browser.get("/"),
        browser.get("/static/css/app.css"),
        browser.get("/no-such-page"),
        web.app.test_client().get("/api/v1/openapi.json"),
    ]
    signed_in = web.browser("mia")
    responses.append(signed_in.get("/"))
    for response in responses:
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "same-origin"
    assert responses[-1].headers["Cache-Control"] == "no-store"


def test_pages_have_no_inline_scripts_or_styles(web):
    browser = web.browser("mia")
    iid = web.start("APP-1")
    for url in ("/", f"/tasks/{web.open_task(iid)}", "/login"):
        body = text(browser.get(url))
        assert "<script>" not in body and "<script type" not in body
        assert " style=" not in body and "<style" not in body
        assert " on" + "click=" not in body


def test_session_cookie_flags(web):
    browser = web.browser()
    browser.get("/login")
    response = browser.post("/login", {"username": "mia", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_secure_cookies_when_configured(migrated_url, tmp_path, monkeypatch):
    monkeypatch.setenv("CERTFLOW_SECURE_COOKIES", "1")
    app = make_app(migrated_url, tmp_path / "instance")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("lang,word", [("en", "Sign in"), ("zh_CN", "登录")])
def test_language_from_the_query_is_remembered(web, lang, word):
    browser = web.browser()
    assert word in text(browser.get(f"/login?lang={lang}"))
    assert word in text(browser.get("/login"))


def test_language_switch_link(web):
    browser = web.browser("mia")
    assert "我的任务" in text(browser.get("/"))
    response = browser.get("/lang/en?next=/%3Ftab%3Dgroups%26lang%3Dzh_CN")
    assert response.status_code == 302
    assert response.headers["Location"] == "/?tab=groups"
    assert "My tasks" in text(browser.get("/"))
    assert browser.get("/lang/xx?next=https://evil.example").headers["Location"] == "/"
    assert "My tasks" in text(browser.get("/"))  # unknown languages change nothing
