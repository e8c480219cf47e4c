"""R-9.5.1, R-9.5.2(a): a suspended client corrects within the period set (SUSPENSION_CORRECTION_
DAYS, 60 by default, counted from the suspension day: docs/calendar.md); nothing submitted by its
last day → withdrawn the day after at 09:00 China time (整改期满未能达到整改目标), not only when the
six months are over. Through the real diagrams with the simulated clock."""

from datetime import timedelta

import pytest

from certflow.dates import last_day_of_days
from domain.programme_dates import surveillance_1_due
from tests.certification_case import deploy_everything, make_people
from tests.lifecycle_case import Lifecycle, nine_am


@pytest.fixture
def life(app, engine, clock, tmp_path):
    deploy_everything(engine)
    case = Lifecycle(engine, clock, make_people(clock.now()), tmp_path / "uploads")
    case.engine_app = app
    return case


def test_nothing_corrected_by_the_deadline_withdraws_the_day_after(life):
    certificate = life.certify()
    suspended_on = surveillance_1_due(certificate.issued_on) + timedelta(days=1)
    life.travel_to(nine_am(suspended_on) + timedelta(minutes=1))  # R-9.5.1(a)
    assert life.certificate(certificate.number).status == "suspended"
    deadline = last_day_of_days(suspended_on, 60)
    life.travel_to(nine_am(deadline) + timedelta(hours=14, minutes=59))  # 23:59, the last day
    assert life.certificate(certificate.number).status == "suspended"
    assert life.open_in("suspension", "Task_SubmitSuspensionCorrection") is not None
    life.travel_to(nine_am(deadline + timedelta(days=1)) + timedelta(minutes=1))
    withdrawn = life.certificate(certificate.number)
    assert withdrawn.status == "withdrawn" and not withdrawn.mark_use_allowed
    assert life.events(withdrawn)[-1] == "withdrawn"
    [cycle] = life.instances("surveillance")
    assert cycle.status == "completed"  # certificate_ended ended the cycle
