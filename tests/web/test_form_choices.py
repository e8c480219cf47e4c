"""Choices from data (issue 10): the option sources of domain.choices on the real database, the
submit check (`problems`) and the forms that declare them."""

import json
from datetime import timedelta

import pytest

from certflow.accounts import create_user
from certflow.db import db
from domain import choices
from domain.models import AuditTeamMember, ConflictOfInterest, Nonconformity, Site
from handlers import get_handler
from handlers.complaints import register_complaint
from tests.certification_case import PROCESSES
from tests.factories import make_application, make_audit, make_auditor, make_organisation
from tests.helpers import handler_context

AUDITORS = {"source": "auditors"}


@pytest.fixture
def case(ctx, clock):
    now = clock.now()
    org = make_organisation(db.session, now, sites=2)
    application = make_application(db.session, now, org)
    audit = make_audit(db.session, now, org, application)  # on site in 14 and 15 days
    people = {
        "leader": make_auditor(
            db.session, now, name="张组长", registration="CCAA-SC-1001", leader=True
        ),
        "auditor": make_auditor(
            db.session, now, name="李审查", registration="CCAA-SC-1002", fields=()
        ),
        # The registration ends on the first on-site day: before the last one.
        "expiring": make_auditor(
            db.session, now, name="赵到期", registration="CCAA-SC-1003", expires=audit.start_date
        ),
        "unregistered": make_auditor(db.session, now, name="钱无证", registration=None),
        "expert": make_auditor(db.session, now, name="王专家", expert=True),
    }
    db.session.commit()
    return org, application, audit, people


def by_name(found):
    return {choice.label: choice for choice in found}


def codes(choice):
    return [code for code, _ in choice.facts]


def resolve(clock, declaration, data):
    return choices.resolve(db.session, clock.now(), declaration, data)


# -- auditors (R-7.2) -------------------------------------------------------------------------
def test_auditor_options_show_registration_competence_and_leader_qualification(case, clock):
    _, _, audit, people = case
    found = by_name(resolve(clock, AUDITORS, {"audit_id": audit.id}))
    assert set(found) == {"张组长", "李审查", "赵到期", "钱无证", "王专家"}
    leader = found["张组长"]
    assert leader.value == people["leader"].id and leader.enabled
    assert codes(leader) == ["registration", "field_competent", "leader_qualified", "languages"]
    assert dict(leader.facts)["languages"] == {"codes": ["zh"]}  # R-7.2.1(4), HR's record
    until = people["leader"].registration_expires_on.isoformat()
    assert leader.facts[0][1] == {"number": "CCAA-SC-1001", "until": until}
    # Not leader-qualified and not competent for the field: may not audit alone.
    assert codes(found["李审查"]) == ["registration", "not_alone", "languages"]
    assert found["李审查"].enabled
    assert codes(found["王专家"]) == ["technical_expert", "field_competent", "languages"]
    assert found["王专家"].enabled


def test_auditors_the_rules_refuse_are_refused_with_team_appoints_own_reason(case, clock):
    """The disabled reason is the refusal team.appoint gives for that person (one rule)."""
    _, _, audit, people = case
    found = by_name(resolve(clock, AUDITORS, {"audit_id": audit.id}))
    expiring, unregistered = found["赵到期"], found["钱无证"]
    # Team.appoint's own reason, in both languages for the page to choose (issue 10).
    assert expiring.refusal["rule"] == "R-7.2.2" and "赵到期" in expiring.refusal["zh_CN"]
    assert unregistered.refusal["rule"] == "R-7.2.2" and "钱无证" in unregistered.refusal["en"]
    params = {
        "audit_id": audit.id,
        "members": [
            {"auditor_id": people["leader"].id, "role": "leader"},
            {"auditor_id": people["expiring"].id, "role": "auditor"},
            {"auditor_id": people["unregistered"].id, "role": "auditor"},
        ],
        "objectives": "评价", "criteria": "GB/T 27922-2011", "scope_and_boundaries": "总部",
        "onsite_start": audit.start_date.isoformat(),
        "onsite_end": audit.end_date.isoformat(),
    }  # fmt: skip
    result = get_handler("team.appoint")(params, handler_context(db.session, clock.now()))
    assert result["refusals"] == [expiring.refusal, unregistered.refusal]


