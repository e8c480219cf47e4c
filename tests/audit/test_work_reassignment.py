"""R-7.3 在审查进程中…可以改变工作分配 (R-8.5.3: the leader reassigns work): the team leader gives
an activity of the recorded plan to another auditor of the team while the audit is planned or
under way; the change is kept in the plan with who, when and why (domain/audit/reassignment.py)."""

import pytest

from certflow.db import db
from domain.audit.reassignment import reassign_work
from domain.errors import RuleViolation
from tests.audit.test_handlers_audit import AUDITOR, EXPERT, LEADER, call, make_case, plan_params
from tests.helpers import handler_context


@pytest.fixture
def planned(ctx, clock):
    case = make_case(db.session, clock.now(), sites=2)
    call("audit.record_plan", plan_params(case), clock.now())
    return case


def reassign(clock, case, actor=LEADER, **given):
    params = {"activity_index": 1, "auditor_id": case.leader.id, "reason": "李审查生病"}
    params.update(given)
    act = handler_context(db.session, clock.now(), actor=actor)
    return reassign_work(act, case.audit.id, **params)


def test_the_leader_reassigns_an_activity_during_the_audit(planned, clock):
    planned.audit.status = "in_progress"  # the plan itself is frozen now (record_plan)
    with pytest.raises(RuleViolation):
        call("audit.record_plan", plan_params(planned), clock.now())

    entry = reassign(clock, planned)

    plan = planned.audit.plan
    assert [a["auditor_id"] for a in plan["activities"]] == [planned.auditor.id, planned.leader.id]
    assert plan["revision"] == 2
    assert plan["reassignments"] == [entry]
    assert (entry["from_name"], entry["to_name"], entry["reason"]) == (
        "李审查",
        "张组长",
        "李审查生病",
    )
    assert (entry["reassigned_by"], entry["reassigned_at"]) == (LEADER, clock.now().isoformat())
    assert entry["audit_status"] == "in_progress"
    # Back again later: every change is kept.
    reassign(clock, planned, auditor_id=planned.auditor.id, reason="李审查已返回")
    assert [r["to_name"] for r in planned.audit.plan["reassignments"]] == ["张组长", "李审查"]


@pytest.mark.parametrize(
    ("actor", "given", "rule", "field"),
    [
        (AUDITOR, {}, "R-7.3", None),  # only the team leader
        (EXPERT, {}, "R-7.3", None),
        (LEADER, {"auditor_id": "expert"}, "R-7.2.4", "auditor_id"),  # experts never audit
        (LEADER, {"auditor_id": 999999}, "R-7.2.4", "auditor_id"),  # not on the team
        (LEADER, {"activity_index": 0, "auditor_id": "auditor"}, "R-7.3", "auditor_id"),  # same
        (LEADER, {"activity_index": 2}, "R-7.3", "activity_index"),
        (LEADER, {"reason": "  "}, "R-7.3", "reason"),
    ],
)
def test_refused_reassignments(planned, clock, actor, given, rule, field):
    ids = {"expert": planned.expert.id, "auditor": planned.auditor.id}
    given = {
        k: ids.get(v, v) if isinstance(v, str) and k == "auditor_id" else v
        for k, v in given.items()
    }
    with pytest.raises(RuleViolation) as err:
        reassign(clock, planned, actor=actor, **given)
    assert (err.value.rule, err.value.field) == (rule, field)
    assert "reassignments" not in planned.audit.plan


def test_no_reassignment_after_the_audit_or_before_the_plan(ctx, clock):
    case = make_case(db.session, clock.now(), sites=1)
    with pytest.raises(RuleViolation, match="not recorded"):
        reassign(clock, case, activity_index=0)
    call("audit.record_plan", plan_params(case), clock.now())
    case.audit.status = "completed"
    with pytest.raises(RuleViolation) as err:
        reassign(clock, case, activity_index=0)
    assert err.value.rule == "R-7.3"
