"""R-7.3 with R-7.2.1–R-7.2.5: a member of the audit team replaced while the audit is planned or
under way — checked with the appointment's own rules, the replaced member's plan work passed on,
the change kept and a revised appointment letter issued for the client's case
(domain/audit/team_change.py)."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from certflow.db import db
from domain.audit.team_change import replace_member
from domain.errors import RuleViolation
from domain.models import ConflictOfInterest, Document
from tests.audit.test_handlers_audit import AUDITOR, call, make_case, plan_params
from tests.factories import make_auditor
from tests.helpers import handler_context

SCHEDULER = "sam_scheduler"


@pytest.fixture
def under_way(ctx, clock):
    case = make_case(db.session, clock.now(), sites=2)
    call("audit.record_plan", plan_params(case), clock.now())  # both sites: the auditor's
    case.audit.status = "in_progress"
    return case


def newcomer(clock, **given):
    return make_auditor(
        db.session,
        clock.now(),
        name=given.pop("name", "赵审查"),
        username=given.pop("username", "zhao_auditor"),
        registration="CCAA-SC-0199",
        **given,
    )


def replace(clock, case, new_id, replaced_id=None, reason="李审查因病不能继续审查"):
    act = handler_context(db.session, clock.now(), actor=SCHEDULER)
    return replace_member(
        act,
        case.audit.id,
        replaced_auditor_id=replaced_id or case.auditor.id,
        new_auditor_id=new_id,
        reason=reason,
    )


def test_a_member_is_replaced_and_the_work_passes_on(under_way, clock):
    zhao = newcomer(clock)
    result = replace(clock, under_way, zhao.id)

    assert result["replaced"] is True
    assert (result["from_username"], result["to_username"]) == (AUDITOR, "zhao_auditor")
    team = {(m.auditor.name, m.role, m.appointed_by) for m in under_way.audit.team}
    assert team == {
        ("张组长", "leader", "scheduler"),
        ("赵审查", "auditor", SCHEDULER),
        ("王专家", "tech_expert", "scheduler"),
    }
    plan = under_way.audit.plan
    assert {a["auditor_id"] for a in plan["activities"]} == {zhao.id}
    [change] = plan["team_changes"]
    assert (change["from_name"], change["to_name"], change["role"]) == (
        "李审查",
        "赵审查",
        "auditor",
    )
    assert change["reason"] == "李审查因病不能继续审查"
    assert change["activities_passed_on"] == [0, 1]
    assert (change["changed_by"], change["audit_status"]) == (SCHEDULER, "in_progress")
    letter = db.session.get(Document, result["letter_document_id"])
    assert letter.kind == "appointment_letter" and "赵审查" in letter.body
    assert [m["name"] for m in letter.data["members"]] == ["张组长", "赵审查", "王专家"]


def names(result):
    return " ".join(r["zh_CN"] for r in result["refusals"])


def test_the_appointment_rules_refuse_the_replacement_and_nothing_changes(under_way, clock):
    end = under_way.audit.end_date
    lapsing = newcomer(clock, expires=end - timedelta(days=1))
    expert = newcomer(clock, name="钱专家", username="qian_expert", expert=True)
    conflicted = newcomer(clock, name="孙审查", username="sun_auditor")
    db.session.add(
        ConflictOfInterest(
            auditor_id=conflicted.id,
            organisation_id=under_way.organisation.id,
            kind="consulted",
            until=date(end.year - 1, 1, 1),
            note="咨询",
        )
    )
    unqualified = newcomer(clock, name="周审查", username="zhou_auditor")
    before = {m.auditor_id for m in under_way.audit.team}

    for person, rule in [
        (lapsing, "R-7.2.2"),
        (expert, "R-7.2.4"),
        (conflicted, "R-7.2.1(5)"),
    ]:
        result = replace(clock, under_way, person.id)
        assert result["replaced"] is False, person.name
        assert person.name in names(result), person.name
        assert rule in {r["rule"] for r in result["refusals"]}, person.name
    leader_swap = replace(clock, under_way, unqualified.id, replaced_id=under_way.leader.id)
    assert leader_swap["replaced"] is False and "周审查" in names(leader_swap)
    on_team_already = replace(clock, under_way, under_way.leader.id)
    assert on_team_already["replaced"] is False

    assert {m.auditor_id for m in under_way.audit.team} == before
    assert "team_changes" not in under_way.audit.plan
    letters = db.session.scalars(select(Document).where(Document.kind == "appointment_letter"))
    assert letters.all() == []


def test_not_a_member_no_reason_or_a_finished_audit_is_refused(under_way, clock):
    zhao = newcomer(clock)
    with pytest.raises(RuleViolation) as not_member:
        replace(clock, under_way, zhao.id, replaced_id=zhao.id)
    assert not_member.value.field == "replaced_auditor_id"
    with pytest.raises(RuleViolation) as no_reason:
        replace(clock, under_way, zhao.id, reason=" ")
    assert no_reason.value.field == "reason"
    under_way.audit.status = "completed"
    with pytest.raises(RuleViolation) as done:
        replace(clock, under_way, zhao.id)
    assert done.value.rule == "R-7.3"
