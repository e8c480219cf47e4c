"""GET /api/v1/programmes/{id}/revisions (R-7.1.2): the programme's numbered revisions for staff
who see the case; staff without a part get 404, a client (even of the organisation) 403."""

from sqlalchemy import select

from certflow.accounts import issue_token
from certflow.db import db
from certflow.models import User
from domain.models import Organisation
from domain.programme_revisions import revise_programme
from tests.factories import make_application, make_programme
from tests.helpers import handler_context
from tests.web_support import web_fixture  # noqa: F401


def programme_with_two_revisions(web) -> tuple[int, dict[str, str]]:
    with web.app.app_context():
        organisation = db.session.get(Organisation, web.organisations["A"])
        application = make_application(db.session, web.now(), organisation)
        programme = make_programme(
            db.session, web.now(), application, by="ada", mystery_shopping=False, sizing_notes=""
        )
        act = handler_context(db.session, web.now(), actor="ada")
        revise_programme(act, programme, reason_kind="complaint", reason="两起有效投诉", man_days=4)
        tokens = {
            u.username: issue_token(db.session, u, web.now())
            for u in db.session.scalars(
                select(User).where(User.username.in_(["ada", "carl", "hank"]))
            )
        }
        db.session.commit()
        return programme, tokens


def get(web, token: str, url: str):
    return web.app.test_client().get(f"/api/v1{url}", headers={"Authorization": f"Bearer {token}"})


def test_staff_read_the_revisions_clients_never(web):
    programme, tokens = programme_with_two_revisions(web)
    url = f"/programmes/{programme}/revisions"
    answer = get(web, tokens["ada"], url)
    assert answer.status_code == 200, answer.json
    items = answer.json["items"]
    assert [(i["number"], i["reason_kind"], i["revised_by"]) for i in items] == [
        (1, "established", "ada"),
        (2, "complaint", "ada"),
    ]
    assert items[1]["reason"] == "两起有效投诉"
    assert items[1]["changes"] == [
        {"field": "man_days", "activity": None, "before": "3.0", "after": "4.0"}
    ]
    assert items[1]["revised_at"].endswith("+00:00")
    assert get(web, tokens["carl"], url).status_code == 403  # a client, by role
    assert get(web, tokens["hank"], url).status_code == 404  # no part in A's case
    assert get(web, tokens["ada"], "/programmes/999999/revisions").status_code == 404
