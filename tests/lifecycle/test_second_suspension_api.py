"""Issue 11: a second suspension while the certificate is already suspended (R-9.5.1;
docs/decisions.md "A second suspension while suspended"). Through the JSON API: two
`suspend_certificate` messages (POST /messages, the certificate number as business key — all an
integrator knows); the second reason joins the open suspension — no incident, no second
correction task, the 6-month and correction deadlines unchanged — and one verification restores
the certificate."""

from datetime import timedelta

import pytest

from certflow.accounts import create_user
from certflow.db import db
from domain import certificate_status as status
from tests.api_lifecycle import ApiLifecycle
from tests.certification_case import deploy_everything, make_people

FEES = "未按时交纳认证年费 annual fee unpaid"
MISUSE = "宣传材料超范围使用认证标志 mark used beyond the scope"


@pytest.fixture
def life(app, engine, clock, tmp_path):
    deploy_everything(engine)
    case = ApiLifecycle(engine, clock, make_people(clock.now()), tmp_path / "uploads")
    case.engine_app = app
    return case


def suspend(life, number: str, reason: str, detail: str) -> dict:
    return life.call(
        "POST",
        "/messages",
        life.people.audit_dept.username,
        json={
            "name": "suspend_certificate",
            "correlation": {"business_key": number},
            "payload": {"business_key": number, "reason": reason, "detail": detail},
        },
    )


def suspensions(life, number: str) -> list[dict]:
    items = life.get(f"/certificates/{number}/instances")["items"]
    return [i for i in items if i["process_id"] == "suspension"]


def test_a_second_suspension_is_recorded_on_the_open_one(life):
    number = life.certify().number
    admin = create_user(
        db.session,
        "ada_admin",
        password="pw",
        roles={"admin"},
        display_name="Ada",
        now=life.clock.now(),
    )
    db.session.commit()
    life.use_api(admin, number)

    first = suspend(life, number, "e", FEES)
    assert life.get(f"/certificates/{number}")["status"] == "suspended"
    [opened] = suspensions(life, number)
    assert first["delivered_to"] == opened["id"]
    correction = life.task_data("suspension", "Task_SubmitSuspensionCorrection")
    deadlines = {k: correction["suspension"][k] for k in ("correction_deadline", "six_months_at")}

    life.travel_to(life.now() + timedelta(days=10))
    second = suspend(life, number, "c", MISUSE)
    assert second["delivered_to"] is not None
    joined = life.get(f"/instances/{second['delivered_to']}")
    assert joined["status"] == "completed", joined  # no incident, nothing left open
    assert joined["incidents"] == []
    assert life.get(f"/instances/{opened['id']}")["status"] == "running"
    events = life.get(f"/certificates/{number}/history")["items"]
    assert [e["event"] for e in events[-2:]] == ["suspended", "suspension_reason_added"]
    assert events[-1]["rule"] == "R-9.5.1c" and events[-1]["reason"] == MISUSE
    # One correction task, its deadlines unchanged (R-9.5.1: at most 6 months, never extended).
    open_tasks = [t["element_id"] for t in life.open_tasks("suspension")]
    assert open_tasks == ["Task_SubmitSuspensionCorrection"]
    again = life.task_data("suspension", "Task_SubmitSuspensionCorrection")["suspension"]
    assert {k: again[k] for k in deadlines} == deadlines

    # One verification covers both reasons and restores the certificate.
    life.complete_in(
        "suspension",
        "Task_SubmitSuspensionCorrection",
        life.people.client,
        {
            "corrective_actions": "已缴费并收回宣传材料 paid, leaflets withdrawn",
            "evidence_files": [],
        },
    )
    life.complete_in(
        "suspension",
        "Task_VerifySuspensionCorrection",
        life.people.audit_dept,
        {"accepted": True, "method": "documentary", "note": "两项均已核实 both verified"},
    )
    certificate = life.get(f"/certificates/{number}")
    assert certificate["status"] == "valid" and certificate["mark_use_allowed"] is True
    assert [i["status"] for i in suspensions(life, number)] == ["completed", "completed"]


def test_a_full_suspension_widens_a_partial_one_and_a_waiting_surveillance_is_remembered(
    life,
):
    """Domain: a partial suspension (one site) joined by a full one becomes full (mark use
    stops, R-10.1); a reason from the surveillance cycle (R-9.5.1a) makes the restoration name
    the surveillance to catch up (R-9.1)."""
    certificate = life.certify()
    now = life.clock.now()
    site = certificate.sites[0]["id"]
    common = {"correction_days": 60, "max_months": 6, "actor": "shen_auditdept"}
    status.suspend(
        db.session,
        certificate_id=certificate.id,
        reason="c",
        sites=[site],
        detail=MISUSE,
        now=now,
        **common,
    )
    assert certificate.mark_use_allowed is True  # partial: other sites may still use it
    joined = status.suspend(
        db.session,
        certificate_id=certificate.id,
        reason="a",
        sites=None,
        detail="逾期",
        surveillance_number=2,
        now=now + timedelta(days=3),
        **common,
    )
    assert joined["joined"] and joined["widened"] and not joined["partial"]
    assert (certificate.status, certificate.suspended_sites) == ("suspended", [])
    assert certificate.mark_use_allowed is False
    restored = status.restore(
        db.session,
        certificate_id=certificate.id,
        note=None,
        actor="shen_auditdept",
        now=now + timedelta(days=20),
    )
    assert restored["status"] == "valid" and restored["surveillance_number"] == 2
