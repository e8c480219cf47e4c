"""An integrator obtains, lists and revokes its API tokens through the API (issue 11): POST
/tokens with username and password (the secret shown once, a name and an expiry), GET /tokens
(its own, no secrets), DELETE /tokens/{id}; throttled as the sign-in page; every step in the
access log. Runs on SQLite and PostgreSQL (the `api` fixture)."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from certflow.db import db
from certflow.models import ApiToken
from tests.api.test_api import DOC, assert_schema
from tests.api.test_api import api as api  # noqa: F401  (the fixture)
from webapp.auth import LOGIN_MAX_FAILURES
from webapp.models import AccessLog


def obtain(api, username: str, password: str, **extra):
    return api.post(None, "/tokens", {"username": username, "password": password, **extra})


def bearer(api, secret: str, method: str = "GET", path: str = "/tokens"):
    return api.client.open(
        f"/api/v1{path}", method=method, headers={"Authorization": f"Bearer {secret}"}
    )


def events(api, *kinds: str) -> list[AccessLog]:
    with api.app.app_context():
        rows = db.session.scalars(
            select(AccessLog).where(AccessLog.event.in_(kinds)).order_by(AccessLog.id)
        ).all()
        db.session.expunge_all()
        return rows


def test_a_token_for_a_password_is_shown_once_listed_without_secret_and_revoked(api):
    before = datetime.now(UTC)
    issued = obtain(api, "carl", "pw-carl", name="ERP 集成", expires_in_days=30)
    assert issued.status_code == 201, issued.json
    assert_schema("NewToken", issued.json)
    secret = issued.json["token"]
    assert secret.startswith("cf_") and issued.json["name"] == "ERP 集成"
    expires = datetime.fromisoformat(issued.json["expires_at"])
    assert before + timedelta(days=30) <= expires <= datetime.now(UTC) + timedelta(days=30)
    assert issued.json["active"] is True and issued.json["revoked_at"] is None

    # The new token works, and lists the caller's own tokens only, without secrets.
    listed = bearer(api, secret)
    assert listed.status_code == 200
    assert_schema("TokenList", listed.json)
    names = [t["name"] for t in listed.json["items"]]
    assert names == ["ERP 集成", "test"]  # newest first; carl's fixture token, no one else's
    assert secret not in listed.get_data(as_text=True)
    assert all("token" not in t for t in listed.json["items"])
    with api.app.app_context():  # only the hash is stored
        row = db.session.get(ApiToken, issued.json["id"])
        assert row.token_hash == ApiToken.hash(secret) and secret not in row.token_hash

    # Another user cannot see or revoke it (404 as if it did not exist).
    assert api.call("DELETE", "mia", f"/tokens/{issued.json['id']}").status_code == 404
    assert issued.json["id"] not in [t["id"] for t in api.get("mia", "/tokens").json["items"]]
    assert bearer(api, secret).status_code == 200

    revoked = bearer(api, secret, "DELETE", f"/tokens/{issued.json['id']}")
    assert revoked.status_code == 200, revoked.json
    assert_schema("TokenOut", revoked.json)
    assert revoked.json["active"] is False and revoked.json["revoked_at"]
    assert bearer(api, secret).status_code == 401  # refused from now on
    again = api.call("DELETE", "carl", f"/tokens/{issued.json['id']}")
    assert again.status_code == 200 and again.json["revoked_at"] == revoked.json["revoked_at"]

    issued_log = events(api, "api_token_issued", "api_token_revoked")
    assert [(e.event, e.username, e.data["token_id"]) for e in issued_log] == [
        ("api_token_issued", "carl", issued.json["id"]),
        ("api_token_revoked", "carl", issued.json["id"]),
    ]
    assert all(secret not in (e.detail + str(e.data)) for e in issued_log)
    assert all("pw-carl" not in (e.detail + str(e.data) + e.path) for e in issued_log)


def test_an_expired_token_is_refused(api):
    issued = obtain(api, "mia", "pw-mia", name="short", expires_in_days=1)
    assert issued.status_code == 201
    with api.app.app_context():  # a day later (wall clock: tokens never follow the simulation)
        row = db.session.get(ApiToken, issued.json["id"])
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        db.session.commit()
    assert bearer(api, issued.json["token"]).status_code == 401
    [listed] = [t for t in api.get("mia", "/tokens").json["items"] if t["name"] == "short"]
    assert listed["active"] is False and listed["revoked_at"] is None


def test_wrong_credentials_answer_the_same_401_and_are_logged(api):
    for username, password in (("carl", "wrong"), ("nobody", "pw-carl")):
        refused = obtain(api, username, password, name="x")
        assert refused.status_code == 401
        assert refused.json["message"] == "wrong username or password"
        assert "token" not in refused.json
    with api.app.app_context():
        from certflow.models import User

        db.session.scalars(select(User).where(User.username == "max")).one().active = False
        db.session.commit()
    assert obtain(api, "max", "pw-max", name="x").status_code == 401  # inactive account
    logged = [(e.username, e.status) for e in events(api, "api_token_refused")]
    assert logged == [("carl", 401), ("nobody", 401), ("max", 401)]


def test_the_lifetime_and_name_are_checked(api):
    for extra in (
        {"name": "x", "expires_in_days": 0},
        {"name": "x", "expires_in_days": 366},
        {"name": ""},
        {},
    ):
        answer = obtain(api, "carl", "pw-carl", **extra)
        assert answer.status_code == 422, extra
    default = obtain(api, "carl", "pw-carl", name="default")
    created = datetime.fromisoformat(default.json["created_at"])
    assert datetime.fromisoformat(default.json["expires_at"]) - created == timedelta(days=90)


def test_guessing_is_throttled_as_the_sign_in(api):
    for _ in range(LOGIN_MAX_FAILURES):
        assert obtain(api, "carl", "guess", name="x").status_code == 401
    throttled = obtain(api, "carl", "pw-carl", name="x")  # even the right password now waits
    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) > 0
    assert [e.status for e in events(api, "api_token_throttled")] == [429]
    assert obtain(api, "mia", "pw-mia", name="x").status_code == 201  # another account: fine


def test_the_token_operations_are_documented(api):
    paths = DOC["paths"]
    assert paths["/tokens"]["post"]["security"] == []
    assert {"201", "401", "422", "429"} <= set(paths["/tokens"]["post"]["responses"])
    assert set(paths["/tokens"]["get"]["responses"]) >= {"200", "401"}
    assert set(paths["/tokens/{token_id}"]["delete"]["responses"]) >= {"200", "401", "404"}
    schema = DOC["components"]["schemas"]["CreateToken"]
    assert set(schema["properties"]) == {"username", "password", "name", "expires_in_days"}
    assert "token" not in DOC["components"]["schemas"]["TokenOut"]["properties"]


def test_a_whole_float_lifetime_counts_as_days(api):
    """JSON Schema counts 30.0 as an integer (found by schemathesis); 30.5 is refused."""
    issued = obtain(api, "carl", "pw-carl", name="float", expires_in_days=30.0)
    assert issued.status_code == 201, issued.json
    created = datetime.fromisoformat(issued.json["created_at"])
    assert datetime.fromisoformat(issued.json["expires_at"]) - created == timedelta(days=30)
    assert obtain(api, "carl", "pw-carl", name="x", expires_in_days=30.5).status_code == 422
