"""Client self-service under concurrency (issue 10; races → one winner, 409 for the rest, never a
5xx): simultaneous "apply" clicks of one organisation start one certification; simultaneous
decisions of one link request decide it once. Real threads, SQLite and PostgreSQL."""

import threading

from sqlalchemy import func, select

from certflow.db import db
from domain.models import CaseBinding, LinkRequest
from engine.models import ProcessInstance
from tests.application.test_client_signup import THIRD_USCC, signed_in, signed_up, site  # noqa: F401
from tests.web_support import text

THREADS = 4


def run_together(calls):
    start = threading.Barrier(len(calls), timeout=30)
    results: list = [None] * len(calls)

    def worker(index, call):
        start.wait()
        try:
            results[index] = call()
        except Exception as err:  # collected and asserted by the test
            results[index] = err

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_simultaneous_applies_start_one_certification(site):  # noqa: F811
    signed_up(site)
    browsers = [signed_in(site, "wang_fang") for _ in range(THREADS)]
    responses = run_together([lambda b=b: b.post("/home/apply") for b in browsers])
    statuses = [r.status_code for r in responses]
    assert all(s in (303, 409) for s in statuses), responses
    started = [r for r in responses if "/tasks/" in r.headers.get("Location", "")]
    assert len(started) == 1, statuses
    with site.app_context():
        assert db.session.scalar(select(func.count(ProcessInstance.id))) == 1
        assert db.session.scalar(select(func.count(CaseBinding.id))) == 1


def test_simultaneous_decisions_of_a_link_request_decide_it_once(site):  # noqa: F811
    signed_up(site)
    signed_up(site, username="li_second")
    with site.app_context():
        request_id = db.session.scalars(select(LinkRequest.id)).one()
    browsers = [signed_in(site, "mia") for _ in range(THREADS)]
    for browser in browsers:
        browser.get("/link-requests")
    calls = [
        lambda b=b, i=i: b.post(
            f"/link-requests/{request_id}/{'approve' if i % 2 else 'refuse'}", {"reason": "x"}
        )
        for i, b in enumerate(browsers)
    ]
    responses = run_together(calls)
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(303) == 1 and all(s in (303, 409) for s in statuses), [
        (r.status_code, text(r)[:200]) for r in responses
    ]
    with site.app_context():
        row = db.session.get(LinkRequest, request_id)
        assert row.status in ("approved", "refused")
