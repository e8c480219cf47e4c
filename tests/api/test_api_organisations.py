"""Client organisations through the API (issue 11, the integrator's path; R-11): an admin
creates the organisation a first client user is then created in; the code is checked (422 with
the field), a code that has an organisation already is 409, and everyone else is refused."""

from domain.uscc import uscc_check_char
from tests.api.test_api_people import Api
from tests.api.test_api_people import api as api  # noqa: F401  (the fixture)
from tests.web_support import web_fixture  # noqa: F401

NEW_USCC = "91350100M00777" + "999" + uscc_check_char("91350100M00777999")  # nobody's yet
BODY = {"name": "福州新客电器有限公司", "uscc": NEW_USCC}


def test_admin_creates_an_organisation_that_a_client_user_then_joins(api: Api):
    created = api.call("ada", "POST", "/organisations", BODY)
    assert created.status_code == 201, created.json
    assert {k: created.json[k] for k in ("name", "uscc")} == BODY
    user = api.call(
        "ada",
        "POST",
        "/users",
        {
            "username": "new_client",
            "display_name": "王芳",
            "password": "a-long-pass-1",
            "roles": ["client"],
            "organisation_id": created.json["id"],
        },
    )
    assert user.status_code == 201, user.json
    assert user.json["organisation_id"] == created.json["id"]


def test_a_code_with_an_organisation_already_is_a_conflict(api: Api):
    assert api.call("ada", "POST", "/organisations", BODY).status_code == 201
    again = api.call("ada", "POST", "/organisations", {**BODY, "name": "另一家 another"})
    assert again.status_code == 409, again.json


def test_a_mistyped_code_is_refused_with_the_field(api: Api):
    wrong_check = NEW_USCC[:17] + ("0" if NEW_USCC[17] != "0" else "1")
    for code in (wrong_check, NEW_USCC.lower(), "123"):
        answer = api.call("ada", "POST", "/organisations", {**BODY, "uscc": code})
        assert answer.status_code == 422, (code, answer.json)
        assert list(answer.json["errors"]) == ["uscc"], (code, answer.json)


def test_only_an_admin_creates_organisations(api: Api):
    for username in ("mia", "carl"):
        answer = api.call(username, "POST", "/organisations", BODY)
        assert answer.status_code == 403, (username, answer.json)
