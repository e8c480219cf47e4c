"""Issue 11 item 1: a certificate restored after a suspension for a missed surveillance is
surveilled again (R-9.1, R-8.10.1, R-9.5.1; docs/decisions.md "A restored certificate is
surveilled again"): the missed routine surveillance is planned at once and done within 3 months
of the restoration, the next follows by the 12/15-month rules, and the recertification prompt
still comes 3 months before expiry. Through the real diagrams with the simulated clock."""

from datetime import timedelta

from sqlalchemy import select

from certflow.dates import add_months, last_day_of_months
from certflow.db import db
from domain.programme_dates import surveillance_1_due, surveillance_2_due
from engine.models import HumanTask
from tests.lifecycle_case import nine_am


def open_elements(process_id: str) -> list[str]:
    db.session.rollback()
    rows = db.session.scalars(
        select(HumanTask).where(HumanTask.process_id == process_id, HumanTask.state == "open")
    )
    return sorted(row.element_id for row in rows)


def correct_and_restore(life) -> None:
    life.complete_in(
        "suspension",
        "Task_SubmitSuspensionCorrection",
        life.people.client,
        {"corrective_actions": "已安排监督审查 surveillance booked", "evidence_files": []},
    )
    life.complete_in(
        "suspension",
        "Task_VerifySuspensionCorrection",
        life.people.audit_dept,
        {"accepted": True, "method": "documentary", "note": "已核实 verified"},
    )


def plan_data(life) -> dict:
    return life.engine.task_data(life.open_in("surveillance", "Task_PlanSurveillance"))


def test_a_missed_first_surveillance_is_caught_up_after_the_restoration(life):
    certificate = life.certify()
    due = surveillance_1_due(certificate.issued_on)
    life.travel_to(nine_am(due) + timedelta(days=1, minutes=1))  # R-9.5.1(a): suspended
    assert life.certificate(certificate.number).status == "suspended"
    assert open_elements("surveillance") == []
    life.travel_to(nine_am(due) + timedelta(days=20))
    correct_and_restore(life)
    restored_on = life.clock.now().date()
    assert life.certificate(certificate.number).status == "valid"

    # The cycle goes on: the missed surveillance is planned at once (the next sweep) ...
    [surveillance] = life.instances("surveillance")
    assert surveillance.status == "running"
    life.travel_to(life.clock.now() + timedelta(minutes=1))
    assert open_elements("surveillance") == ["Task_PlanSurveillance"]
    schedule = plan_data(life)["schedule"]
    caught_up_due = last_day_of_months(restored_on, 3)
    assert (schedule["due"], schedule["hard_limit"]) == (caught_up_due.isoformat(),) * 2
    assert schedule["caught_up_after"] == restored_on.isoformat()

    # ... and done within 3 months; the second follows 12 months after its end.
    s1_start = restored_on + timedelta(days=30)
    life.surveil(s1_start)
    assert life.events(life.certificate(certificate.number))[-1] == "maintained"
    s2_due = surveillance_2_due(s1_start + timedelta(days=1))
    life.travel_to(nine_am(s2_due - timedelta(days=60)) + timedelta(minutes=1))
    assert open_elements("surveillance") == ["Task_PlanSurveillance"]
    schedule = plan_data(life)["schedule"]
    assert schedule["due"] == s2_due.isoformat() and schedule["caught_up_after"] is None
    life.surveil(s2_due - timedelta(days=20))

    # the recertification prompt 3 months before expiry.
    opens = add_months(certificate.expires_on + timedelta(days=1), -3)
    life.travel_to(nine_am(opens) - timedelta(minutes=1))
    assert life.instances("recertification") == []
    life.travel_to(nine_am(opens) + timedelta(minutes=1))
    assert [i.business_key for i in life.instances("recertification")] == [certificate.number]
    assert life.instances("surveillance")[0].status == "completed"


def test_the_second_surveillance_missed_at_15_months_leaves_no_task_behind(life):
    """R-7.1.3/R-8.10.1: the overdue follow-up of surveillance 2 closes at the hard limit; after
    the restoration the missed surveillance is planned, not a leftover task without a timer."""
    certificate = life.certify()
    s1_due = surveillance_1_due(certificate.issued_on)
    life.travel_to(nine_am(s1_due - timedelta(days=60)) + timedelta(minutes=1))
    s1_start = s1_due - timedelta(days=20)
    life.surveil(s1_start)
    s2_due = surveillance_2_due(s1_start + timedelta(days=1))
    life.travel_to(nine_am(s2_due) + timedelta(days=1, minutes=1))
    assert open_elements("surveillance") == [
        "Task_PlanSurveillance",
        "Task_SurveillanceOverdue",
    ]
    hard_limit = date_of(plan_data(life)["schedule"]["hard_limit"])
    life.travel_to(nine_am(hard_limit) + timedelta(days=1, minutes=1))
    assert life.certificate(certificate.number).status == "suspended"
    assert open_elements("surveillance") == []  # the follow-up closed with the surveillance
    correct_and_restore(life)
    restored_on = life.clock.now().date()
    life.travel_to(life.clock.now() + timedelta(minutes=1))
    assert open_elements("surveillance") == ["Task_PlanSurveillance"]
    schedule = plan_data(life)["schedule"]
    assert schedule["hard_limit"] == last_day_of_months(restored_on, 3).isoformat()
    [surveillance] = life.instances("surveillance")
    assert surveillance.next_timer_at is not None  # its latest date and the reminder wait


def date_of(text: str):
    from datetime import date

    return date.fromisoformat(text)
