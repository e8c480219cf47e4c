"""User management for administrators (`/admin/users`): create, edit, reset passwords, every
change in the access log; nobody else gets in."""

import re

from sqlalchemy import select

from certflow.db import db
from certflow.models import User
from tests.web_support import PASSWORD, Browser, Web, text, web_fixture  # noqa: F401
from webapp.models import AccessLog

NEW_PASSWORD = "another-long-secret"


def user(web: Web, username: str) -> User:
    with web.app.app_context():
        row = db.session.scalars(select(User).where(User.username == username)).one()
        db.session.expunge(row)
        return row


def changes(web: Web) -> list[tuple]:
    with web.app.app_context():
        return [
            (row.event, row.username, row.data)
            for row in db.session.scalars(
                select(AccessLog)
                .where(AccessLog.event.in_(("user_created", "user_updated", "password_reset")))
                .order_by(AccessLog.id)
            )
        ]


def denied(web: Web) -> list[tuple]:
    with web.app.app_context():
        return [
            (row.username, row.status, row.path)
            for row in db.session.scalars(
                select(AccessLog).where(AccessLog.event == "denied").order_by(AccessLog.id)
            )
        ]


def new_user_form(**changes) -> dict:
    form = {
        "username": "nina",
        "display_name": "倪娜 Nina",
        "roles": ["client"],
        "organisation_id": "",
        "password": NEW_PASSWORD,
        "password_confirm": NEW_PASSWORD,
    }
    form.update(changes)
    return form


def test_only_admins_manage_users(web):
    hank_id = user(web, "hank").id
    for username in ("quinn", "olga", "mia", "carl"):
        browser = web.browser(username)
        for method, url in (
            ("GET", "/admin/users"),
            ("GET", "/admin/users/new"),
            ("POST", "/admin/users/new"),
            ("GET", f"/admin/users/{hank_id}"),
            ("POST", f"/admin/users/{hank_id}"),
            ("POST", f"/admin/users/{hank_id}/password"),
        ):
            if method == "GET":
                response = browser.get(url)
            else:
                response = browser.post(url, {"password": "x" * 12, "password_confirm": "x" * 12})
            assert response.status_code == 403, (username, url)
            assert denied(web)[-1] == (username, 403, url)
    assert changes(web) == []
    assert Browser(web.app).login("hank").status_code == 302  # password unchanged


def test_the_list_searches_and_filters(web):
    ada = web.browser("ada")

    def names(**query) -> list[str]:
        page = text(ada.get("/admin/users", query_string=query))
        return re.findall(r'data-username="([^"]+)"', page)

    assert names() == sorted(
        ["ada", "asa", "quinn", "olga", "mia", "max", "hank", "carl", "cleo", "cora"]
    )
    assert names(role="client") == ["carl", "cleo", "cora"]
    assert names(role="market") == ["max", "mia"]
    assert names(q="Mia") == ["mia"]
    assert names(q="%") == []
    assert names(role="nonsense") == names()
    assert names(state="inactive") == []
    page = text(ada.get("/admin/users"))
    assert "甲公司 Alpha Ltd" in page and "客户" in page  # organisation and role names


def test_create_a_user_with_field_errors_first(web):
    ada = web.browser("ada")
    org_a = web.organisations["A"]
    assert 'name="roles" value="client"' in text(ada.get("/admin/users/new"))

    response = ada.post(
        "/admin/users/new",
        new_user_form(
            username="n", display_name="倪娜 Nina", password="short", password_confirm="short"
        ),
    )
    assert response.status_code == 422
    page = text(response)
    assert "2–80 个字母" in page  # username
    assert "客户用户必须属于一个组织" in page  # client without organisation
    assert "至少 10 个字符" in page
    assert 'value="倪娜 Nina"' in page and 'value="client" checked' in page  # values kept
    assert 'value="short"' not in page  # passwords are never sent back

    cases = [
        (new_user_form(username="carl"), "该用户名已被使用"),
        (new_user_form(username="CARL"), "该用户名已被使用"),
        (new_user_form(roles=[], organisation_id=str(org_a)), "请至少选择一个角色"),
        (new_user_form(roles=["market"], organisation_id=str(org_a)), "只有客户用户属于组织"),
        (new_user_form(organisation_id="999999"), "请从列表中选择组织"),
        (new_user_form(organisation_id="x"), "请从列表中选择组织"),
        (new_user_form(password_confirm="something-else"), "两次输入的密码不一致"),
        (new_user_form(display_name=""), "此项为必填项"),
    ]
    for form, message in cases:
        response = ada.post("/admin/users/new", form)
        assert response.status_code == 422, form
        assert message in text(response), form
    assert changes(web) == []

    response = ada.post(
        "/admin/users/new", new_user_form(organisation_id=str(org_a), roles=["client", "bogus"])
    )
    assert response.status_code == 302
    nina = user(web, "nina")
    assert response.headers["Location"] == f"/admin/users/{nina.id}"
    assert (nina.roles, nina.organisation_id, nina.active) == (frozenset({"client"}), org_a, True)
    assert "用户 nina 已创建" in text(ada.get(response.headers["Location"]))
    [(event, by, data)] = changes(web)
    assert (event, by) == ("user_created", "ada")
    assert data["user_id"] == nina.id and data["changes"]["roles"] == [[], ["client"]]
    assert NEW_PASSWORD not in str(data)
    # she can sign in and sees her organisation's case
    browser = Browser(web.app)
    assert browser.login("nina", NEW_PASSWORD).status_code == 302
    assert browser.get("/cases").headers["Location"] == f"/cases/{org_a}"