def test_the_forms_on_site_end_decides_whether_a_registration_is_long_enough(case, clock):
    _, _, audit, _ = case
    one_day = {"audit_id": audit.id, "onsite_end": audit.start_date.isoformat()}
    assert by_name(resolve(clock, AUDITORS, one_day))["赵到期"].enabled
    later = {"audit_id": audit.id, "onsite_end": (audit.end_date + timedelta(3)).isoformat()}
    assert not by_name(resolve(clock, AUDITORS, later))["赵到期"].enabled


def test_audited_before_and_conflict_of_interest_are_shown_as_flags(case, clock):
    org, application, audit, people = case
    now = clock.now()
    earlier = make_audit(
        db.session, now, org, application, team=[(people["auditor"], "auditor")], kind="special"
    )
    assert earlier.id != audit.id
    db.session.add(
        ConflictOfInterest(
            auditor_id=people["leader"].id,
            organisation_id=org.id,
            kind="consulted",
            until=audit.start_date - timedelta(days=100),
        )
    )
    db.session.commit()
    found = by_name(resolve(clock, AUDITORS, {"audit_id": audit.id}))
    assert "audited_before" in codes(found["李审查"])
    assert "conflict_of_interest" in codes(found["张组长"])
    # team.appoint records these flags with the appointment and does not refuse them.
    assert found["李审查"].enabled and found["张组长"].enabled


# -- the team, sites and nonconformities ---------------------------------------------------------
def test_team_member_options_and_the_auditing_members_only(case, clock):
    _, _, audit, people = case
    for person, role in (
        (people["leader"], "leader"),
        (people["auditor"], "auditor"),
        (people["expert"], "tech_expert"),
    ):
        db.session.add(
            AuditTeamMember(
                audit_id=audit.id,
                auditor_id=person.id,
                role=role,
                flags=[],
                appointed_by="s",
                appointed_at=clock.now(),
            )
        )
    db.session.commit()
    everyone = resolve(clock, {"source": "team_members"}, {"audit_id": audit.id})
    assert [c.label for c in everyone] == ["张组长", "李审查", "王专家"]
    assert everyone[2].facts == (("team_role", {"role": "tech_expert"}),)
    auditing = resolve(clock, {"source": "team_members", "auditing": True}, {"audit_id": audit.id})
    # The expert is shown but refused where an auditor is needed, naming the rule.
    assert [c.value for c in auditing if c.enabled] == [people["leader"].id, people["auditor"].id]
    assert auditing[2].value == people["expert"].id and "R-7.2.4" in auditing[2].refusal


def test_site_options_are_the_clients_active_sites_with_their_address(case, clock):
    org, _, audit, _ = case
    closed = Site(organisation_id=org.id, name="已关闭网点", address="旧址", active=False)
    db.session.add(closed)
    db.session.commit()
    found = resolve(clock, {"source": "client_sites"}, {"audit_id": audit.id})
    assert [c.label for c in found] == ["服务网点 1（五四路 1 号）", "服务网点 2（五四路 2 号）"]
    # The new site of a scope extension is audited before it becomes active.
    data = {"audit_id": audit.id, "site_audit": {"site_id": closed.id}}
    found = resolve(clock, {"source": "client_sites"}, data)
    assert found[-1].value == closed.id and found[-1].facts == (("new_site", {}),)


def test_nonconformity_options_follow_what_they_await(case, clock):
    _, _, audit, _ = case
    for number, status in (("NC-1", "confirmed"), ("NC-2", "answered"), ("NC-3", "accepted")):
        db.session.add(
            Nonconformity(
                audit_id=audit.id,
                number=number,
                item_code="5.1.1.1",
                description="未建立售后服务组织架构图 " * 10,
                status=status,
            )
        )
    db.session.commit()
    answer = resolve(
        clock, {"source": "nonconformities", "awaiting": "answer"}, {"audit_id": audit.id}
    )
    verify = resolve(
        clock, {"source": "nonconformities", "awaiting": "verification"}, {"audit_id": audit.id}
    )
    assert [c.label.split()[0] for c in answer] == ["NC-1"]
    assert answer[0].label.startswith("NC-1 5.1.1.1：未建立") and answer[0].label.endswith("…")
    assert [c.label.split()[0] for c in verify] == ["NC-2"]


