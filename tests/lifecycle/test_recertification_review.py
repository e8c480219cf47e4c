"""Issue 15 / R-8.11: a recertification verifies the nonconformities of the ending cycle and the
use of the certificate and mark (再认证的内容主要包括…认证证书及标志的使用、以往不符合项的验证).
The audit department's form offers the cycle's NCs from data (x-options previous_cycle_ncs)
and refuses a review that leaves one out or an improper use without findings (x-checks
recertification.review_fits, 422 at submit); the review is kept in the case file. Through the
JSON API after a certification with one nonconformity (on the engine, the setup)."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from certflow.accounts import create_user
from certflow.db import db
from domain.models import Auditor
from tests.api_lifecycle import ApiLifecycle
from tests.certification_case import (
    deploy_everything,
    make_people,
    one_nc,
    through_onsite,
)


@pytest.fixture
def life(app, engine, clock, tmp_path):
    deploy_everything(engine)
    case = ApiLifecycle(engine, clock, make_people(clock.now()), tmp_path / "uploads")
    case.engine_app = app
    return case


def certified_with_one_nc(life) -> str:
    for auditor in db.session.scalars(select(Auditor)):
        auditor.registration_expires_on = life.day0.date() + timedelta(days=6 * 365)
    db.session.commit()
    # only item 5.1.1.1 loses points: the team's NC on it is the cycle's one NC
    through_onsite(life, points_lost=20, nonconformities=one_nc())
    life.receive_report()
    nc_ids = life.confirm_ncs()
    life.answer_ncs(nc_ids)
    life.verify_ncs(nc_ids, accepted=True)
    life.at(45)
    life.decide("grant", 4)
    return life.certificate().number


def test_the_recertification_verifies_the_cycles_nonconformities_and_mark_use(life):
    number = certified_with_one_nc(life)
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
    # Staff start the recertification (the message the surveillance throws 3 months before
    # expiry; here sent through the API), the client continues.
    life.call(
        "POST",
        "/messages",
        life.people.audit_dept.username,
        json={
            "name": "recertification_due",
            "correlation": {"business_key": number},
            "payload": {"business_key": number},
        },
    )
    life.complete_in(
        "recertification",
        "Task_AskToContinue",
        life.people.client,
        {"continue_certification": True, "note": None},
    )
    dept = life.people.audit_dept.username
    task = life.task_of("recertification", "Task_ReviewPreviousCycle", dept)
    schema = life.get(f"/tasks/{task['id']}", dept)["form_schema"]
    options = schema["properties"]["nc_checks"]["items"]["properties"]["nc_id"]["oneOf"]
    [nc] = options  # the one NC of the initial audit, named for a person
    assert "5.1.1.1" in nc["title"] and "组织架构图" in nc["title"]

    def submit(data: dict):
        return life.http.post(
            f"/api/v1/tasks/{task['id']}/complete",
            json={"data": data},
            headers={"Authorization": f"Bearer {life.tokens[dept]}"},
        )

    use = {"certificate_use": "proper", "mark_use": "proper", "use_findings": None}
    missing = submit({"nc_checks": [], **use})
    assert missing.status_code == 422 and "nc_checks" in missing.json["errors"]
    assert "R-8.11" in missing.json["errors"]["nc_checks"][0]
    check = {"nc_id": nc["const"], "result": "effective", "note": "记录已复查 records rechecked"}
    improper = submit({"nc_checks": [check], **use, "mark_use": "improper"})
    assert improper.status_code == 422 and "use_findings" in improper.json["errors"]
    assert submit({"nc_checks": [check], **use}).status_code == 200

    documents = life.get(f"/certificates/{number}/documents")["items"]
    [review] = [d for d in documents if d["kind"] == "recertification_review"]
    assert "5.1.1.1" in review["body"] and "effective" in review["body"]
    # Then the initial procedure again.
    life.instance_id = task["instance_id"]
    life.day0 = life.now()
    life.submit_application()
    life.through_grant()
    old = life.get(f"/certificates/{number}")
    assert old["status"] == "superseded" and old["replaced_by"]
