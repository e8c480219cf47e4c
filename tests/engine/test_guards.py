"""Task guards of the initial certification (R-7.2.4, R-7.3, R-8.8): who may act on a task."""

import pytest

from certflow.accounts import create_user
from certflow.db import db
from handlers import get_guard
from handlers.registry import GuardContext
from tests.factories import make_application, make_audit, make_auditor, make_organisation

LEADER, AUDITOR, EXPERT, DECIDER, ADMIN = (
    "zhang_leader",
    "li_auditor",
    "wang_expert",
    "tina_technical",
    "ada_admin",
)


@pytest.fixture
def case(ctx, clock):
    """An application with two audits; the leader, auditor and expert are on the first team,
    the admin (also an auditor) on the second; the decider is no auditor at all."""
    now = clock.now()
    session = db.session
    organisation = make_organisation(session, now)
    application = make_application(session, now, organisation)
    leader = make_auditor(
        session, now, name="张组长", username=LEADER, roles=("team_leader",), leader=True
    )
    auditor = make_auditor(session, now, name="李审查", username=AUDITOR, registration="R-2")
    expert = make_auditor(
        session, now, name="王专家", username=EXPERT, roles=("tech_expert",), expert=True
    )
    admin = make_auditor(
        session, now, name="管理员", username=ADMIN, roles=("admin", "auditor"), registration="R-3"
    )
    create_user(
        session, DECIDER, password="pw", roles={"technical_dept"}, display_name="陈决定", now=now
    )
    first = make_audit(
        session,
        now,
        organisation,
        application,
        team=[(leader, "leader"), (auditor, "auditor"), (expert, "tech_expert")],
    )
    second = make_audit(session, now, organisation, application, team=[(admin, "leader")])
    other_application = make_application(session, now, organisation)
    return {
        "application": application,
        "first": first,
        "second": second,
        "other": other_application,
    }


def check(name: str, actor: str, data: dict, roles=("auditor",)) -> str | None:
    guard_fn = get_guard(name)
    return guard_fn(
        GuardContext(
            session=db.session,
            now=None,
            instance_id=1,
            business_key="APP-2026-0001",
            element_id="Task_Guarded",
            actor=actor,
            actor_roles=frozenset(roles),
            data=data,
        )
    )


def test_guards_are_registered() -> None:
    for name in ("appointed_team_leader", "auditor_on_team", "not_on_audit_team"):
        assert get_guard(name) is not None


def test_appointed_team_leader(case) -> None:
    data = {"audit_id": case["first"].id}
    assert check("appointed_team_leader", LEADER, data) is None
    for actor in (AUDITOR, EXPERT, DECIDER, "nobody"):
        reason = check("appointed_team_leader", actor, data)
        assert reason and "R-7.3" in reason and actor in reason
    # leader of another audit of the same application, with the admin role: still refused
    reason = check("appointed_team_leader", ADMIN, data, roles=("admin",))
    assert reason and "team leader" in reason
    assert check("appointed_team_leader", ADMIN, {"audit_id": case["second"].id}) is None
    assert "audit_id" in check("appointed_team_leader", LEADER, {})
    assert check("appointed_team_leader", LEADER, {"audit_id": str(case["first"].id)}) is None


def test_auditor_on_team(case) -> None:
    data = {"audit_id": case["first"].id}
    assert check("auditor_on_team", AUDITOR, data) is None
    assert check("auditor_on_team", LEADER, data) is None
    reason = check("auditor_on_team", EXPERT, data, roles=("tech_expert", "auditor"))
    assert reason and "R-7.2.4" in reason and "technical expert" in reason
    reason = check("auditor_on_team", ADMIN, data, roles=("admin",))
    assert reason and "R-7.2.4" in reason and "not on the audit team" in reason
    assert "R-7.2.4" in check("auditor_on_team", AUDITOR, {"audit_id": None})


def test_not_on_audit_team(case) -> None:
    data = {"application_id": case["application"].id, "audit_id": case["first"].id}
    assert check("not_on_audit_team", DECIDER, data, roles=("technical_dept",)) is None
    assert check("not_on_audit_team", "unknown_user", data) is None
    for actor in (LEADER, AUDITOR, EXPERT):
        reason = check("not_on_audit_team", actor, data, roles=("technical_dept",))
        assert reason and "R-8.8" in reason and actor in reason
    # on the team of the *other* audit of this application: refused, admin or not
    reason = check("not_on_audit_team", ADMIN, data, roles=("admin", "technical_dept"))
    assert reason and "R-8.8" in reason
    # an application none of them audited
    other = {"application_id": case["other"].id}
    assert check("not_on_audit_team", LEADER, other, roles=("technical_dept",)) is None
    assert "R-8.8" in check("not_on_audit_team", DECIDER, {})
