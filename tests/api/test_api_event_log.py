"""The event log over the API (issue 13): XES and CSV for integrators, the same as the quality
workspace's downloads; quality_manager and admin only; filters by process and start time."""

import csv
import io

import pm4py

from certflow.accounts import issue_token
from certflow.db import db
from certflow.models import User
from tests.web_support import Web, web_fixture  # noqa: F401


def _token(web: Web, username: str) -> dict[str, str]:
    with web.app.app_context():
        user = db.session.query(User).filter_by(username=username).one()
        secret = issue_token(db.session, user, web.now(), "test")
        db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def test_the_event_log_as_xes_and_csv_for_the_quality_manager(web: Web, tmp_path):
    first = web.start("APP-1")
    web.to_contract(first)
    web.start("FORM-1", process="web_form_flow")
    client = web.app.test_client()
    quinn = _token(web, "quinn")
    response = client.get("/api/v1/event-log.xes?process=review_flow", headers=quinn)
    assert response.status_code == 200 and response.mimetype == "application/xml"
    path = tmp_path / "api.xes"
    path.write_bytes(response.data)
    log = pm4py.read_xes(str(path))
    assert list(log["case:concept:name"]) == [f"{first} APP-1"] * 3
    assert list(log["lifecycle:transition"]) == ["schedule", "complete", "schedule"]
    # The same log as the workspace's download.
    page = web.browser("quinn").get("/quality/exports/events.xes?process=review_flow")
    assert page.data == response.data
    response = client.get("/api/v1/event-log.csv", headers=quinn)
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert response.mimetype == "text/csv" and len(rows) == 4  # both processes
    later = "2026-01-06T00:00:00%2B00:00"
    response = client.get(f"/api/v1/event-log.csv?started_from={later}", headers=quinn)
    assert list(csv.DictReader(io.StringIO(response.get_data(as_text=True)))) == []


def test_only_the_quality_manager_and_admins_get_it(web: Web):
    client = web.app.test_client()
    assert client.get("/api/v1/event-log.xes").status_code == 401
    assert client.get("/api/v1/event-log.xes", headers=_token(web, "mia")).status_code == 403
    assert client.get("/api/v1/event-log.csv", headers=_token(web, "ada")).status_code == 200
    bad = client.get("/api/v1/event-log.csv?started_from=yesterday", headers=_token(web, "ada"))
    assert bad.status_code == 422 and "started_from" in bad.get_json()["errors"]
