"""Issue 9 item 5: case numbers under concurrency (real threads, each with its own app context
and database connection). 20 applications registered at once get 20 distinct numbers; 20
public complaints posted at once through the web form all succeed with distinct references; a
database conflict never answers 5xx."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from certflow.db import db, is_conflict
from domain.attachments import store_attachment
from domain.models import Application, Complaint
from domain.numbering import NumberCounter, next_number
from handlers import get_handler
from tests.application.test_handlers_application import application_params
from tests.complaints.test_web_complaints import VALID, site  # noqa: F401  (fixture)
from tests.factories import make_application, make_organisation
from tests.helpers import handler_context, run_in_threads
from tests.web_support import web_fixture  # noqa: F401

THREADS = 20


def _postgresql() -> bool:
    return db.engine.dialect.name == "postgresql"


def _materials(tmp_path, now, index: int) -> dict:
    def upload(kind: str) -> int:
        return store_attachment(
            db.session,
            tmp_path / "uploads",
            filename=f"{kind}-{index}.pdf",
            content_type="application/pdf",
            data=f"%PDF {kind} {index}".encode(),
            kind=kind,
            uploaded_by="carl_client",
            now=now,
        ).id

    return {
        "legal_status_file": upload("legal_status"),
        "service_documents_files": [upload("service_documents")],
        "service_flowchart_file": upload("service_flowchart"),
        "other_certificate_files": [],
    }


def test_concurrent_application_registrations_get_distinct_numbers(app, ctx, clock, tmp_path):
    now = clock.now()
    organisation = make_organisation(db.session, now)
    db.session.flush()
    # Numbers registered before the counter existed continue (the counter starts from them).
    make_application(db.session, now, organisation, number="APP-2026-0007")
    materials = [_materials(tmp_path, now, i) for i in range(THREADS)]
    db.session.commit()
    start = threading.Barrier(THREADS, timeout=30)

    def register(index: int):
        def run() -> str:
            hctx = handler_context(db.session, now, actor="carl_client")
            start.wait()
            result = get_handler("application.register")(application_params(materials[index]), hctx)
            db.session.commit()
            return result["number"]

        return run

    results = run_in_threads(app, *(register(i) for i in range(THREADS)))

    numbers = [value for kind, value in results if kind == "ok"]
    failures = [value for kind, value in results if kind == "error"]
    # SQLite has one writer: a transaction that read before another committed may be refused as
    # busy (a conflict, answered 409); PostgreSQL queues on the counter row and all succeed.
    assert all(is_conflict(err) for err in failures), failures
    if _postgresql():
        assert failures == []
    assert len(numbers) >= 1
    assert len(set(numbers)) == len(numbers)
    db.session.rollback()
    stored = sorted(db.session.scalars(select(Application.number)))
    assert stored == sorted(["APP-2026-0007", *numbers])
    assert sorted(numbers) == [f"APP-2026-{serial:04d}" for serial in range(8, 8 + len(numbers))]


def test_the_counter_continues_after_numbers_entered_otherwise(ctx, clock):
    now = clock.now()
    organisation = make_organisation(db.session, now)
    db.session.flush()
    assert next_number(db.session, Application.number, "APP", 2026) == "APP-2026-0001"
    make_application(db.session, now, organisation, number="APP-2026-0005")  # e.g. imported
    db.session.flush()
    assert next_number(db.session, Application.number, "APP", 2026) == "APP-2026-0006"
    assert next_number(db.session, Application.number, "APP", 2027) == "APP-2027-0001"
    db.session.rollback()  # a rolled-back transaction gives its numbers back
    assert db.session.scalars(select(NumberCounter)).all() == []


def test_concurrent_public_complaints_all_registered_with_distinct_references(site):  # noqa: F811
    app = site.app
    app.config["WTF_CSRF_ENABLED"] = False  # the form token is tested elsewhere
    start = threading.Barrier(THREADS, timeout=30)

    def post(index: int):
        def run():
            client = app.test_client()
            environ = {"REMOTE_ADDR": f"10.1.0.{index + 1}"}  # below each address's limit
            start.wait()
            response = client.post("/complaints/new", data=VALID, environ_base=environ)
            return response.status_code

        return run

    results = run_in_threads(app, *(post(i) for i in range(THREADS)))

    statuses = [value for kind, value in results]
    assert all(kind == "ok" for kind, _ in results), [v for k, v in results if k != "ok"]
    assert all(status < 500 for status in statuses), statuses
    with app.app_context():
        postgresql = _postgresql()
    if postgresql:
        assert statuses == [303] * THREADS  # each registered and sent on to its receipt page
    accepted = statuses.count(303)
    assert accepted >= 1 and set(statuses) <= {303, 409}
    with app.app_context():
        references = db.session.scalars(select(Complaint.reference)).all()
        year = (site.clock.now() + timedelta(hours=8)).year
    assert len(references) == accepted == len(set(references))
    assert sorted(references) == [f"TS-{year}-{n:04d}" for n in range(1, accepted + 1)]


@pytest.mark.parametrize("path", ["/complaints/new", "/api/v1/processes"])
def test_database_conflicts_answer_409_not_500(web, monkeypatch, path):
    """An IntegrityError that escapes a view (pages and API) is rolled back and answered 409."""
    from sqlalchemy.exc import IntegrityError

    from certflow.accounts import issue_token
    from certflow.models import User

    def clash(*args, **kwargs):
        raise IntegrityError("INSERT …", {}, Exception("duplicate key value"))

    with web.app.app_context():
        ada = db.session.scalars(select(User).where(User.username == "ada")).one()
        token = issue_token(db.session, ada, web.clock.now())
        db.session.commit()
    if path.startswith("/api"):
        monkeypatch.setattr("webapp.api.routes.get_engine", clash)
    else:
        monkeypatch.setattr("webapp.complaints._form_page", clash)
    client = web.app.test_client()
    response = client.get(path, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 409
    if path.startswith("/api"):
        assert response.get_json()["error"] == "conflict"
    else:
        assert "同时" in response.get_data(as_text=True)


def test_a_burst_of_complaints_from_one_address_accepts_exactly_the_limit(site):  # noqa: F811
    """Issue 9 item 8: the public form's limit (5 per hour and address) holds for a burst."""
    app = site.app
    app.config["WTF_CSRF_ENABLED"] = False
    start = threading.Barrier(THREADS, timeout=30)

    def post():
        client = app.test_client()
        start.wait()
        return client.post("/complaints/new", data=VALID).status_code

    results = run_in_threads(app, *([post] * THREADS))

    statuses = [value for kind, value in results]
    assert all(kind == "ok" for kind, _ in results), [v for k, v in results if k != "ok"]
    with app.app_context():
        postgresql = _postgresql()
        stored = db.session.scalar(select(func.count(Complaint.id)))
    if postgresql:
        assert sorted(statuses) == [303] * 5 + [429] * (THREADS - 5)
    else:  # SQLite may refuse a busy writer (409), which gives its place back
        assert statuses.count(303) <= 5 and set(statuses) <= {303, 409, 429}
    assert stored == statuses.count(303)