def test_complaint_handlers_are_the_complaints_role_and_the_involved_are_refused(case, clock):
    org, _, audit, people = case
    now = clock.now()
    involved = create_user(
        db.session, "hu_handler", password="x", roles={"complaints"}, display_name="胡处理", now=now
    )
    create_user(
        db.session, "bo_handler", password="x", roles={"complaints"}, display_name="薄处理", now=now
    )
    create_user(
        db.session,
        "qi_quality",
        password="x",
        roles={"quality_manager"},
        display_name="齐",
        now=now,
    )
    people["auditor"].user_id = involved.id
    db.session.add(
        AuditTeamMember(
            audit_id=audit.id,
            auditor_id=people["auditor"].id,
            role="auditor",
            flags=[],
            appointed_by="s",
            appointed_at=now,
        )
    )
    complaint = register_complaint(
        db.session,
        kind="about_cb",
        channel="staff",
        complainant_name="客户",
        complainant_contact="0591-1",
        subject="审查员态度",
        description="审查员态度不好",
        certificate_number=None,
        actor="mia",
        now=now,
        organisation_id=org.id,
    )
    db.session.commit()
    found = resolve(clock, {"source": "complaint_handlers"}, {"complaint_id": complaint.id})
    assert [c.value for c in found] == ["bo_handler", "hu_handler"]
    assert found[0].enabled and found[0].label == "薄处理（bo_handler）"
    assert found[1].refusal.startswith("R-12") and "involved" in found[1].refusal
    schema = {
        "properties": {"handler": {"type": "string", "x-options": {"source": "complaint_handlers"}}}
    }
    errors = choices.problems(
        db.session, now, schema, {"handler": "qi_quality"}, {"complaint_id": complaint.id}
    )
    assert "does not hold the role" in errors["handler"][0]


# -- the submit check ---------------------------------------------------------------------------
def test_submitted_values_must_be_enabled_options_and_errors_name_the_rule(case, clock):
    _, _, audit, people = case
    schema = json.loads((PROCESSES / "forms" / "appointment.json").read_text())
    submitted = {
        "members": [
            {"auditor_id": people["leader"].id, "role": "leader"},
            {"auditor_id": people["unregistered"].id, "role": "auditor"},
            {"auditor_id": 999_999, "role": "auditor"},
            {"auditor_id": None, "role": "auditor"},
        ],
        "onsite_end": audit.end_date.isoformat(),
    }
    data = {"audit_id": audit.id, **submitted}
    errors = choices.problems(db.session, clock.now(), schema, submitted, data)
    assert set(errors) == {"members/1/auditor_id", "members/2/auditor_id"}
    assert (
        errors["members/1/auditor_id"][0].startswith("规则第7.2.2条")  # the rule in words
        and "钱无证" in errors["members/1/auditor_id"][0]
    )
    assert errors["members/2/auditor_id"][0].startswith("R-7.2.2：999999 ")
    fine = {"members": [{"auditor_id": people["leader"].id, "role": "leader"}]}
    assert choices.problems(db.session, clock.now(), schema, fine, {**data, **fine}) == {}


def test_every_declared_source_is_registered_and_no_form_asks_for_a_typed_id():
    """Issue 10: ids, usernames, sites and nonconformities are chosen, never typed."""
    unregistered, typed = [], []
    for path in sorted((PROCESSES / "forms").glob("*.json")):
        schema = json.loads(path.read_text())
        for pattern, declaration in choices.declared_fields(schema):
            if declaration.get("source") not in choices.source_names():
                unregistered.append(f"{path.name}: {pattern}")
        typed += [f"{path.name}: {name}" for name in _typed_ids(schema)]
    assert unregistered == []
    assert typed == []


def _typed_ids(schema, name=""):
    """Fields that ask for an id or a username: named so, or an array of integers."""
    if not isinstance(schema, dict):
        return
    items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
    scalar = "properties" not in schema
    names_an_id = scalar and (name.endswith("_id") or name in ("site", "handler"))
    integer_list = items.get("type") == "integer" and items.get("format") != "attachment"
    declared = "x-options" in schema or "x-options" in items
    if (names_an_id or integer_list) and not declared and schema.get("format") != "attachment":
        yield name
    for key, sub in (schema.get("properties") or {}).items():
        yield from _typed_ids(sub, key)
    if items:
        yield from _typed_ids(items, "")
