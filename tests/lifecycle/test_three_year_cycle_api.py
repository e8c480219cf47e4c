"""Issue 11 (must-show, item 1): a certificate's 3-year cycle through the JSON API only, with the
simulated clock moved by POST /api/v1/clock: a new client onboarded and certified through the API
(tests/lifecycle/api_path.py) → surveillance 1 → surveillance 2 missed, suspended at
its latest date (R-9.5.1a) → corrected and restored → the missed surveillance planned at once and
done (R-9.1, R-8.10.1; docs/decisions.md) → the recertification prompt 3 months before expiry
(R-8.11) → recertification into a new cycle. Dates by the calendar convention
(certflow/dates.py, docs/calendar.md); values read from documented API fields only."""

from datetime import date, timedelta

import pytest

from certflow.dates import add_months, last_day_of_months
from tests.api_lifecycle import ApiLifecycle
from tests.certification_case import deploy_everything, make_people
from tests.lifecycle.api_path import new_client_certified, renew_registrations
from tests.lifecycle_case import nine_am

MINUTE = timedelta(minutes=1)


@pytest.fixture
def life(app, engine, clock, tmp_path):
    deploy_everything(engine)
    case = ApiLifecycle(engine, clock, make_people(clock.now()), tmp_path / "uploads")
    case.engine_app = app
    return case


def day(text: str) -> date:
    return date.fromisoformat(text)


def open_elements(life, process_id: str) -> list[str]:
    return sorted(t["element_id"] for t in life.open_tasks(process_id))


def history(life, number: str) -> list[str]:
    return [e["event"] for e in life.get(f"/certificates/{number}/history")["items"]]


def cycle_instances(life, number: str, process_id: str) -> list[dict]:
    items = life.get(f"/certificates/{number}/instances")["items"]
    return [i for i in items if i["process_id"] == process_id]


def restore(life) -> None:
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


def test_a_three_year_cycle_with_a_suspension_ends_in_a_new_cycle(life):
    number = new_client_certified(life)  # a new client, certified through the API
    certificate = life.get(f"/certificates/{number}")
    issued = day(certificate["issued_on"])
    assert day(certificate["expires_on"]) == last_day_of_months(issued, 36)

    # Surveillance 1: within 12 months of the decision (the issue day), no extension.
    s1_due = last_day_of_months(issued, 12)
    life.travel_to(nine_am(s1_due - timedelta(days=60)) - MINUTE)
    assert open_elements(life, "surveillance") == []
    life.travel_to(nine_am(s1_due - timedelta(days=60)) + MINUTE)
    schedule = life.task_data("surveillance", "Task_PlanSurveillance")["schedule"]
    assert (schedule["due"], schedule["hard_limit"]) == (s1_due.isoformat(),) * 2
    s1_start = s1_due - timedelta(days=20)
    life.surveil(s1_start)
    assert history(life, number)[-1] == "maintained"
    renew_registrations(life)  # HR's yearly evaluation: the team stays appointable

    # Surveillance 2: due 12 months after the end of the first, at most 15; never done.
    s2_due = last_day_of_months(s1_start + timedelta(days=1), 12)
    life.travel_to(nine_am(s2_due - timedelta(days=60)) + MINUTE)
    schedule = life.task_data("surveillance", "Task_PlanSurveillance")["schedule"]
    hard_limit = day(schedule["hard_limit"])
    assert day(schedule["due"]) == s2_due
    assert s2_due < hard_limit <= last_day_of_months(s1_start + timedelta(days=1), 15)
    life.travel_to(nine_am(s2_due + timedelta(days=1)) + MINUTE)
    assert open_elements(life, "surveillance") == [
        "Task_PlanSurveillance",
        "Task_SurveillanceOverdue",
    ]
    life.travel_to(nine_am(hard_limit) + timedelta(hours=14, minutes=59))  # 23:59, last day
    assert life.get(f"/certificates/{number}")["status"] == "valid"
    life.travel_to(nine_am(hard_limit + timedelta(days=1)) + MINUTE)
    assert life.get(f"/certificates/{number}")["status"] == "suspended"
    assert open_elements(life, "surveillance") == []  # nothing left that nobody can act on

    # Corrected and restored: the missed surveillance is planned at once.
    life.travel_to(life.now() + timedelta(days=20))
    restore(life)
    restored_on = life.now().date()
    assert life.get(f"/certificates/{number}")["status"] == "valid"
    assert history(life, number)[-2:] == ["suspended", "restored"]
    life.travel_to(life.now() + MINUTE)
    assert open_elements(life, "surveillance") == ["Task_PlanSurveillance"]
    schedule = life.task_data("surveillance", "Task_PlanSurveillance")["schedule"]
    assert schedule["caught_up_after"] == restored_on.isoformat()
    assert schedule["due"] == last_day_of_months(restored_on, 3).isoformat()
    [surveillance] = cycle_instances(life, number, "surveillance")
    instance = life.get(f"/instances/{surveillance['id']}")
    assert instance["status"] == "running" and instance["next_timer_at"] is not None
    life.surveil(restored_on + timedelta(days=30))
    assert history(life, number)[-1] == "maintained"

    # the prompt 3 months before the validity ends, not a minute earlier.
    expires = day(certificate["expires_on"])
    opens = add_months(expires + timedelta(days=1), -3)
    life.travel_to(nine_am(opens) - MINUTE)
    assert cycle_instances(life, number, "recertification") == []
    life.travel_to(nine_am(opens) + MINUTE)
    [recertification] = cycle_instances(life, number, "recertification")
    assert life.get(f"/instances/{surveillance['id']}")["status"] == "completed"

    # Recertification: the client continues, the initial procedure again.
    life.complete_in(
        "recertification",
        "Task_AskToContinue",
        life.people.client,
        {"continue_certification": True, "note": None},
    )
    life.instance_id = recertification["id"]
    life.day0 = life.now()
    # every NC of the cycle verified — one per deduction finding, three in
    # each of its three audits (40 points lost each)
    assert len(life.review_previous_cycle()) == 9
    life.submit_application()
    life.through_grant()

    old = life.get(f"/certificates/{number}")
    assert old["status"] == "superseded" and old["replaced_by"]
    new = life.get(f"/certificates/{old['replaced_by']}")
    assert new["status"] == "valid" and new["replaces"] == number
    assert day(new["issued_on"]) == life.now().date()
    assert day(new["expires_on"]) == last_day_of_months(day(new["issued_on"]), 36)
    assert day(new["issued_on"]) <= expires  # recertified before the old one expired
    [next_cycle] = cycle_instances(life, new["number"], "surveillance")
    assert next_cycle["status"] == "running" and next_cycle["business_key"] == new["number"]

    # The old validity's boundary: on its last valid day (23:59) and the day after (09:01, when
    # an unrecertified certificate is cancelled, R-9.5.3b) the new certificate holds and
    # nothing is cancelled.
    for moment in (
        nine_am(expires) + timedelta(hours=14, minutes=59),
        nine_am(expires + timedelta(days=1)) + MINUTE,
    ):
        life.travel_to(moment)
        assert life.get(f"/certificates/{number}")["status"] == "superseded"
        assert life.get(f"/certificates/{new['number']}")["status"] == "valid"
        assert cycle_instances(life, number, "cancellation") == []
    assert life.get(f"/instances/{recertification['id']}")["status"] == "completed"
