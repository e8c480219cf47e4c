"""Issue 11: the certificate's validity boundary with the simulated clock moved through the HTTP
API (POST /api/v1/clock) and read from the public registry (R-7.1.1, R-9.1, R-9.5.3b, R-14).

The convention (certflow/dates.py, docs/calendar.md): issued on D, the certificate is valid
through D + 3 years − 1 day; without recertification it is cancelled on the day after."""

import re
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select

from certflow.accounts import create_user, issue_token
from certflow.dates import CHINA_TZ, add_months
from certflow.db import db
from domain.models import Certificate
from tests.certification_case import deploy_everything, make_people
from tests.lifecycle_case import Lifecycle, nine_am


@pytest.fixture
def life(app, engine, clock, tmp_path):
    deploy_everything(engine)
    case = Lifecycle(engine, clock, make_people(clock.now()), tmp_path / "uploads")
    case.engine_app = app
    return case


def china(day, hour: int, minute: int = 0) -> str:
    return datetime.combine(day, time(hour, minute), tzinfo=CHINA_TZ).isoformat()


def registry_status(http, number: str) -> tuple[str, str]:
    """(data-status of the badge, the printed expiry date) of the public registry page."""
    # The test client shares the test's app context and so its session: end that session's
    # transaction, as a request of its own would start with a fresh one.
    db.session.rollback()
    response = http.get(f"/registry/certificates/{number}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    status = re.search(r'id="certificate-status"[^>]*data-status="([a-z_]+)"', html)
    expires = re.search(r'id="certificate-expires-on" datetime="([0-9-]+)"', html)
    assert status and expires, html[:500]
    return status.group(1), expires.group(1)


def test_valid_on_its_last_day_and_cancelled_the_day_after_through_the_api(life):
    certificate = life.certify()
    issued_on = certificate.issued_on
    last_valid_day = add_months(issued_on, 36) - timedelta(days=1)
    # Both routine surveillances on time, so nothing but the expiry ends the certificate.
    s1_due = add_months(issued_on, 12)
    life.travel_to(nine_am(s1_due - timedelta(days=60)) + timedelta(minutes=1))
    life.surveil(s1_due - timedelta(days=20))
    s2_due = add_months(s1_due - timedelta(days=19), 12)
    life.travel_to(nine_am(s2_due - timedelta(days=60)) + timedelta(minutes=1))
    life.surveil(s2_due - timedelta(days=20))

    now = life.clock.now()
    admin = create_user(
        db.session, "ada_admin", password="pw", roles={"admin"}, display_name="Ada", now=now
    )
    token = issue_token(db.session, admin, life.clock.now(), "issue 11 test")
    db.session.commit()
    http = life.engine_app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def set_clock(moment: str) -> dict:
        response = http.post("/api/v1/clock", json={"set": moment}, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.json

    # The recertification prompt: 3 months before the validity ends, not a day earlier.
    opens = add_months(last_valid_day + timedelta(days=1), -3)
    set_clock(china(opens - timedelta(days=1), 23, 59))
    assert life.instances("recertification") == []
    set_clock(china(opens, 9, 1))
    assert len(life.instances("recertification")) == 1

    # The day before and the last valid day itself: valid, and the registry prints that day.
    set_clock(china(last_valid_day - timedelta(days=1), 12))
    assert registry_status(http, certificate.number) == ("valid", last_valid_day.isoformat())
    set_clock(china(last_valid_day, 23, 59))
    assert registry_status(http, certificate.number) == ("valid", last_valid_day.isoformat())
    db.session.rollback()
    row = db.session.scalars(select(Certificate).where(Certificate.number == certificate.number))
    assert row.one().status == "valid"

    # The day after: past its validity from midnight, cancelled when the timer fires (R-9.5.3b).
    set_clock(china(last_valid_day + timedelta(days=1), 0, 30))
    assert registry_status(http, certificate.number)[0] == "expired"
    fired = set_clock(china(last_valid_day + timedelta(days=1), 9, 1))["fired_instances"]
    assert fired, fired
    assert registry_status(http, certificate.number) == ("cancelled", last_valid_day.isoformat())
