"""Uploading and downloading files through the API: real files under instance/uploads."""

import hashlib
import io
from pathlib import Path

import pytest

from certflow.accounts import create_user, issue_token
from certflow.db import db
from tests.factories import make_organisation


@pytest.fixture
def tokens(app):
    with app.app_context():
        now = app.extensions["certflow.clock"].now()
        org = make_organisation(db.session, now)
        other = make_organisation(db.session, now, name="另一家公司", uscc="91110108MA01C2D3EG")
        users = {
            "client": create_user(
                db.session, "c1", password="p", roles={"client"}, display_name="C1", now=now
            ),
            "client_other": create_user(
                db.session, "c2", password="p", roles={"client"}, display_name="C2", now=now
            ),
            "market": create_user(
                db.session, "m1", password="p", roles={"market"}, display_name="M1", now=now
            ),
        }
        users["client"].organisation_id = org.id
        users["client_other"].organisation_id = other.id
        result = {name: issue_token(db.session, user, now) for name, user in users.items()}
        db.session.commit()
    return result


def upload(
    client,
    token,
    data=b"%PDF-1.4 licence",
    name="licence.pdf",
    kind="legal_status",
    mimetype="application/pdf",
):
    return client.post(
        "/api/v1/attachments",
        data={"file": (io.BytesIO(data), name, mimetype), "kind": kind},
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )


def test_upload_stores_the_file_and_the_owner_can_download_it(app, tokens):
    client = app.test_client()
    response = upload(client, tokens["client"])
    assert response.status_code == 201, response.json
    body = response.json
    assert body["sha256"] == hashlib.sha256(b"%PDF-1.4 licence").hexdigest()
    stored = Path(app.instance_path) / "uploads" / body["sha256"][:2] / body["sha256"]
    assert stored.read_bytes() == b"%PDF-1.4 licence"
    download = client.get(
        f"/api/v1/attachments/{body['id']}",
        headers={"Authorization": f"Bearer {tokens['client']}"},
    )
    assert download.status_code == 200
    assert download.data == b"%PDF-1.4 licence"
    assert "licence.pdf" in download.headers["Content-Disposition"]


def test_other_organisations_and_staff_without_a_part_cannot_download(app, tokens):
    client = app.test_client()
    attachment_id = upload(client, tokens["client"]).json["id"]
    denied = client.get(
        f"/api/v1/attachments/{attachment_id}",
        headers={"Authorization": f"Bearer {tokens['client_other']}"},
    )
    assert denied.status_code == 404
    # Staff without a part in the organisation's case (issue 9, item 12; R-11).
    staff = client.get(
        f"/api/v1/attachments/{attachment_id}",
        headers={"Authorization": f"Bearer {tokens['market']}"},
    )
    assert staff.status_code == 404


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"mimetype": "application/x-msdownload", "name": "x.exe"}, "file"),
        ({"kind": "bogus"}, "kind"),
        ({"data": b""}, "file"),
    ],
)
def test_bad_uploads_are_refused_with_field_errors(app, tokens, kwargs, field):
    response = upload(app.test_client(), tokens["client"], **kwargs)
    assert response.status_code == 422
    assert field in response.json["errors"]


def test_upload_needs_authentication(app):
    response = app.test_client().post("/api/v1/attachments", data={})
    assert response.status_code == 401
