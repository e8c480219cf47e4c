"""Issue 11 item 3: early recertification on a major change (R-8.11 last paragraph: 发现客户的出现
严重影响服务体系运作的重大变更时…将安排特殊审查或与客户商定提前安排再认证审查). The audit
department decides, for an extra surveillance message of reason (b) major changes, between a
special audit and an early recertification agreed with the client; the early recertification
runs the initial procedure at once and, when its certificate is issued, ends the old cycle."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from certflow.accounts import create_user
from certflow.dates import add_months, last_day_of_months
from certflow.db import db
from engine.errors import FormValidationError
from engine.models import HumanTask
from tests.api_lifecycle import ApiLifecycle
from tests.certification_case import deploy_everything, make_people
from tests.lifecycle_case import nine_am

MAJOR_CHANGE = "法人和组织机构变更 new legal person and organisation"
ARRANGE = "Task_ArrangeSpecialAudit"


@pytest.fixture
def life(app, engine, clock, tmp_path):
    deploy_everything(engine)
    case = ApiLifecycle(engine, clock, make_people(clock.now()), tmp_path / "uploads")
    case.engine_app = app
    return case


def major_change(certificate) -> dict:
    return {
        "business_key": certificate.number,
        "certificate_id": certificate.id,
        "reason": "b",
        "detail": MAJOR_CHANGE,
    }


def early(agreed: bool = True) -> dict:
    return {
        "arrangement": "early_recertification",
        "client_agreed": agreed,
        "note": "与获证组织商定提前再认证 early recertification agreed with the client",
    }


def recertify(life) -> None:
    """The ending cycle reviewed, then the initial procedure again, inside the recertification
    instance (R-8.11)."""
    life.review_previous_cycle()
    life.submit_application()
    life.through_grant()


def test_a_major_change_leads_to_an_early_recertification_that_ends_the_old_cycle(life):
    certificate = life.certify()
    life.travel_to(nine_am(add_months(certificate.issued_on, 7)))
    life.engine.send_message(
        "extra_surveillance",
        correlation={"business_key": certificate.number},
        payload=major_change(certificate),
        actor=life.people.audit_dept,
    )
    # Early recertification needs the client's agreement (the form says so: 422 at submit).
    with pytest.raises(FormValidationError) as err:
        life.complete_in("surveillance", ARRANGE, life.people.audit_dept, early(agreed=False))
    assert "client_agreed" in err.value.errors
    life.complete_in("surveillance", ARRANGE, life.people.audit_dept, early())

    # The recertification starts at once, without asking again whether to continue.
    [recertification] = life.instances("recertification")
    assert recertification.business_key == certificate.number
    life.instance_id, life.day0 = recertification.id, life.clock.now()
    assert "Task_ReviewPreviousCycle" in life.active()
    recertify(life)

    new, old = life.certificate(), life.certificate(certificate.number)
    assert (old.status, new.status, new.replaces_id) == ("superseded", "valid", old.id)
    assert new.expires_on == last_day_of_months(new.issued_on, 36)
    assert new.issued_on < old.expires_on - timedelta(days=365)  # well before the old expiry
    old_cycle, new_cycle = life.instances("surveillance")
    assert (old_cycle.business_key, new_cycle.business_key) == (old.number, new.number)
    assert old_cycle.status == "completed" and old_cycle.next_timer_at is None
    assert new_cycle.status == "running"
    assert life.instance().status == "completed"
    db.session.rollback()
    left = db.session.scalars(
        select(HumanTask).where(HumanTask.instance_id == old_cycle.id, HumanTask.state == "open")
    ).all()
    assert left == []


def test_a_special_audit_remains_the_other_choice(life):
    certificate = life.certify()
    life.travel_to(nine_am(add_months(certificate.issued_on, 7)))
    life.engine.send_message(
        "extra_surveillance",
        correlation={"business_key": certificate.number},
        payload=major_change(certificate),
        actor=life.people.audit_dept,
    )
    choice = {"arrangement": "special_audit", "client_agreed": False, "note": "特殊审查 audit"}
    life.complete_in("surveillance", ARRANGE, life.people.audit_dept, choice)
    assert life.instances("recertification") == []
    assert life.open_in("surveillance", "Task_PlanSurveillance") is not None


def test_early_recertification_through_the_api(life):
    """The same story with the JSON API only: POST /messages, the arrangement task, the
    recertification tasks, and the certificates read back."""
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
    issued = life.get(f"/certificates/{number}")["issued_on"]
    life.travel_to(nine_am(add_months(date_of(issued), 7)))
    [cycle] = [
        i
        for i in life.get(f"/certificates/{number}/instances")["items"]
        if i["process_id"] == "surveillance"
    ]
    sent = life.call(
        "POST",
        "/messages",
        life.people.audit_dept.username,
        json={
            "name": "extra_surveillance",
            "correlation": {"business_key": number},
            # The certificate number is all an integrator knows: the cycle knows its certificate.
            "payload": {"business_key": number, "reason": "b", "detail": MAJOR_CHANGE},
        },
    )
    assert sent["delivered_to"] == cycle["id"]
    task = life.task_of("surveillance", ARRANGE, life.people.audit_dept.username)
    refused = life.http.post(
        f"/api/v1/tasks/{task['id']}/complete",
        json={"data": early(agreed=False)},
        headers={"Authorization": f"Bearer {life.tokens[life.people.audit_dept.username]}"},
    )
    assert refused.status_code == 422 and "client_agreed" in refused.json["errors"]
    life.complete_in("surveillance", ARRANGE, life.people.audit_dept, early())
    recertifications = [
        i
        for i in life.get(f"/certificates/{number}/instances")["items"]
        if i["process_id"] == "recertification"
    ]
    assert len(recertifications) == 1
    life.instance_id, life.day0 = recertifications[0]["id"], life.now()
    recertify(life)

    old = life.get(f"/certificates/{number}")
    new = life.get(f"/certificates/{old['replaced_by']}")
    assert (old["status"], new["status"]) == ("superseded", "valid")
    assert date_of(new["expires_on"]) == last_day_of_months(date_of(new["issued_on"]), 36)
    assert life.get(f"/instances/{cycle['id']}")["status"] == "completed"
    cycles = [
        i
        for i in life.get(f"/certificates/{new['number']}/instances")["items"]
        if i["process_id"] == "surveillance" and i["business_key"] == new["number"]
    ]
    assert [c["status"] for c in cycles] == ["running"]


def date_of(text: str):
    from datetime import date

    return date.fromisoformat(text)


def test_an_early_recertification_running_at_the_normal_time_is_not_started_twice(life):
    """Issue 11: the early recertification (R-8.11 last paragraph) is still running when the
    normal recertification time comes (3 months before expiry): no second recertification
    starts; the cycle ends and the early one goes on. Through the API, simulated clock."""
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
    certificate = life.get(f"/certificates/{number}")
    issued, expires = date_of(certificate["issued_on"]), date_of(certificate["expires_on"])
    # Both routine surveillances done: the cycle then waits for the normal time.
    s1_due = last_day_of_months(issued, 12)
    life.travel_to(nine_am(s1_due - timedelta(days=60)) + timedelta(minutes=1))
    s1_start = s1_due - timedelta(days=20)
    life.surveil(s1_start)
    s2_due = last_day_of_months(s1_start + timedelta(days=1), 12)
    life.travel_to(nine_am(s2_due - timedelta(days=60)) + timedelta(minutes=1))
    life.surveil(s2_due - timedelta(days=20))

    # A major change a month before the normal time: an early recertification is agreed.
    opens = add_months(expires + timedelta(days=1), -3)
    life.travel_to(nine_am(opens - timedelta(days=30)))
    life.call(
        "POST",
        "/messages",
        life.people.audit_dept.username,
        json={
            "name": "extra_surveillance",
            "correlation": {"business_key": number},
            "payload": {"business_key": number, "reason": "b", "detail": MAJOR_CHANGE},
        },
    )
    life.complete_in("surveillance", ARRANGE, life.people.audit_dept, early())
    [early_one] = recertifications(life, number)
    events = [e["event"] for e in life.get(f"/certificates/{number}/history")["items"]]
    assert events[-1] == "early_recertification_agreed"

    # The normal time passes while the early recertification still runs: none starts.
    life.travel_to(nine_am(opens) + timedelta(minutes=1))
    assert [r["id"] for r in recertifications(life, number)] == [early_one["id"]]
    assert life.get(f"/instances/{early_one['id']}")["status"] == "running"
    [cycle] = [
        i
        for i in life.get(f"/certificates/{number}/instances")["items"]
        if i["process_id"] == "surveillance"
    ]
    cycle = life.get(f"/instances/{cycle['id']}")
    assert cycle["status"] == "completed" and cycle["next_timer_at"] is None

    # The early recertification goes on to the new certificate.
    life.instance_id, life.day0 = early_one["id"], life.now()
    recertify(life)
    old = life.get(f"/certificates/{number}")
    assert old["status"] == "superseded"
    assert life.get(f"/certificates/{old['replaced_by']}")["status"] == "valid"
    assert len(recertifications(life, number)) == 1


def recertifications(life, number: str) -> list[dict]:
    items = life.get(f"/certificates/{number}/instances")["items"]
    return [i for i in items if i["process_id"] == "recertification"]


def test_a_complaint_showing_the_client_no_longer_conforms_may_lead_to_an_early_recertification(
    life,
):
    """R-8.11 last paragraph (或对客户的投诉分析和其他信息表明客户不再满足认证要求时，将安排特殊审查
    或与客户商定提前安排再认证审查; docs/decisions.md): a substantiated complaint whose
    investigator chooses the special audit reaches the audit department's arrangement, which
    may agree an early recertification with the client. Through the API: the complaint
    registered by the complaints desk, its handler's token obtained with a password."""
    number = life.certify().number
    now = life.clock.now()
    admin = create_user(
        db.session, "ada_admin", password="pw", roles={"admin"}, display_name="Ada", now=now
    )
    for username in ("deng_desk", "hu_handler"):
        create_user(
            db.session,
            username,
            password="a-long-pass-1",
            roles={"complaints"},
            display_name=username,
            now=now,
        )
    db.session.commit()
    life.use_api(admin, number)
    for username in ("deng_desk", "hu_handler"):
        db.session.rollback()
        issued = life.http.post(
            "/api/v1/tokens",
            json={"username": username, "password": "a-long-pass-1", "name": "complaints"},
        )
        assert issued.status_code == 201, issued.json
        life.tokens[username] = issued.json["token"]
    life.travel_to(
        nine_am(add_months(date_of(life.get(f"/certificates/{number}")["issued_on"]), 5))
    )

    registered = life.call(
        "POST",
        "/complaints",
        "deng_desk",
        json={
            "kind": "about_client",
            "complainant_name": "林女士",
            "complainant_contact": "lin@example.cn",
            "subject": "网点撤销后无人保修 no service after the outlets closed",
            "description": "三个服务网点均已关闭，保修电话无人接听。",
            "certificate_number": number,
        },
    )
    assign = [
        t
        for t in life.get("/tasks", "deng_desk")["items"]
        if t["element_id"] == "Task_AssignHandler"
    ]
    [task] = [t for t in assign if t["business_key"] == registered["reference"]]
    life.call(
        "POST",
        f"/tasks/{task['id']}/complete",
        "deng_desk",
        json={"data": {"handler": "hu_handler"}},
    )
    [task] = [
        t
        for t in life.get("/tasks", "hu_handler")["items"]
        if t["element_id"] == "Task_InvestigateComplaint"
    ]
    life.call(
        "POST",
        f"/tasks/{task['id']}/complete",
        "hu_handler",
        json={
            "data": {
                "findings": "网点全部关闭，服务体系已不能运作 outlets closed, no service",
                "substantiated": True,
                "follow_up": "special_audit",
                "decision": "投诉属实 upheld",
            }
        },
    )
    # The audit department arranges: an early recertification agreed with the client.
    life.complete_in("surveillance", ARRANGE, life.people.audit_dept, early())
    [recertification] = recertifications(life, number)
    life.instance_id = recertification["id"]
    assert life.task_of(None, "Task_ReviewPreviousCycle", life.people.audit_dept.username)
    events = [e["event"] for e in life.get(f"/certificates/{number}/history")["items"]]
    assert events[-1] == "early_recertification_agreed"
