"""Issue 11 (must-show): the integrator's whole path through the JSON API. A new client — its
organisation and user created by an administrator through the API — applies, is certified, and
goes through one surveillance whose nonconformity it answers and the team leader verifies
(R-6 … R-8.8, R-8.7, R-8.10). Every step is a documented operation (the OpenAPI document); every
id the test sends is taken from an API answer — the instance from POST /instances, auditors,
sites and nonconformities from the task's form schema (`oneOf` choices) or task data — and the
clock moves through POST /api/v1/clock. No database reads; the staff accounts and the audit team's
HR records exist beforehand (tests/certification_case.make_people), as at a certification body.

Also: the task's instructions are answered filled, as the task page shows them (issue 11)."""

from datetime import timedelta

import pytest

from certflow.dates import add_months
from tests.api_lifecycle import ApiLifecycle
from tests.certification_case import deploy_everything, make_people
from tests.lifecycle.api_path import certify_through_api, choices, onboard_client
from tests.lifecycle_case import nine_am

NC = {
    "item_code": "5.1.1.1",
    "nature": "general",
    "description": "服务网点未公示服务承诺 service commitments not displayed",
    "evidence": "现场查看服务网点 seen at the outlet",
}


@pytest.fixture
def life(app, engine, clock, tmp_path):
    deploy_everything(engine)
    case = ApiLifecycle(engine, clock, make_people(clock.now()), tmp_path / "uploads")
    case.engine_app = app
    return case


def test_a_new_client_from_creation_to_a_surveillance_with_a_nonconformity(life):
    onboard_client(life)
    p = life.people
    # The client applies: its own certification, bound to its organisation, and
    # the case runs to the certificate (tests/lifecycle/api_path.py).
    certify_through_api(life)
    assert life.get(f"/certificates/{life.number}", p.client.username)["status"] == "valid"
    issued = life.get(f"/certificates/{life.number}")["issued_on"]

    # One surveillance that records a nonconformity.
    due = add_months(life.now().date(), 12)
    assert issued == life.now().date().isoformat()
    life.travel_to(nine_am(due - timedelta(days=60)) + timedelta(minutes=1))
    # Only item 5.1.1.1 loses points: the team's NC on it is the one NC.
    life.surveil(due - timedelta(days=55), points_lost=20, nonconformities=[NC])

    # The client answers the NC the form offers it (no id from anywhere else).
    answer = life.task_of("surveillance", "Task_SubmitCorrections", p.client.username)
    schema = life.get(f"/tasks/{answer['id']}", p.client.username)["form_schema"]
    [nc_id] = choices(schema, "answers", "[]", "nc_id").values()
    life.complete_in(
        "surveillance",
        "Task_SubmitCorrections",
        p.client,
        {
            "answers": [
                {
                    "nc_id": nc_id,
                    "root_cause": "公示制度缺失 no display rule",
                    "correction": "已公示 displayed",
                    "corrective_action": "月度检查 monthly checks",
                    "evidence_files": [life.upload("nc_evidence", "公示照片.pdf")],
                }
            ]
        },
    )

    # The leader verifies it; the instructions name the case as the task page does.
    verify = life.task_of("surveillance", "Task_VerifyCorrections", p.leader.username)
    detail = life.get(f"/tasks/{verify['id']}", p.leader.username)
    assert life.number in detail["instructions"] and "{{" not in detail["instructions"]
    assert detail["instructions"].startswith("**验证纠正措施**")
    assert life.number in detail["instructions_html"] and "<strong>" in detail["instructions_html"]
    english = life.call(
        "GET", f"/tasks/{verify['id']}", p.leader.username, headers={"Accept-Language": "en"}
    )
    assert english["instructions"].startswith("**Verify corrections** (")
    assert life.number in english["instructions"]
    assert [nc_id] == list(choices(detail["form_schema"], "verdicts", "[]", "nc_id").values())
    life.complete_in(
        "surveillance",
        "Task_VerifyCorrections",
        p.leader,
        {
            "verdicts": [
                {
                    "nc_id": nc_id,
                    "accepted": True,
                    "method": "documentary",
                    "note": "照片日期与记录一致 photo dates match the records",
                    "onsite_record": None,
                }
            ]
        },
    )

    nc = life.get(f"/nonconformities/{nc_id}", p.client.username)
    assert nc["status"] == "accepted"
    events = [e["event"] for e in life.get(f"/certificates/{life.number}/history")["items"]]
    assert events[-1] == "maintained"
    assert life.get(f"/certificates/{life.number}", p.client.username)["status"] == "valid"
