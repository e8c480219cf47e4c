"""Request and upload size limits (issue 9 item 6): a body over the limit is refused with 413
before it is read (Content-Length) or as soon as the limit is passed (chunked, no length), and
an uploaded file is copied to disk in chunks with its 20 MB limit checked while reading.

The requests are real WSGI calls with a body stream that counts what the application consumed.
"""

import json
import tracemalloc
from pathlib import Path

import pytest
from werkzeug.test import EnvironBuilder, run_wsgi_app

from certflow import config
from certflow.accounts import create_user, issue_token
from certflow.db import db
from domain.attachments import MAX_BYTES
from tests.factories import make_organisation
from tests.web_support import web_fixture  # noqa: F401

MB = 1024 * 1024
HUGE = 150 * MB
BOUNDARY = "certflowlimit"
READ_SLACK = 2 * MB  # Werkzeug may read one buffer beyond the limit before refusing
API_UPLOAD_LIMIT = MAX_BYTES + 64 * 1024  # one file plus its multipart framing


class CountingBody:
    """A `wsgi.input`: a multipart body with one file of `file_size` bytes, generated on demand;
    `consumed` is how much the application read."""

    def __init__(self, file_size: int, filename: str = "big.pdf") -> None:
        self.prefix = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{filename}"\r\nContent-Type: application/pdf\r\n\r\n'
        ).encode()
        self.suffix = f'\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name="kind"\r\n\r\n'
        self.suffix += f"legal_status\r\n--{BOUNDARY}--\r\n"
        self.total = len(self.prefix) + file_size + len(self.suffix)
        self.consumed = 0

    def _bytes_at(self, start: int, size: int) -> bytes:
        suffix = self.suffix.encode()
        body_end = self.total - len(suffix)
        out = bytearray()
        position = start
        while len(out) < size and position < self.total:
            if position < len(self.prefix):
                piece = self.prefix[position : position + size - len(out)]
            elif position < body_end:
                piece = b"\0" * min(size - len(out), body_end - position)
            else:
                piece = suffix[position - body_end : position - body_end + size - len(out)]
            out += piece
            position += len(piece)
        return bytes(out)

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self.total - self.consumed
        data = self._bytes_at(self.consumed, min(size, 4 * MB))
        self.consumed += len(data)
        return data

    def readline(self, size: int = -1) -> bytes:  # not used by Werkzeug's multipart parser
        return self.read(size)


def send(app, path: str, body: CountingBody, *, chunked: bool, headers=None):
    environ = EnvironBuilder(path=path, method="POST", headers=headers or {}).get_environ()
    environ["CONTENT_TYPE"] = f"multipart/form-data; boundary={BOUNDARY}"
    environ["wsgi.input"] = body
    if chunked:  # what a server does for Transfer-Encoding: chunked
        environ.pop("CONTENT_LENGTH", None)
        environ["wsgi.input_terminated"] = True
    else:
        environ["CONTENT_LENGTH"] = str(body.total)
    app_iter, status, response_headers = run_wsgi_app(app, environ, buffered=True)
    return int(status.split()[0]), response_headers, b"".join(app_iter)


@pytest.fixture
def client_token(app):
    with app.app_context():
        now = app.extensions["certflow.clock"].now()
        org = make_organisation(db.session, now)
        user = create_user(
            db.session, "c1", password="p", roles={"client"}, display_name="C1", now=now
        )
        user.organisation_id = org.id
        token = issue_token(db.session, user, now)
        db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_a_request_limit_is_always_configured(app, monkeypatch):
    assert app.config["MAX_CONTENT_LENGTH"] == 100 * MB  # the documented default
    monkeypatch.setenv("CERTFLOW_MAX_REQUEST_MB", "7")
    assert config.load_config(app.instance_path)["MAX_CONTENT_LENGTH"] == 7 * MB


def test_web_body_announced_too_large_is_refused_without_reading_it(app):
    body = CountingBody(HUGE)
    status, headers, page = send(app, "/login", body, chunked=False)
    assert status == 413
    assert body.consumed == 0
    assert headers["Content-Type"].startswith("text/html")
    assert "上传内容过大" in page.decode()  # the friendly page, Chinese by default


def test_web_chunked_body_is_refused_once_past_the_limit(app):
    body = CountingBody(HUGE)
    status, headers, _ = send(app, "/login", body, chunked=True)
    assert status == 413
    assert headers["Content-Type"].startswith("text/html")
    assert body.consumed <= app.config["MAX_CONTENT_LENGTH"] + READ_SLACK


def test_api_body_announced_too_large_is_refused_as_json_without_reading(app, client_token):
    body = CountingBody(HUGE)
    status, _, raw = send(app, "/api/v1/attachments", body, chunked=False, headers=client_token)
    assert status == 413
    assert body.consumed == 0
    assert json.loads(raw)["error"] == "payload_too_large"


def test_api_chunked_upload_is_refused_after_reading_at_most_one_file(app, client_token):
    body = CountingBody(HUGE)
    status, _, raw = send(app, "/api/v1/attachments", body, chunked=True, headers=client_token)
    assert status == 413, raw
    assert json.loads(raw)["error"] == "payload_too_large"
    assert body.consumed <= API_UPLOAD_LIMIT + READ_SLACK


def test_api_file_over_20_mb_is_refused_while_streaming_not_held_in_memory(app, client_token):
    body = CountingBody(MAX_BYTES + 1)
    tracemalloc.start()
    try:
        status, _, raw = send(app, "/api/v1/attachments", body, chunked=False, headers=client_token)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert status == 422, raw
    assert "larger than 20 MB" in json.loads(raw)["errors"]["file"][0]
    assert peak < 8 * MB, f"peak {peak / MB:.1f} MB"
    uploads = Path(app.instance_path) / "uploads"
    assert not list(uploads.rglob("*.part"))  # the partial copy is removed


def test_api_file_of_exactly_20_mb_is_accepted(app, client_token):
    body = CountingBody(MAX_BYTES)
    status, _, raw = send(app, "/api/v1/attachments", body, chunked=False, headers=client_token)
    assert status == 201, raw
    assert json.loads(raw)["size"] == MAX_BYTES


def test_web_task_file_over_20_mb_is_refused_while_streaming(web):
    from io import BytesIO

    from tests.web.test_web_task import form_task

    task = form_task(web)
    mia = web.browser("mia")
    mia.get(f"/tasks/{task}")
    big = BytesIO(b"\0" * (MAX_BYTES + 1))
    tracemalloc.start()
    try:
        response = mia.post(
            f"/tasks/{task}",
            {"f/title": "Big", "f/evidence_file": (big, "big.txt", "text/plain")},
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 422
    assert "big.txt：文件超过 20 MB。" in response.get_data(as_text=True)
    assert peak < 8 * MB, f"peak {peak / MB:.1f} MB"
    assert not list(web.storage.rglob("*.part"))
