"""One open change of a certificate at a time (R-9.3, issue 15): two clients of the organisation
asking for a change at the same moment — one starts it, the other gets 409, never two running
changes and never a 5xx. The database refuses the second running change (a unique index), not
the page's read-then-start check, so the check being passed by both does not matter."""

import threading

from sqlalchemy import select

from certflow.db import db
from domain.models import Organisation
from engine.models import ProcessInstance
from tests.certificate_factory import issued_certificate
from tests.certification_case import deploy_everything
from tests.helpers import run_in_threads
from tests.web_support import web_fixture  # noqa: F401

CHANGE = "certificate_change"


def _certificate_of_alpha(web) -> str:
    """A valid certificate of organisation A (carl's and cleo's), with the processes deployed."""
    with web.app.app_context():
        deploy_everything(web.engine)
        organisation = db.session.get(Organisation, web.organisations["A"])
        number = issued_certificate(organisation=organisation).number
        db.session.commit()
        return number


def _running_changes(web, number: str) -> list[ProcessInstance]:
    with web.app.app_context():
        return list(
            db.session.scalars(
                select(ProcessInstance).where(
                    ProcessInstance.process_id == CHANGE,
                    ProcessInstance.business_key == number,
                    ProcessInstance.status == "running",
                )
            )
        )


def test_two_concurrent_change_requests_start_one_change_and_the_other_gets_409(web):
    number = _certificate_of_alpha(web)
    clients = [web.browser("carl"), web.browser("cleo")]
    start = threading.Barrier(len(clients), timeout=30)

    def post(browser):
        def run():
            start.wait()
            return browser.post(f"/home/certificates/{number}/change").status_code

        return run

    results = run_in_threads(web.app, *(post(browser) for browser in clients))

    assert all(kind == "ok" for kind, _ in results), results
    assert sorted(status for _, status in results) == [303, 409]
    assert len(_running_changes(web, number)) == 1


def test_the_database_refuses_a_second_running_change_when_the_check_is_passed(web, monkeypatch):
    """The race made certain: the page's check sees no running change (as both requests of a
    race do); the second start is refused by the unique index, answered 409 with the reason."""
    number = _certificate_of_alpha(web)
    monkeypatch.setattr("webapp.client_changes.change_in_progress", lambda number: False)
    first = web.browser("carl").post(f"/home/certificates/{number}/change")
    assert first.status_code == 303
    second = web.browser("cleo").post(f"/home/certificates/{number}/change")
    assert second.status_code == 409
    assert "该证书已有变更申请正在办理" in second.get_data(as_text=True)
    assert len(_running_changes(web, number)) == 1
