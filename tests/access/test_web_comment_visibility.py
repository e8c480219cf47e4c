"""R-11, issue 10: staff comments on tasks never reach a client unless the writer addresses the
client explicitly; a client reads only what was written to it or by it."""

from sqlalchemy import select

from certflow.db import db
from tests.web_support import Web, text, web_fixture  # noqa: F401
from webapp.models import TaskComment

SECRET = "内部评审意见 internal review note"
TO_CLIENT = "请补充营业执照 please add the licence"


def client_task(web: Web, key: str = "APP-1") -> str:
    return web.to_contract(web.start(key, org="A"))


def stored(web: Web) -> list[tuple[str, str, str]]:
    with web.app.app_context():
        rows = db.session.scalars(select(TaskComment).order_by(TaskComment.id)).all()
        return [(c.author, c.body, c.visibility) for c in rows]


def test_a_staff_comment_is_internal_unless_written_to_the_client(web):
    task = client_task(web)
    ada = web.browser("ada")
    page = text(ada.get(f"/tasks/{task}"))
    assert 'name="visibility" value="internal" checked' in page  # internal is the default
    assert ada.post(f"/tasks/{task}/comments", {"body": SECRET}).status_code == 302
    answer = ada.post(f"/tasks/{task}/comments", {"body": TO_CLIENT, "visibility": "client"})
    assert answer.status_code == 302
    assert stored(web) == [("ada", SECRET, "internal"), ("ada", TO_CLIENT, "client")]

    client_page = text(web.browser("carl").get(f"/tasks/{task}"))
    assert TO_CLIENT in client_page
    assert SECRET not in client_page
    assert 'data-visibility="internal"' not in client_page

    staff_page = text(ada.get(f"/tasks/{task}"))
    assert SECRET in staff_page and TO_CLIENT in staff_page
    assert 'data-visibility="internal"' in staff_page and 'data-visibility="client"' in staff_page


def test_a_clients_comment_is_readable_by_the_client_whatever_it_sends(web):
    task = client_task(web)
    carl = web.browser("carl")
    page = text(carl.get(f"/tasks/{task}"))
    assert 'name="visibility"' not in page
    data = {"body": "我们有疑问 a question", "visibility": "internal"}
    carl.post(f"/tasks/{task}/comments", data)
    assert stored(web) == [("carl", "我们有疑问 a question", "client")]
    assert "我们有疑问" in text(web.browser("cleo").get(f"/tasks/{task}"))


def test_no_comment_to_the_client_on_a_staff_task_and_no_unknown_visibility(web):
    review = web.open_task(web.start("APP-1", org="A"))  # the market's acceptance review
    mia = web.browser("mia")
    assert 'name="visibility"' not in text(mia.get(f"/tasks/{review}"))
    refused = mia.post(f"/tasks/{review}/comments", {"body": "x", "visibility": "client"})
    assert "只有客户的任务" in text(mia.get(refused.headers["Location"]))
    task = client_task(web, "APP-2")
    web.browser("ada").post(f"/tasks/{task}/comments", {"body": "y", "visibility": "public"})
    assert stored(web) == []
