"""Issue 9 item 10: `Idempotency-Key` on the creating requests of the JSON API — a retried start
creates one instance, another body under the same key is refused, concurrent requests with one
key do the work once, keys expire."""

import io
import threading
from datetime import timedelta

from sqlalchemy import func, select

from certflow.db import db
from domain.models import Attachment
from engine.models import ProcessInstance, QueuedMessage
from tests.api.test_api import api  # noqa: F401  (fixture)
from tests.helpers import run_in_threads
from webapp.api import idempotency

START = {"process_id": "review_flow", "business_key": "APP-1", "data": {"headcount": 120}}


def start(api, key: str | None, body: dict = START, user: str = "mia", **kw):  # noqa: F811
    headers = {"Authorization": f"Bearer {api.tokens[user]}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return api.client.post("/api/v1/instances", json=body, headers=headers, **kw)


def instances(api) -> int:  # noqa: F811
    with api.app.app_context():
        return db.session.scalar(select(func.count(ProcessInstance.id)))


def test_a_retried_start_with_the_same_key_creates_one_instance(api):  # noqa: F811
    first = start(api, "start-APP-1-try")
    assert first.status_code == 201
    again = start(api, "start-APP-1-try")
    assert again.status_code == 201
    assert again.json == first.json
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert instances(api) == 1
    # The same JSON written differently is the same request.
    reformatted = start(api, "start-APP-1-try", body=dict(reversed(list(START.items()))))
    assert reformatted.status_code == 201 and reformatted.json["id"] == first.json["id"]
    # Without a key, or with a new key, it is a new request.
    assert start(api, None).status_code == 201
    assert start(api, "another-key").status_code == 201
    assert instances(api) == 3


def test_the_same_key_with_another_body_is_refused(api):  # noqa: F811
    assert start(api, "k-1").status_code == 201
    other = start(api, "k-1", body={**START, "business_key": "APP-2"})
    assert other.status_code == 422
    assert "Idempotency-Key" in other.json["errors"]
    assert "different request" in other.json["message"]
    assert instances(api) == 1


def test_keys_belong_to_their_user_and_are_checked(api):  # noqa: F811
    assert start(api, "shared-name").status_code == 201
    assert start(api, "shared-name", user="max").status_code == 201  # max's own key
    assert instances(api) == 2
    for bad in ("", "x" * 256, "with space", "ünïcode"):
        response = start(api, bad)
        assert response.status_code == 422, bad
        assert "Idempotency-Key" in response.json["errors"]
    assert instances(api) == 2


def test_a_refusal_is_kept_and_replayed(api):  # noqa: F811
    refused = start(api, "k-404", body={**START, "process_id": "no_such_process"})
    assert refused.status_code == 404
    # a 404 is kept: the same request gets the same answer without trying again
    assert start(api, "k-404", body={**START, "process_id": "no_such_process"}).status_code == 404
    assert (
        "Idempotent-Replayed"
        in start(api, "k-404", body={**START, "process_id": "no_such_process"}).headers
    )


def test_keys_expire_after_a_day(api, monkeypatch):  # noqa: F811
    assert start(api, "daily").status_code == 201
    later = idempotency.wall_clock() + idempotency.KEY_LIFETIME + timedelta(seconds=1)
    monkeypatch.setattr(idempotency, "wall_clock", lambda: later)
    again = start(api, "daily")
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert instances(api) == 2


def test_concurrent_requests_with_one_key_start_one_instance(api):  # noqa: F811
    threads = 8
    gate = threading.Barrier(threads, timeout=30)

    def post():
        client = api.app.test_client()
        gate.wait()
        response = client.post(
            "/api/v1/instances",
            json=START,
            headers={"Authorization": f"Bearer {api.tokens['mia']}", "Idempotency-Key": "race"},
        )
        return response.status_code, response.get_json()

    results = run_in_threads(api.app, *([post] * threads))

    assert all(kind == "ok" for kind, _ in results), [v for k, v in results if k != "ok"]
    answers = [value for _, value in results]
    created = {body["id"] for status, body in answers if status == 201}
    assert {status for status, _ in answers} <= {201, 409}, answers
    with api.app.app_context():
        postgresql = db.engine.dialect.name == "postgresql"
    if postgresql:
        assert len(created) == 1, answers
    else:  # SQLite's single writer may refuse the one doing the work too (409, key released)
        assert len(created) <= 1, answers
    assert instances(api) == len(created)


def test_a_retried_upload_stores_one_file(api):  # noqa: F811
    def upload(content: bytes):
        return api.client.post(
            "/api/v1/attachments",
            data={"kind": "other", "file": (io.BytesIO(content), "report.pdf", "application/pdf")},
            headers={"Authorization": f"Bearer {api.tokens['mia']}", "Idempotency-Key": "up-1"},
            content_type="multipart/form-data",
        )

    first = upload(b"%PDF-1.4 report")
    assert first.status_code == 201, first.json
    again = upload(b"%PDF-1.4 report")
    assert again.status_code == 201 and again.json == first.json
    assert upload(b"%PDF-1.4 another report").status_code == 422
    with api.app.app_context():
        assert db.session.scalar(select(func.count(Attachment.id))) == 1


def test_a_retried_message_is_sent_once(api):  # noqa: F811
    headers = {"Authorization": f"Bearer {api.tokens['ada']}", "Idempotency-Key": "msg-1"}
    body = {"name": "documents_resubmitted", "correlation": {"business_key": "APP-9"}}
    first = api.client.post("/api/v1/messages", json=body, headers=headers)
    assert first.status_code == 202, first.json
    again = api.client.post("/api/v1/messages", json=body, headers=headers)
    assert again.status_code == 202 and again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    with api.app.app_context():
        assert db.session.scalar(select(func.count(QueuedMessage.id))) == 1


def test_a_multipart_part_without_a_name_is_answered_not_a_5xx(api):  # noqa: F811
    # Found by schemathesis: a form part with no name made the fingerprint's sort fail (500).
    body = (
        b"--b\r\nContent-Disposition: form-data\r\n\r\nnull\r\n"
        b'--b\r\nContent-Disposition: form-data; name="kind"\r\n\r\nother\r\n--b--\r\n'
    )
    response = api.client.post(
        "/api/v1/attachments",
        data=body,
        headers={"Authorization": f"Bearer {api.tokens['mia']}", "Idempotency-Key": "odd-1"},
        content_type="multipart/form-data; boundary=b",
    )
    assert response.status_code == 422, response.get_data(as_text=True)