def test_edit_roles_organisation_and_active_is_logged_and_ends_sessions(web):
    ada = web.browser("ada")
    carl_session = web.browser("carl")
    carl = user(web, "carl")
    url = f"/admin/users/{carl.id}"
    page = text(ada.get(url))
    assert 'value="client" checked' in page and 'name="active" value="1" checked' in page

    response = ada.post(
        url,
        {"display_name": "Carl 测试", "roles": ["client"], "organisation_id": "", "active": "1"},
    )
    assert response.status_code == 422 and "客户用户必须属于一个组织" in text(response)

    org_b = web.organisations["B"]
    response = ada.post(
        url,
        {"display_name": "Carl B", "roles": ["client"], "organisation_id": str(org_b)},
    )  # active unchecked: deactivated
    assert response.status_code == 302
    row = user(web, "carl")
    assert (row.display_name, row.organisation_id, row.active) == ("Carl B", org_b, False)
    [(event, by, data)] = changes(web)
    assert (event, by) == ("user_updated", "ada")
    assert data["changes"] == {
        "display_name": ["Carl 测试", "Carl B"],
        "organisation_id": [web.organisations["A"], org_b],
        "active": [True, False],
    }
    # the deactivated user is signed out and cannot sign in again
    assert carl_session.get("/").status_code == 302
    assert Browser(web.app).login("carl").status_code == 401
    # the change history is on the user's page
    page = text(ada.get(url))
    assert "active: True → False" in page and 'data-event="user_updated"' in page

    same = {"display_name": "Carl B", "roles": ["client"], "organisation_id": str(org_b)}
    response = ada.post(url, same)
    assert response.status_code == 302 and len(changes(web)) == 1  # nothing changed
    response = ada.post(
        url,
        {
            "display_name": "Carl B",
            "roles": ["client", "market"],
            "organisation_id": str(org_b),
            "active": "1",
        },
    )
    assert response.status_code == 422
    assert "客户角色不能与其他角色同时授予" in text(response)
    assert user(web, "carl").roles == frozenset({"client"})


def test_admins_cannot_lock_themselves_out(web):
    ada = web.browser("ada")
    me = user(web, "ada")
    url = f"/admin/users/{me.id}"
    response = ada.post(url, {"display_name": "Ada", "roles": ["hr"]})
    assert response.status_code == 422
    assert "不能取消自己的管理员角色" in text(response) and "不能停用自己的账号" in text(response)
    assert user(web, "ada").roles == frozenset({"admin"}) and user(web, "ada").active
    assert changes(web) == []


def test_reset_password(web):
    ada = web.browser("ada")
    hank_session = web.browser("hank")
    hank = user(web, "hank")
    url = f"/admin/users/{hank.id}/password"
    response = ada.post(url, {"password": "short", "password_confirm": "short"})
    assert response.status_code == 422 and "至少 10 个字符" in text(response)
    response = ada.post(url, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert "hank 的密码已重置" in text(ada.get(response.headers["Location"]))
    assert hank_session.get("/").status_code == 302  # signed out
    assert Browser(web.app).login("hank").status_code == 401
    assert Browser(web.app).login("hank", NEW_PASSWORD).status_code == 302
    [(event, by, data)] = changes(web)
    assert (event, by, data["username"]) == ("password_reset", "ada", "hank")
    assert NEW_PASSWORD not in str(data)
    # an admin resetting their own password stays signed in
    me = user(web, "ada")
    response = ada.post(
        f"/admin/users/{me.id}/password",
        {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert ada.get("/admin/users").status_code == 200


def test_forms_need_the_csrf_token(web):
    ada = web.browser("ada")
    hank = user(web, "hank")
    assert ada.post("/admin/users/new", new_user_form(), csrf=False).status_code == 400
    assert ada.post(f"/admin/users/{hank.id}", {"roles": ["hr"]}, csrf=False).status_code == 400
    response = ada.post(
        f"/admin/users/{hank.id}/password",
        {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
        csrf=False,
    )
    assert response.status_code == 400
    assert changes(web) == []


def test_unknown_users_are_404(web):
    ada = web.browser("ada")
    for url in ("/admin/users/999999", "/admin/users/99999999999999999999"):
        assert ada.get(url).status_code == 404
    assert ada.post("/admin/users/999999/password", {}).status_code == 404
    assert [row[:2] for row in denied(web)] == [("ada", 404)] * 3
