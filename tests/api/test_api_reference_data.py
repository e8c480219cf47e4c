"""Indicator sets and audit sites through the API (issue 11): the GB/T 27922 tree the evidence
form's item codes come from (R-3: 3 first-level, 15 second-level, 48 items), and the sites an
audit covers — the latter only for whoever may see the audited organisation's case (R-11)."""

from sqlalchemy import select

from certflow.accounts import issue_token
from certflow.db import db
from certflow.models import User
from domain.indicators import load_default_indicator_sets
from domain.models import Organisation
from domain.scoring import DEFAULT_INDICATOR_SET_PATH, load_indicator_set
from tests.api.test_api import assert_schema
from tests.factories import make_application, make_audit
from tests.web_support import web_fixture  # noqa: F401


def tokens_and(web, prepare):
    with web.app.app_context():
        result = prepare()
        users = db.session.scalars(select(User)).all()
        tokens = {user.username: issue_token(db.session, user, web.now()) for user in users}
        db.session.commit()
    client = web.app.test_client()

    def get(username: str, url: str):
        headers = {"Authorization": f"Bearer {tokens[username]}"}
        return client.get(f"/api/v1{url}", headers=headers)

    return get, result


def test_indicator_sets_with_their_tree(web):
    get, set_id = tokens_and(web, lambda: load_default_indicator_sets(db.session, web.now())[0].id)
    for username in ("carl", "quinn", "hank"):  # reference data: every role
        listing = get(username, "/indicator-sets")
        assert listing.status_code == 200, listing.json
        assert_schema("IndicatorSetList", listing.json)
        [summary] = listing.json["items"]
        assert (summary["id"], summary["active"]) == (set_id, True)
    detail = get("carl", f"/indicator-sets/{set_id}").json
    assert_schema("IndicatorSetDetail", detail)
    firsts = detail["indicators"]
    seconds = [child for first in firsts for child in first["children"]]
    items = [item for child in seconds for item in child["items"]]
    assert (len(firsts), len(seconds), len(items)) == (3, 15, 48)
    expected = load_indicator_set(DEFAULT_INDICATOR_SET_PATH)
    assert [item["code"] for item in items] == [item.code for item in expected.items]
    assert sum(item["points"] for item in items) == detail["total_points"]
    assert detail["label"] == f"{expected.code} {expected.version}"
    assert get("carl", f"/indicator-sets/{set_id + 1}").status_code == 404


def test_audit_sites_only_for_whoever_sees_the_case(web):
    def audit_of_a() -> int:
        organisation = db.session.get(Organisation, web.organisations["A"])
        application = make_application(db.session, web.now(), organisation, number="APP-A")
        return make_audit(db.session, web.now(), organisation, application).id

    get, audit_id = tokens_and(web, audit_of_a)
    with web.app.app_context():
        names = [s.name for s in db.session.get(Organisation, web.organisations["A"]).sites]
    for username in ("carl", "quinn"):
        answer = get(username, f"/audits/{audit_id}/sites")
        assert answer.status_code == 200, (username, answer.json)
        assert_schema("AuditSiteList", answer.json)
        assert [site["name"] for site in answer.json["items"]] == names
    for username in ("cora", "hank", "mia"):  # B's client; no part in A's case
        assert get(username, f"/audits/{audit_id}/sites").status_code == 404, username
    assert get("quinn", f"/audits/{audit_id + 1}/sites").status_code == 404
